// A workspace grant's redemption on one pooled connection, without the runtime's per-statement path (store-sql
// grants.ts, `FastGrantRedemption` on `PooledWriter`): the contract every store's one-call path keeps (store-contract
// fastGrants.ts), and PostgreSQL's own cases — the time read once its transaction began (an invite that expires
// while the redemption waits for a connection is refused); an interrupted redemption rolled back and waited for; a
// connection lost mid-way handing over to the general path; and real races on one database, each racer on its own
// connection, released together from a lock they all wait on: one grant invite and 16 redeemers, a redemption and
// its minter's demotion or removal, and a redeemer deleted while it redeems. And the batch's one exchange: `BEGIN` and
// its statement sent together under one Sync, the statement inside the transaction `BEGIN` opened.
import { SqlClient } from "@effect/sql"
import { describe, expect } from "@effect/vitest"
import {
  addMember,
  createWorkspace,
  deleteUser,
  EventLog,
  FastGrantRedemption,
  getInvite,
  InviteStore,
  mintInvite,
  redeemInvite,
  removeMember,
  setMemberRole,
  SystemActor,
  type UserId,
  WorkspaceStore
} from "@tessera/domain"
import { Admin, type StorePorts, withAdmin } from "@tessera/store-contract"
import { off } from "@tessera/store-contract/direct"
import { type FastAnswers, fastGrantContract, grantsAtOnce, scene, type Scene } from "@tessera/store-contract/fastGrants"
import { watchingFastGrants } from "@tessera/store-contract/watchingFastGrants"
import { lastSeq, person } from "@tessera/store-contract/fixtures"
import { type AsyncConnection, FastGrantRedemptionLive, migrateUp, PooledWriter, PoolUsage } from "@tessera/store-sql"
import { meterStatements } from "@tessera/store-sql/meter"
import { Cause, Clock, type Context, Deferred, Effect, Either, Exit, Fiber, Layer, Option, TestClock } from "effect"
import { dialect, layer as pgLayer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"
import { Socket } from "node:net"
import { holding, until } from "./locks.js"

const CONNECTIONS = 20
const REDEEMERS = 16
const GROUPED = 60

const answers: FastAnswers = { some: 0, none: 0 }

const store = withAdmin(
  freshDatabaseLayer((url) =>
    Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
      Layer.provideMerge(pgLayer({ url, maxConnections: CONNECTIONS })),
      (layer) => watchingFastGrants(layer, (committed) => void answers[committed ? "some" : "none"]++),
      Layer.orDie
    )
  )
)


/** Backends of this database waiting for a lock. */
const lockWaiters = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock'`).pipe(
    Effect.map((rows) => rows[0]!.n),
    Effect.orDie
  )


/**
 * Holds `lock` (a locking statement) in a transaction of its own until `waiters` backends wait for a lock, then
 * commits: `racers`, started meanwhile outside any transaction with the tracer off, all queue on it and are
 * released together. Their outcomes, in order.
 */
const behind = <R>(
  lock: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>,
  waiters: number,
  racers: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string }, R>>
) =>
  Effect.gen(function*() {
    const release = yield* holding(lock)
    const running = yield* Effect.forEach(racers, (racer) => Effect.fork(Effect.either(off(racer))))
    yield* until(lockWaiters, waiters)
    yield* release
    return (yield* Fiber.joinAll(running)).map((r) => (Either.isRight(r) ? "ok" : r.left._tag))
  })

const membersOf = (s: Scene) =>
  Effect.map(Effect.flatMap(WorkspaceStore, (w) => w.findById(s.team)), (w) => Option.getOrThrow(w).members)

/** Every connection of the pool held by a transaction, all of them held when this returns; the effect returned ends them. */
const everyConnectionHeld = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const pool = yield* PoolUsage
  const release = yield* Deferred.make<void>()
  const holders = yield* Effect.forEach(
    Array.from({ length: CONNECTIONS }),
    () => Effect.fork(sql.withTransaction(Effect.zipRight(sql`SELECT 1`, Deferred.await(release))))
  )
  yield* until(Effect.sync(() => pool.read().inUse), CONNECTIONS)
  return Effect.zipRight(Deferred.succeed(release, undefined), Fiber.joinAll(holders))
})

/** The scene's minter's row, held exclusively. */
const minterRow = (s: Scene) => (sql: SqlClient.SqlClient) => sql`SELECT id FROM users WHERE id = ${s.minted.invite.created_by} FOR UPDATE`

const plain = () => scene({ caller: "active", minter: "team admin", invite: "pending", alreadyMember: false })

fastGrantContract("pg: a workspace grant redeemed on one pooled connection", store, answers, meterStatements, (it) => {
  describe("the time it redeems at", () => {
    it.effect("is read once its transaction began: an invite that expires while it waits for a connection is refused", () =>
      Effect.gen(function*() {
        const s = yield* plain()
        const pool = yield* PoolUsage
        const release = yield* everyConnectionHeld
        const redeeming = yield* Effect.fork(Effect.either(off(redeemInvite(s.caller.principal, s.minted.token))))
        yield* until(Effect.sync(() => pool.read().waiting), 1)
        // the invite's time runs out while it waits (the default lifetime is at most a few weeks)
        yield* TestClock.adjust("400 days")
        const { some } = answers
        yield* release
        const answer = yield* Fiber.join(redeeming)
        expect(Either.isLeft(answer) ? answer.left._tag : "redeemed").toBe("InviteExpired")
        expect(answers.some).toBe(some)
        const { principal: admin } = yield* Admin
        expect((yield* getInvite(admin, s.minted.invite.id)).status).toBe("expired")
        expect((yield* membersOf(s)).some((m) => m.user_id === s.caller.id)).toBe(false)
      }))
  })

  describe("interrupted, or its connection lost", () => {
    it.effect("interrupted while it waits on a lock: its statement cancelled, rolled back, its connection closed, at once", () =>
      Effect.gen(function*() {
        const s = yield* plain()
        const pool = yield* PoolUsage
        const seq = yield* lastSeq
        // the minter's row held exclusively: the claim applies, then its statement waits to hold the minter
        const release = yield* holding(minterRow(s))
        const redeeming = yield* Effect.fork(off(redeemInvite(s.caller.principal, s.minted.token)))
        yield* until(lockWaiters, 1)
        // returns while the lock is still held: the statement was cancelled, not waited out
        yield* Fiber.interrupt(redeeming)
        expect(pool.read().inUse).toBe(1)
        yield* release
        // nothing of it kept
        const { principal: admin } = yield* Admin
        expect((yield* getInvite(admin, s.minted.invite.id)).status).toBe("pending")
        expect((yield* membersOf(s)).some((m) => m.user_id === s.caller.id)).toBe(false)
        expect(yield* lastSeq).toBe(seq)
        expect(pool.read().inUse).toBe(0)
        // and the invite still redeems
        expect((yield* off(redeemInvite(s.caller.principal, s.minted.token))).status).toBe("redeemed")
      }))

    it.effect("interrupted while it waits for a connection: it stops waiting at once, and begins nothing when one comes", () =>
      Effect.gen(function*() {
        const s = yield* plain()
        const pool = yield* PoolUsage
        const seq = yield* lastSeq
        const release = yield* everyConnectionHeld
        const redeeming = yield* Effect.fork(off(redeemInvite(s.caller.principal, s.minted.token)))
        yield* until(Effect.sync(() => pool.read().waiting), 1)
        yield* Fiber.interrupt(redeeming)
        yield* release
        yield* until(Effect.sync(() => pool.read().inUse === 0 && pool.read().waiting === 0 ? 1 : 0), 1)
        const { principal: admin } = yield* Admin
        expect((yield* getInvite(admin, s.minted.invite.id)).status).toBe("pending")
        expect(yield* lastSeq).toBe(seq)
      }))

    it.effect("no connection to be had: everyone waiting for it answered with the failure after one attempt, none retried", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        let attempts = 0
        // a pool with no connection free that cannot open one either (the server refuses it)
        const refusing: Context.Tag.Service<PooledWriter> = {
          free: () => false,
          lend: () => {
            attempts++
            return new Promise((_, reject) => setTimeout(() => reject(new Error("connection refused")), 5))
          }
        }
        const fast = yield* Effect.provide(
          Effect.map(Effect.serviceOption(FastGrantRedemption), Option.getOrThrow),
          FastGrantRedemptionLive.pipe(Layer.provide(Layer.mergeAll(Layer.succeed(SqlClient.SqlClient, sql), Layer.succeed(PooledWriter, refusing))))
        )
        const answers = yield* Effect.forEach(
          [1, 2, 3],
          (i) => Effect.exit(off(fast.redeemWorkspaceGrant(`usr_${i}` as UserId, `digest ${i}`, () => null))),
          { concurrency: "unbounded" }
        ).pipe(Effect.timeout("10 seconds"), Effect.withClock(Clock.make()))
        expect(answers.map((answer) => Exit.isFailure(answer) && Cause.isDie(answer.cause))).toEqual([true, true, true])
        expect(attempts).toBe(1)
      }))

    it.effect("its connection lost while it waits on a lock: the general path redeems afresh", () =>
      Effect.gen(function*() {
        const s = yield* plain()
        const sql = yield* SqlClient.SqlClient
        const release = yield* holding(minterRow(s))
        const before = { ...answers }
        const redeeming = yield* Effect.fork(off(redeemInvite(s.caller.principal, s.minted.token)))
        yield* until(lockWaiters, 1)
        yield* sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE datname = current_database() AND wait_event_type = 'Lock'`
        yield* release
        expect((yield* Fiber.join(redeeming)).status).toBe("redeemed")
        expect(answers).toEqual({ some: before.some, none: before.none + 1 })
        expect((yield* membersOf(s)).filter((m) => m.user_id === s.caller.id).map((m) => m.role)).toEqual(["member"])
      }))
  })

  describe("real races, each racer on its own connection", () => {
    it.effect(`one grant invite, ${REDEEMERS} redeemers released together: exactly one becomes a member, in one call`, () =>
      Effect.gen(function*() {
        for (let round = 0; round < 3; round++) {
          const s = yield* plain()
          const { principal: admin } = yield* Admin
          const redeemers = yield* Effect.all(Array.from({ length: REDEEMERS }, () => person(admin)))
          const seq = yield* lastSeq
          const { some } = answers
          const outcomes = yield* behind(
            (sql) => sql`SELECT id FROM invites WHERE id = ${s.minted.invite.id} FOR UPDATE`,
            REDEEMERS,
            redeemers.map((r) => redeemInvite(r.principal, s.minted.token))
          )
          expect(outcomes.filter((o) => o === "ok")).toHaveLength(1)
          expect(outcomes.filter((o) => o !== "ok")).toEqual(Array<string>(REDEEMERS - 1).fill("InviteAlreadyRedeemed"))
          expect(answers.some - some).toBe(1)
          const winner = redeemers[outcomes.indexOf("ok")]!.id
          const joined = (yield* membersOf(s)).filter((m) => redeemers.some((r) => r.id === m.user_id)).map((m) => m.user_id)
          expect(joined).toEqual([winner])
          const stored = Option.getOrThrow(yield* Effect.flatMap(InviteStore, (i) => i.findById(s.minted.invite.id)))
          expect([stored.status, stored.redeemed_by]).toEqual(["redeemed", winner])
          const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: seq, limit: 1000 }))
          expect(events.map((e) => [e.type, e.data["user_id"] ?? e.data["redeemed_by"]])).toEqual([
            ["invite.redeemed", winner],
            ["workspace.member_added", winner]
          ])
        }
      }))

    it.effect("a redemption released together with its minter's demotion or removal (10 rounds): it grants only if it committed first", () =>
      Effect.gen(function*() {
        const wrong: Array<unknown> = []
        for (let round = 0; round < 10; round++) {
          const { principal: admin } = yield* Admin
          const [owner, minter, caller] = yield* Effect.all([person(admin), person(admin), person(admin)])
          const team = (yield* createWorkspace(owner!.principal, { name: "minter loss" })).id
          yield* addMember(owner!.principal, team, minter!.id, "admin")
          const { token } = yield* mintInvite(minter!.principal, { kind: "grant", workspace_id: team, workspace_role: "member" })
          const seq = yield* lastSeq
          const lose = round % 2 === 0 ? setMemberRole(owner!.principal, team, minter!.id, "member") : removeMember(owner!.principal, team, minter!.id)
          const [redeemed, lost] = yield* behind<StorePorts>(
            (sql) => sql`SELECT id FROM workspaces WHERE id = ${team} FOR UPDATE`,
            2,
            [redeemInvite(caller!.principal, token), lose]
          )
          const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: seq, limit: 100 }))
          const at = (type: string) => events.find((e) => e.type === type)?.seq
          const lossAt = at(round % 2 === 0 ? "workspace.member_role_changed" : "workspace.member_removed")
          const redeemedAt = at("invite.redeemed")
          const member = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (w) => w.findById(team))).members.some((m) => m.user_id === caller!.id)
          const fine = lost === "ok" && lossAt !== undefined && (redeemed === "ok"
            ? redeemedAt !== undefined && redeemedAt < lossAt && member
            : redeemed === "InviteCanceled" && redeemedAt === undefined && !member)
          if (!fine) wrong.push({ round, redeemed, lost, redeemedAt, lossAt, member })
        }
        expect(wrong).toEqual([])
      }))

    it.effect("a redeemer deleted while it redeems (10 rounds): whoever goes first, no membership of a deleted user remains", () =>
      Effect.gen(function*() {
        const seen: Array<string> = []
        for (let round = 0; round < 10; round++) {
          const s = yield* plain()
          const outcomes = yield* behind<StorePorts>(
            (sql) => sql`SELECT id FROM users WHERE id = ${s.caller.id} FOR UPDATE`,
            2,
            [redeemInvite(s.caller.principal, s.minted.token), deleteUser(SystemActor, s.caller.id, Option.none())]
          )
          expect(outcomes[1]).toBe("ok")
          expect((yield* membersOf(s)).some((m) => m.user_id === s.caller.id)).toBe(false)
          seen.push(outcomes[0]!)
        }
        // the redemption lost (its caller gone) or won (and the deletion then removed the membership)
        expect(seen.filter((o) => o !== "ok" && o !== "Unauthenticated")).toEqual([])
      }))
  })

  describe("BEGIN and the batch's statement in one exchange", () => {
    /** `use` on a connection `PooledWriter` lends (a service the store provides beside its ports, found as the layer finds it). */
    const lent = <A>(use: (connection: AsyncConnection) => Promise<A>) =>
      Effect.flatMap(
        Effect.map(Effect.serviceOption(PooledWriter), Option.getOrThrow),
        (pooled) => Effect.promise(() => pooled.lend(use, new AbortController().signal))
      )

    it.effect("the statement runs inside the transaction BEGIN opened: rolled back, it leaves nothing", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE begun_probe (n INT NOT NULL)`
        // with parameters, and without (which node-postgres would otherwise send by the simple protocol, alone)
        const rows = yield* lent(async (connection) => {
          const inserted = await connection.begin("INSERT INTO begun_probe VALUES ($1) RETURNING n", [7])
          await connection.query("ROLLBACK", [])
          const bare = await connection.begin("INSERT INTO begun_probe VALUES (8) RETURNING n", [])
          await connection.query("ROLLBACK", [])
          return [...inserted, ...bare]
        })
        expect(rows).toEqual([{ n: 7 }, { n: 8 }])
        // sent on its own, the insert would have committed by itself, and ROLLBACK found no transaction
        expect(yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM begun_probe`).toEqual([{ n: 0 }])
        yield* sql`DROP TABLE begun_probe`
      }))

    it.effect("a named statement that fails to parse is parsed again next time, not taken as known since BEGIN parsed", () =>
      Effect.gen(function*() {
        // a hot statement's marker (sent named, parsed once per connection) on a text the server refuses to parse
        const text = "/* tessera:prepare begun_probe */ SELEC $1::int"
        const errors = yield* lent(async (connection) => {
          const tries: Array<string> = []
          for (let i = 0; i < 2; i++) {
            tries.push(await connection.begin(text, [i]).then(() => "ran", (e: { message: string }) => e.message))
            await connection.query("ROLLBACK", [])
          }
          return tries
        })
        // the second is refused for what it says, not for a statement the connection never had
        expect(errors).toHaveLength(2)
        for (const error of errors) expect(error).toMatch(/syntax error/)
      }))

    it.effect("one Sync for both, after the statement: a BEGIN that fails runs nothing after it", () =>
      Effect.gen(function*() {
        // the message types written while the exchange is sent (type byte, then a length that counts itself)
        const types: Array<string> = []
        const write = Socket.prototype.write
        Socket.prototype.write = function(this: Socket, chunk: unknown, ...rest: Array<any>) {
          if (Buffer.isBuffer(chunk)) {
            for (let at = 0; at + 5 <= chunk.length; at += 1 + chunk.readInt32BE(at + 1)) types.push(String.fromCharCode(chunk[at]!))
          }
          return (write as (...a: Array<unknown>) => boolean).call(this, chunk, ...rest)
        } as typeof write
        const rows = yield* Effect.ensuring(
          lent((connection) =>
            connection.begin("SELECT $1::int AS n", [3]).finally(() => {
              Socket.prototype.write = write
              return connection.query("ROLLBACK", [])
            })
          ),
          Effect.sync(() => (Socket.prototype.write = write))
        )
        expect(rows).toEqual([{ n: 3 }])
        // BEGIN parsed, bound and executed; the statement (parsed unless named and known) bound, described, executed;
        // then the only Sync: an error before it makes the server skip everything up to it
        expect(types.filter((t) => t !== "P")).toEqual(["B", "E", "B", "D", "E", "S"])
        expect(types[0]).toBe("P")
      }))
  })

  describe("grouped", () => {
    it.effect(`${GROUPED} redemptions at once on a pool of ${CONNECTIONS}: those that waited for a connection share transactions, every one a member`, () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        // each member's insert noted with its transaction, by a trigger of this test's own
        yield* sql`CREATE TABLE member_xacts (workspace_id TEXT NOT NULL, user_id TEXT NOT NULL, xact BIGINT NOT NULL)`
        yield* sql.unsafe(`CREATE FUNCTION note_member_xact() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN INSERT INTO member_xacts VALUES (NEW.workspace_id, NEW.user_id, txid_current()); RETURN NEW; END $$`)
        yield* sql.unsafe(`CREATE TRIGGER note_member_xact AFTER INSERT ON workspace_members FOR EACH ROW EXECUTE FUNCTION note_member_xact()`)
        const noted = Effect.gen(function*() {
          const { minter, team, redeemAll, strangers } = yield* grantsAtOnce(GROUPED)
          const { some } = answers
          expect((yield* redeemAll).filter(Either.isLeft)).toEqual([])
          expect(answers.some - some).toBe(GROUPED)
          expect(yield* strangers).toEqual([])
          const rows = yield* sql<{ user_id: string; xact: string }>`SELECT user_id, xact FROM member_xacts WHERE workspace_id = ${team}`
          // the callers, and the minter who created the team
          expect(rows).toHaveLength(GROUPED + 1)
          return new Set(rows.filter((r) => r.user_id !== minter.id).map((r) => r.xact)).size
        })
        const transactions = yield* Effect.ensuring(
          noted,
          Effect.orDie(sql.unsafe(`DROP TRIGGER note_member_xact ON workspace_members; DROP FUNCTION note_member_xact(); DROP TABLE member_xacts`))
        )
        // at most one transaction per connection for those that found one free; the rest waited, and shared
        expect(transactions).toBeLessThan(GROUPED)
        expect(transactions).toBeGreaterThan(0)
      }))
  })
})
