/**
 * `FastGrantRedemption` (docs/performance.md, "Redemption in one call (SQLite)" and "(PostgreSQL)"): a
 * workspace grant's redemption as one transaction run without @effect/sql's
 * per-statement path. Its statements are the ports' own compiled texts, run
 * in the order the general path runs them, its rows read by the ports' own
 * readers. What to do with them is the domain's (`plainWorkspaceGrant`):
 * given events, they are appended and the transaction commits; anything
 * else rolls back and answers `None`, and `redeemInvite` takes the general
 * path, which decides afresh and says why.
 *
 * - SQLite (`SyncWriter`): in a single synchronous call within the
 *   process's turn on the file — `InviteStore.claimAs` (the caller, then
 *   the claim), `WorkspaceStore.holdWithMinter`, `addMember`,
 *   `EventLog.append`.
 * - PostgreSQL (`PooledWriter`): on one pooled connection, each statement
 *   awaited by the driver, not the runtime — `InviteStore.claimAs` (one
 *   statement holding the caller, the minter and the workspace),
 *   `WorkspaceStore.readHeldAdding`, `EventLog.append` (queued), then after
 *   commit the numbering every PostgreSQL writer runs
 *   (`numberingAfterCommit`). A statement that fails before `COMMIT` is
 *   sent rolls back (or loses the connection, which the server rolls back)
 *   and answers `None`: the general path then runs afresh, retrying a
 *   deadlock as it does; a failed `COMMIT` (its outcome unknown) or a bug is
 *   a defect, as on the general path. An interrupted redemption waits for
 *   no connection any longer, has its statement under way cancelled, rolls
 *   back, and is waited for.
 *
 * Taken only where the general path would run unobserved: the tracer off,
 * no statement transformer, outside a transaction. Otherwise `None` at
 * once.
 */
import { SqlClient } from "@effect/sql"
import { FastGrantRedemption, type NewEvent, timestampOf, type UserId, type WorkspaceGrantFacts } from "@tessera/domain"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { eventRowsOf, numberedAppendTextsOf, numberedParamsOf, queuedAppendTextsOf, queuedParamsOf } from "./events.js"
import { claimAsTextOf, claimedAsOf, claimTextOf, pendingInvite, trustedUser, userHoldText } from "./identity.js"
import { unobserved } from "./pool.js"
import { numberingAfterCommit } from "./transactor.js"
import { addMemberTextOf, heldAddingOf, heldAddingTextOf, heldRow, minterAndWorkspaceTextOf } from "./workspaces.js"

/** One connection used synchronously: `all` runs a statement and returns its rows (none for a write without `RETURNING`), throwing on failure. */
export interface SyncConnection {
  readonly all: (text: string, params: ReadonlyArray<unknown>) => ReadonlyArray<Record<string, unknown>>
  /** Whether a transaction is open on it (SQLite may have rolled one back itself after a failure). */
  readonly inTransaction: () => boolean
}

type Decide<A> = (facts: WorkspaceGrantFacts, millis: number) => { readonly result: A; readonly events: ReadonlyArray<NewEvent> } | null

/**
 * The store's synchronous write connection, lent for one call: `lend` runs
 * `use` on it while the store's own writes wait (SQLite: within this
 * process's turn on the file), and fails with whatever `use` threw.
 */
export class SyncWriter extends Context.Tag("Tessera/SyncWriter")<SyncWriter, {
  readonly lend: <A>(use: (connection: SyncConnection) => A) => Effect.Effect<A, unknown>
  readonly begin: string
}>() {}

/** One pooled connection used asynchronously: `query` runs a statement and resolves with its rows, rejecting on failure. */
export interface AsyncConnection {
  readonly query: (text: string, params: ReadonlyArray<unknown>) => Promise<ReadonlyArray<Record<string, unknown>>>
}

/**
 * A connection of the store's pool, lent for one call: `lend` runs `use` on
 * it and returns it to the pool when `use` resolves; when `use` rejects, the
 * connection is closed (whatever state it is in), and `lend` rejects too.
 * When `signal` aborts, `lend` stops waiting for a connection (rejecting),
 * or cancels the statement under way (it then fails, and `use` with it).
 */
export class PooledWriter extends Context.Tag("Tessera/PooledWriter")<PooledWriter, {
  readonly lend: <A>(use: (connection: AsyncConnection) => Promise<A>, signal: AbortSignal) => Promise<A>
}>() {}

/** A statement that failed before `COMMIT` was sent: nothing was kept, and the general path may run afresh. */
class BeforeCommit {
  constructor(readonly cause: unknown) {}
}

/** `FastGrantRedemption` on the store's `SyncWriter` or `PooledWriter`; nothing where it has neither. */
export const FastGrantRedemptionLive: Layer.Layer<never, never, SqlClient.SqlClient> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const pooled = yield* Effect.serviceOption(PooledWriter)
    if (pooled._tag === "Some") return pooledRedemption(sql, pooled.value)
    const writer = yield* Effect.serviceOption(SyncWriter)
    if (writer._tag === "None") return Layer.empty
    const { begin, lend } = writer.value
    const actorText = userHoldText(sql)
    const claimText = claimTextOf(sql)
    const minterText = minterAndWorkspaceTextOf(sql)
    const addMemberText = addMemberTextOf(sql)
    const { counterText, eventInserts } = numberedAppendTextsOf(sql)

    const redeemOn = <A>(db: SyncConnection, clock: Clock.Clock, actorId: UserId, digest: string, decide: Decide<A>): Option.Option<A> => {
      // a transaction some earlier failure left open (SQLite may keep one after a failed rollback) is not this one's
      if (db.inTransaction()) db.all("ROLLBACK", [])
      db.all(begin, [])
      let committed = false
      try {
        // the time once the transaction holds the file, as the general path reads it inside its transaction
        const millis = clock.unsafeCurrentTimeMillis()
        const at = timestampOf(millis)
        const actor = Option.map(Option.fromNullable(db.all(actorText, [actorId])[0]), trustedUser)
        if (Option.isNone(actor) || actor.value.status !== "active") return Option.none()
        // redeemed by the caller, with no keys (a grant's)
        const claimed = db.all(claimText, [at, actorId, null, null, digest, "grant", at])[0]
        if (claimed === undefined) return Option.none()
        const invite = pendingInvite(claimed)
        if (invite.workspace_id === null || invite.workspace_role === null || invite.created_by === null) return Option.none()
        const both = db.all(minterText, [invite.created_by, invite.workspace_id])[0]
        if (both === undefined) return Option.none()
        const workspace = heldRow({ is_personal: both.is_personal, role: both.member_role })
        if (workspace.isPersonal) return Option.none()
        const added = db.all(addMemberText, [invite.workspace_id, actorId, invite.workspace_role]).length > 0
        const facts: WorkspaceGrantFacts = {
          actor,
          invite: Option.some(invite),
          minter: Option.some(trustedUser(both)),
          workspace: Option.some(workspace),
          added
        }
        const decided = decide(facts, millis)
        if (decided === null || decided.events.length === 0 || decided.events.length >= eventInserts.length) return Option.none()
        const rows = eventRowsOf(at, decided.events)
        const last = Number(db.all(counterText, [rows.length])[0]!.last_seq)
        const first = last - rows.length + 1
        db.all(eventInserts[rows.length]!, numberedParamsOf(rows, first))
        db.all("COMMIT", [])
        committed = true
        return Option.some(decided.result as A)
      } finally {
        if (!committed && db.inTransaction()) db.all("ROLLBACK", [])
      }
    }

    return Layer.succeed(FastGrantRedemption, {
      redeemWorkspaceGrant: <A>(actorId: UserId, digest: string, decide: Decide<A>) =>
        Effect.withFiberRuntime<Option.Option<A>>((fiber) =>
          unobserved(fiber)
            ? Effect.orDie(lend((db) => redeemOn<A>(db, Context.get(fiber.currentDefaultServices, Clock.Clock), actorId, digest, decide)))
            : Effect.succeed(Option.none())
        )
    })
  })
)

/** PostgreSQL's: the redemption on one pooled connection, then the numbering after commit. */
const pooledRedemption = (sql: SqlClient.SqlClient, pooled: Context.Tag.Service<PooledWriter>) => {
  const claimAsText = claimAsTextOf(sql)
  const heldAddingText = heldAddingTextOf(sql)
  const queueInserts = queuedAppendTextsOf(sql)
  const numbering = numberingAfterCommit(sql)

  const redeemOn = async <A>(
    connection: AsyncConnection,
    clock: Clock.Clock,
    actorId: UserId,
    digest: string,
    decide: Decide<A>,
    wanted: () => boolean
  ): Promise<Option.Option<A>> => {
    // until COMMIT is sent, a failed statement keeps nothing (rolled back, or by the server with its connection)
    let ended = false
    const db: AsyncConnection = {
      query: (text, params) => connection.query(text, params).catch((cause) => Promise.reject(ended ? cause : new BeforeCommit(cause)))
    }
    await db.query("BEGIN", [])
    try {
      // the time once the transaction began, as the general path reads it inside its transaction
      const millis = clock.unsafeCurrentTimeMillis()
      const at = timestampOf(millis)
      // redeemed by the caller, with no keys (a grant's)
      const claimed = claimedAsOf((await db.query(claimAsText, [actorId, at, actorId, null, null, digest, "grant", at]))[0]!)
      if (Option.isNone(claimed.invite) || claimed.minterHeld === null || !wanted()) return Option.none()
      const invite = claimed.invite.value
      const minter = claimed.minterHeld
      if (invite.workspace_id === null || invite.workspace_role === null || minter.id !== invite.created_by) return Option.none()
      const held = heldAddingOf(await db.query(heldAddingText, [minter.id, invite.workspace_id, invite.workspace_id, actorId, invite.workspace_role]))
      const decided = decide({ actor: claimed.actor, invite: claimed.invite, minter: Option.some(minter), ...held }, millis)
      if (decided === null || decided.events.length === 0 || decided.events.length >= queueInserts.length) return Option.none()
      const rows = eventRowsOf(at, decided.events)
      await db.query(queueInserts[rows.length]!, queuedParamsOf(rows))
      // abandoned meanwhile: rolled back, as an interrupted transaction is
      if (!wanted()) return Option.none()
      ended = true
      await db.query("COMMIT", [])
      return Option.some(decided.result as A)
    } finally {
      if (!ended) await db.query("ROLLBACK", [])
    }
  }

  return Layer.succeed(FastGrantRedemption, {
    redeemWorkspaceGrant: <A>(actorId: UserId, digest: string, decide: Decide<A>) =>
      Effect.withFiberRuntime<Option.Option<A>>((fiber) => {
        if (!unobserved(fiber)) return Effect.succeed(Option.none())
        const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
        const redeemed = Effect.async<Option.Option<A>>((resume) => {
          const abandon = new AbortController()
          const settled = pooled.lend((db) => redeemOn(db, clock, actorId, digest, decide, () => !abandon.signal.aborted), abandon.signal).then(
            (answer) => resume(Effect.succeed(answer)),
            // a statement failed before COMMIT: nothing was kept, the general path runs afresh; anything else (COMMIT
            // itself, whose outcome is not known; a bug) is a defect, as on the general path
            (error) => resume(error instanceof BeforeCommit ? Effect.succeed(Option.none()) : Effect.die(error))
          )
          // interrupted: no connection waited for; a statement under way cancelled and the transaction rolled back (or
          // committed, if COMMIT was already sent); waited for
          return Effect.promise(() => {
            abandon.abort()
            return settled
          })
        })
        return Effect.tap(redeemed, (answer) => (Option.isSome(answer) ? numbering : Effect.void))
      })
  })
}
