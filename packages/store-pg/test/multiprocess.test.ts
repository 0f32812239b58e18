// Proves that on one PostgreSQL database shared by OS processes a workspace grant invite is redeemed exactly once,
// each process redeeming it on one pooled connection (store-sql grants.ts): all of them wait on the invite's row,
// held by this process until every one of them does, and are released together.
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { authenticate, createWorkspace, EventLog, InviteStore, mintInvite, SystemActor, WorkspaceStore } from "@tessera/domain"
import { lastSeq, registerUser } from "@tessera/store-contract/fixtures"
import { startWorker } from "@tessera/store-contract/processes"
import { migrateUp } from "@tessera/store-sql"
import { fileURLToPath } from "node:url"
import { Clock, Context, Deferred, Effect, Fiber, Layer, Option, Redacted, Schedule } from "effect"
import { dialect, layer as pgLayer, migrations } from "../src/index.js"
import { freshDatabase } from "../src/testing.js"

const PROCESSES = 4
const workerScript = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))
const packageDir = fileURLToPath(new URL("..", import.meta.url))

type Result =
  | { outcome: "redeemed"; userId: string; inOneCall: boolean }
  | { outcome: "failed"; tag: string }
  | { outcome: "crashed"; output: string }

/** The fresh database's URL, for the workers. */
class Url extends Context.Tag("test/Url")<Url, Redacted.Redacted<string>>() {}

const store = Layer.unwrapEffect(Effect.map(Url, (url) =>
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(pgLayer({ url, maxConnections: 4 })), Layer.orDie)
)).pipe(Layer.provideMerge(Layer.scoped(Url, freshDatabase)))

layer(store, { timeout: "120 seconds", excludeTestServices: true })("PostgreSQL across processes", (it) => {
  it.effect(`one grant invite, ${PROCESSES} processes redeeming it at once, each on one pooled connection: exactly one succeeds`, () =>
    Effect.gen(function*() {
      const url = Redacted.value(yield* Url)
      const sql = yield* SqlClient.SqlClient
      const minter = yield* registerUser(SystemActor)
      const team = yield* createWorkspace(yield* authenticate(minter.apiKey), { name: "raced" })
      const { invite, token } = yield* mintInvite(yield* authenticate(minter.apiKey), { kind: "grant", workspace_id: team.id, workspace_role: "member" })
      const keys = yield* Effect.forEach(Array.from({ length: PROCESSES }), () => Effect.map(registerUser(SystemActor), (r) => Redacted.value(r.apiKey)))
      const seq = yield* lastSeq
      // the invite's row held until every process waits on it
      const locked = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(sql.withTransaction(Effect.zipRight(
        Effect.zipRight(sql`SELECT id FROM invites WHERE id = ${invite.id} FOR UPDATE`, Deferred.succeed(locked, undefined)),
        Deferred.await(release)
      )))
      yield* Deferred.await(locked)
      const workers = keys.map((key) => startWorker<Result>(workerScript, ["redeem", url, Redacted.value(token), key], packageDir))
      // every worker waiting on the row; a worker that ended before that fails the test with what it said
      const allWaiting = sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
                                WHERE datname = current_database() AND wait_event_type = 'Lock'`.pipe(
        Effect.filterOrFail((rows) => rows[0]!.n >= PROCESSES),
        Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("60 seconds"))),
        Effect.withClock(Clock.make())
      )
      const endedEarly = Effect.flatMap(
        Effect.promise(() => Promise.race(workers.map((w) => w.result))),
        (result) => Effect.dieMessage(`a worker ended before the race: ${JSON.stringify(result)}`)
      )
      yield* Effect.raceFirst(allWaiting, endedEarly)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      const results = yield* Effect.promise(() => Promise.all(workers.map((w) => w.result)))

      expect(results.map((r) => (r.outcome === "failed" ? r.tag : r.outcome)).sort()).toEqual([
        ...Array<string>(PROCESSES - 1).fill("InviteAlreadyRedeemed"),
        "redeemed"
      ])
      const winner = results.find((r) => r.outcome === "redeemed")!
      expect(winner.outcome === "redeemed" && winner.inOneCall).toBe(true)
      const winnerId = winner.outcome === "redeemed" ? winner.userId : ""
      const members = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(team.id))).members
      expect(members.filter((m) => m.user_id !== minter.user.id).map((m) => m.user_id)).toEqual([winnerId])
      const stored = Option.getOrThrow(yield* Effect.flatMap(InviteStore, (s) => s.findById(invite.id)))
      expect([stored.status, stored.redeemed_by]).toEqual(["redeemed", winnerId])
      const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: seq, limit: 100 }))
      expect(events.map((e) => e.type)).toEqual(["invite.redeemed", "workspace.member_added"])
    }))
})
