/**
 * `FastGrantRedemption` (docs/performance.md, "Redemption in one call (SQLite)", "(PostgreSQL)" and "Group
 * commit"): workspace grants' redemptions run without @effect/sql's per-statement path, those that arrive
 * together in one transaction. What to do with what a redemption's statements found is the domain's
 * (`plainWorkspaceGrant`): given events, they are appended and kept; anything else is rolled back and answers
 * `None`, and `redeemInvite` takes the general path, which decides afresh and says why.
 *
 * - SQLite (`SyncWriter`): in synchronous calls within the process's turn on the file, each redemption under a
 *   savepoint of its own in the batch's `BEGIN IMMEDIATE` transaction — the ports' own compiled texts in the
 *   general path's order: the caller, the claim, `WorkspaceStore.holdWithMinter`, `addMember`,
 *   `EventLog.append` (`groupCommit`).
 * - PostgreSQL (`PooledWriter`): on one pooled connection, `BEGIN` and one statement for the whole batch in one
 *   exchange (`AsyncConnection.begin`; `redeemGrantsTextOf`: the callers, the claims, the minters, the workspaces
 *   and the minters' memberships held, the members added, the events queued), `COMMIT` only if every grant it
 *   claimed is the plain success, then after commit the numbering every PostgreSQL writer runs
 *   (`numberingAfterCommit`). A statement that fails before `COMMIT` is sent rolls back (or loses the
 *   connection, which the server rolls back) and answers `None`: the general path then runs afresh, retrying a
 *   deadlock as it does; a failed `COMMIT` (its outcome unknown) or a bug is a defect, as on the general path.
 *   An interrupted redemption waits for no connection any longer; the first of a batch has its statement under
 *   way cancelled, rolled back, and is waited for.
 *
 * Taken only where the general path would run unobserved: the tracer off,
 * no statement transformer, outside a transaction. Otherwise `None` at
 * once.
 */
import { SqlClient } from "@effect/sql"
import { FastGrantRedemption, type NewEvent, timestampOf, type UserId, type WorkspaceGrantFacts } from "@tessera/domain"
import { Clock, Context, Effect, Exit, Layer, Option } from "effect"
import { eventRowsOf, numberedAppendTextsOf, numberedParamsOf } from "./events.js"
import { claimTextOf, pendingInvite, queuedOf, redeemedGrantOf, redeemGrantsTextOf, trustedUser, userHoldText } from "./identity.js"
import { NumberingConnection, unobserved } from "./pool.js"
import { numberingAfterCommit } from "./transactor.js"
import { addMemberTextOf, heldRow, minterAndWorkspaceTextOf } from "./workspaces.js"

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
  /**
   * `BEGIN`, then the statement, in one exchange: a `BEGIN` that fails runs
   * nothing after it (the statement never runs outside the transaction);
   * resolves with the statement's rows.
   */
  readonly begin: (text: string, params: ReadonlyArray<unknown>) => Promise<ReadonlyArray<Record<string, unknown>>>
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
  /** Whether `lend` would find a connection now without waiting for one (an idle one, or room to open one). */
  readonly free: () => boolean
}>() {}

/** Whether the rows a statement queued (`[type, at, actor, workspace_id, resource_id, data]` each) are `rows`, in order. */
const sameRows = (queued: ReadonlyArray<ReadonlyArray<string | null>>, rows: ReturnType<typeof eventRowsOf>) =>
  queued.length === rows.length && rows.every((row, i) => {
    const q = queued[i]!
    return q[0] === row.type && q[1] === row.at && q[2] === row.actor && q[3] === row.workspace_id && q[4] === row.resource_id &&
      q[5] === row.data
  })

/** A statement that failed before `COMMIT` was sent: nothing was kept, and the general path may run afresh. */
class BeforeCommit {
  constructor(readonly cause: unknown) {}
}

/** `FastGrantRedemption` on the store's `SyncWriter` or `PooledWriter`; nothing where it has neither. */
export const FastGrantRedemptionLive: Layer.Layer<never, never, SqlClient.SqlClient> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const pooled = yield* Effect.serviceOption(PooledWriter)
    if (pooled._tag === "Some") return pooledRedemption(sql, pooled.value, yield* Effect.serviceOption(NumberingConnection))
    const writer = yield* Effect.serviceOption(SyncWriter)
    if (writer._tag === "None") return Layer.empty
    const { begin, lend } = writer.value
    const actorText = userHoldText(sql)
    const claimText = claimTextOf(sql)
    const minterText = minterAndWorkspaceTextOf(sql)
    const addMemberText = addMemberTextOf(sql)
    const { counterText, eventInserts } = numberedAppendTextsOf(sql)

    /** One redemption inside the batch's transaction (its savepoint around it): the plain success, or `None`. */
    const redeemOn = <A>(db: SyncConnection, clock: Clock.Clock, actorId: UserId, digest: string, decide: Decide<A>): Option.Option<A> => {
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
      return Option.some(decided.result as A)
    }

    const batches = groupCommit(begin, lend)
    return Layer.succeed(FastGrantRedemption, {
      redeemWorkspaceGrant: <A>(actorId: UserId, digest: string, decide: Decide<A>) =>
        Effect.withFiberRuntime<Option.Option<A>>((fiber) => {
          if (!unobserved(fiber)) return Effect.succeed(Option.none())
          const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
          return batches((db) => redeemOn<A>(db, clock, actorId, digest, decide))
        })
    })
  })
)

/** Redemptions one SQLite transaction takes at most: it holds the file while it runs them. */
const BATCH = 64

/** A redemption waiting for its batch: `run` runs it; `answer` says its batch has run, or that it leads the next. */
interface Waiter {
  readonly run: (db: SyncConnection) => Option.Option<unknown>
  answer: (lead: boolean) => void
  outcome: Exit.Exit<Option.Option<unknown>>
}

/** A redemption's failure after which SQLite had rolled back the whole transaction, every redemption in it with it. */
class TransactionLost {
  constructor(readonly waiter: Waiter, readonly outcome: Exit.Exit<Option.Option<unknown>>) {}
}

/** Not run, or run and not kept: the general path runs it. */
const NOT_KEPT: Exit.Exit<Option.Option<unknown>> = Exit.succeed(Option.none())

/**
 * Group commit on SQLite's `SyncWriter` (docs/performance.md, "Redemption in one call (SQLite)"): the
 * redemptions that arrive while one waits for this process's turn on the file run together, in one transaction
 * of at most `BATCH`, each under a savepoint of its own, and are answered once its `COMMIT` has returned. One
 * that answers `None` (or fails) is rolled back to its savepoint and the others are kept. Should SQLite roll back
 * the whole transaction after a failure, the failed redemption fails and every other in it answers `None` (the
 * general path runs it afresh); a failed `BEGIN`, savepoint or `COMMIT` fails them all, as it fails a single one.
 *
 * The first to arrive leads: it waits for the turn and runs the batch of everyone waiting by then; whoever
 * arrives meanwhile waits for the next batch, led by the first of them. Waiting is not interruptible (a leader
 * that left would strand its batch): a batch is short, and holds the turn as one call does.
 */
const groupCommit = (begin: string, lend: Context.Tag.Service<SyncWriter>["lend"]) => {
  let leading = false
  let waiting: Array<Waiter> = []

  const runBatch = (db: SyncConnection, batch: ReadonlyArray<Waiter>) => {
    // a transaction some earlier failure left open (SQLite may keep one after a failed rollback) is not this one's
    if (db.inTransaction()) db.all("ROLLBACK", [])
    db.all(begin, [])
    let committed = false
    try {
      for (const waiter of batch) {
        db.all("SAVEPOINT redemption", [])
        let outcome: Exit.Exit<Option.Option<unknown>>
        try {
          outcome = Exit.succeed(waiter.run(db))
        } catch (cause) {
          outcome = Exit.die(cause)
        }
        if (!db.inTransaction()) throw new TransactionLost(waiter, outcome)
        if (Exit.isFailure(outcome) || Option.isNone(outcome.value)) db.all("ROLLBACK TO redemption", [])
        db.all("RELEASE redemption", [])
        waiter.outcome = outcome
      }
      db.all("COMMIT", [])
      committed = true
    } finally {
      if (!committed && db.inTransaction()) db.all("ROLLBACK", [])
    }
  }

  /**
   * Runs the next batch (the leader's own redemption first among them), then answers it and hands the lead on.
   * The batch is taken once the turn is held, after a yield that lets redemptions ready to run join it.
   */
  const lead = Effect.suspend(() => {
    let batch: ReadonlyArray<Waiter> = []
    const take = (db: SyncConnection) => {
      batch = waiting.slice(0, BATCH)
      waiting = waiting.slice(BATCH)
      runBatch(db, batch)
    }
    return Effect.ensuring(
      Effect.catchAll(Effect.zipRight(Effect.yieldNow(), lend(take)), (cause) =>
        Effect.sync(() => {
          // nothing of the batch was kept
          for (const waiter of batch) waiter.outcome = cause instanceof TransactionLost ? NOT_KEPT : Exit.die(cause)
          if (cause instanceof TransactionLost) cause.waiter.outcome = cause.outcome
        })),
      Effect.sync(() => {
        const next = waiting[0]
        leading = next !== undefined
        for (const waiter of batch) waiter.answer(false)
        if (next !== undefined) next.answer(true)
      })
    )
  })

  return <A>(run: (db: SyncConnection) => Option.Option<A>): Effect.Effect<Option.Option<A>> =>
    Effect.suspend(() => {
      const waiter: Waiter = { run, answer: () => {}, outcome: NOT_KEPT }
      const turn = Effect.async<boolean>((resume) => {
        waiting.push(waiter)
        if (leading) {
          waiter.answer = (lead) => resume(Effect.succeed(lead))
          return
        }
        leading = true
        resume(Effect.succeed(true))
      })
      return Effect.uninterruptible(Effect.zipRight(
        Effect.flatMap(turn, (leads) => (leads ? lead : Effect.void)),
        Effect.suspend(() => waiter.outcome as Exit.Exit<Option.Option<A>>)
      ))
    })
}

/** A redemption waiting to be taken into a batch on PostgreSQL, then answered with its batch. */
interface PooledWaiter {
  readonly actorId: UserId
  readonly digest: string
  readonly clock: Clock.Clock
  readonly decide: Decide<unknown>
  /** Waiting to be taken; taken into its group's batch; or left before it was taken. */
  state: "waiting" | "taken" | "left"
  /** Its answer once its batch has settled: kept (`Some`), not kept (`None`), or a defect. */
  readonly answer: (outcome: Exit.Exit<Option.Option<unknown>>) => void
}

/** The redemptions that wait for one connection together: its leader waits for it, and the batch is taken then. */
interface Group {
  readonly waiters: Array<PooledWaiter>
  /** Settles once the group's batch has settled (or the group was handed on, or given up). */
  settled: Promise<void>
  /** Stops the wait for a connection, or cancels the batch's statement under way (a new one for each leader). */
  abandon: AbortController
}

/**
 * PostgreSQL's: group commit on pooled connections (docs/performance.md, "Redemption in one call
 * (PostgreSQL)"). A redemption that finds a connection free runs alone; one that must wait for a connection
 * forms a group with those that arrive while it waits; when the connection comes, the group (at most `BATCH`, a
 * caller at most once) is redeemed as one batch: `BEGIN` and one statement for all of it, in one exchange
 * (`redeemGrantsTextOf`), the domain's decision for each, and `COMMIT` only if every grant claimed is the plain
 * success and the events queued are exactly theirs; else `ROLLBACK`, and every one of them takes the general
 * path. A grant not claimed (already redeemed, say) wrote nothing and takes the general path alone. Then, after
 * commit, the numbering every PostgreSQL writer runs.
 *
 * A redemption interrupted while it waits to be taken leaves its group at once (the group's first stops the
 * wait for a connection, which the next still waiting takes up); one taken waits for its batch; an interrupted
 * first of a group taken has the batch's statement cancelled, and the batch rolled back (the others then take
 * the general path).
 */
const pooledRedemption = (
  sql: SqlClient.SqlClient,
  pooled: Context.Tag.Service<PooledWriter>,
  own: Option.Option<Context.Tag.Service<NumberingConnection>>
) => {
  const redeemText = redeemGrantsTextOf(sql)
  const numbering = numberingAfterCommit(sql, own)
  let forming: Group | null = null

  /** The batch on `connection`: each one's outcome, in order (`None` for all when nothing was kept). */
  const redeemBatch = async (connection: AsyncConnection, batch: ReadonlyArray<PooledWaiter>, wanted: () => boolean) => {
    // until COMMIT is sent, a failed statement keeps nothing (rolled back, or by the server with its connection)
    let ended = false
    const beforeCommit = (cause: unknown) => Promise.reject(ended ? cause : new BeforeCommit(cause))
    const noneKept = batch.map(() => Option.none())
    // each one's time as its transaction begins (the general path reads it right after its BEGIN)
    const millis = batch.map((w) => w.clock.unsafeCurrentTimeMillis())
    const ats = millis.map(timestampOf)
    // BEGIN and the statement in one exchange, under one Sync: a BEGIN that failed runs nothing after it
    const begun = connection.begin(redeemText, [batch.map((w) => w.actorId), ats, batch.map((w) => w.digest)])
    try {
      const rows = await begun.catch(beforeCommit)
      if (!wanted() || rows.length !== batch.length) return noneKept
      const outcomes: Array<Option.Option<unknown>> = []
      const expected: Array<ReturnType<typeof eventRowsOf>[number]> = []
      for (let i = 0; i < batch.length; i++) {
        const found = redeemedGrantOf(rows[i]!)
        if (Option.isNone(found.invite)) {
          // nothing claimed, nothing written: the general path says why
          outcomes.push(Option.none())
          continue
        }
        const decided = batch[i]!.decide(found, millis[i]!)
        // a grant claimed that is not the plain success: the whole batch is rolled back
        if (decided === null) return noneKept
        outcomes.push(Option.some(decided.result))
        expected.push(...eventRowsOf(ats[i]!, decided.events))
      }
      // nothing claimed (rolled back: nothing to keep), or other events than theirs queued (kept nothing)
      if (expected.length === 0 || !sameRows(queuedOf(rows[0]!), expected)) return noneKept
      ended = true
      await connection.query("COMMIT", [])
      return outcomes
    } finally {
      if (!ended) await connection.query("ROLLBACK", []).catch(beforeCommit)
    }
  }

  /** Waits for a connection for `group`, takes its batch, redeems it, answers it. */
  const lead = (group: Group) => {
    // the group's first, or the next still waiting after the first left (its wait stopped: a signal aborted)
    if (group.abandon.signal.aborted) group.abandon = new AbortController()
    const { signal } = group.abandon
    let batch: ReadonlyArray<PooledWaiter> = []
    group.settled = pooled.lend((connection) => {
      // taken: whoever arrives from now on forms the next group
      if (forming === group) forming = null
      const seen = new Set<string>()
      const taken: Array<PooledWaiter> = []
      for (const waiter of group.waiters) {
        if (waiter.state !== "waiting") continue
        waiter.state = "taken"
        // a caller at most once in a batch: another of theirs takes the general path
        if (seen.has(waiter.actorId)) waiter.answer(Exit.succeed(Option.none()))
        else (seen.add(waiter.actorId), taken.push(waiter))
      }
      batch = taken
      // everyone left while it waited: nothing to begin
      if (batch.length === 0) return Promise.resolve([])
      return redeemBatch(connection, batch, () => !signal.aborted)
    }, signal).then(
      (outcomes) => batch.forEach((waiter, i) => waiter.answer(Exit.succeed(outcomes[i]!))),
      (error) => {
        if (batch.length === 0) {
          // its first left before a connection came: the next still waiting takes up the wait
          if (signal.aborted && group.waiters.some((w) => w.state === "waiting")) {
            lead(group)
            return
          }
          if (forming === group) forming = null
          // no connection to be had (the server refused one, the pool was closed): a defect for everyone waiting, as
          // it is on the general path, rather than another attempt
          for (const waiter of group.waiters) {
            if (waiter.state !== "waiting") continue
            waiter.state = "taken"
            waiter.answer(Exit.die(error))
          }
          return
        }
        // a statement failed before COMMIT: nothing was kept, the general path runs afresh; anything else (COMMIT
        // itself, whose outcome is not known; a bug) is a defect, as on the general path
        const outcome = error instanceof BeforeCommit ? Exit.succeed(Option.none()) : Exit.die(error)
        for (const waiter of batch) waiter.answer(outcome)
      }
    )
  }

  return Layer.succeed(FastGrantRedemption, {
    redeemWorkspaceGrant: <A>(actorId: UserId, digest: string, decide: Decide<A>) =>
      Effect.withFiberRuntime<Option.Option<A>>((fiber) => {
        if (!unobserved(fiber)) return Effect.succeed(Option.none())
        const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
        const redeemed = Effect.async<Option.Option<A>>((resume) => {
          const waiter: PooledWaiter = {
            actorId,
            digest,
            clock,
            decide,
            state: "waiting",
            answer: (outcome) => resume(outcome as Exit.Exit<Option.Option<A>>)
          }
          let group = forming
          if (group === null || group.waiters.length >= BATCH) {
            group = { waiters: [waiter], settled: Promise.resolve(), abandon: new AbortController() }
            // a connection free now: redeemed alone, at once; none free: the next to arrive join it while it waits
            if (!pooled.free()) forming = group
            lead(group)
          } else group.waiters.push(waiter)
          const mine = group
          // interrupted: not yet taken, it leaves its group at once (the group's first stops the wait for a
          // connection, which the next still waiting takes up); taken, its batch is waited for (the first of the
          // group has the batch's statement cancelled)
          return Effect.promise(() => {
            const first = mine.waiters[0] === waiter
            if (waiter.state === "waiting") {
              waiter.state = "left"
              if (!first) return Promise.resolve()
            }
            if (first) mine.abandon.abort()
            return mine.settled
          })
        })
        return Effect.tap(redeemed, (answer) => (Option.isSome(answer) ? numbering : Effect.void))
      })
  })
}
