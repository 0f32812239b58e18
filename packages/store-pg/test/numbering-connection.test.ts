// The event queue numbered after commits on a connection of the store's own, outside the pool (`NumberingConnection`;
// docs/events.md, "Ordering"): a writer that committed answers with its events in the log even while every pooled
// connection is taken by others' work; a numbering connection that is lost, or abandoned at the numbering's bound (its
// statement cancelled), is replaced by the next run.
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { EventLog, Transactor } from "@tessera/domain"
import { off } from "@tessera/store-contract/direct"
import { migrateUp, NumberingConnection, PoolUsage } from "@tessera/store-sql"
import { Clock, Deferred, Effect, Fiber, Layer, Option } from "effect"
import { dialect, layer as pgLayer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"
import { holding, until } from "./locks.js"

const CONNECTIONS = 3
const NUMBERING_LOCK = 7_350_002

const store = freshDatabaseLayer((url) =>
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
    Layer.provideMerge(pgLayer({ url, maxConnections: CONNECTIONS })),
    Layer.orDie
  )
)

const at = () => new Date().toISOString() as never

/** Events of `type` in the log itself (read as they are: nothing numbered by the read). */
const logged = (type: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE type = ${type}`).pipe(
    Effect.map((rows) => rows[0]!.n),
    Effect.orDie
  )

/** Backends of this database opened as the numbering connection, and whether any waits for a lock. */
const numberingBackends = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<{ pid: number; waiting: boolean }>`SELECT pid, wait_event_type = 'Lock' AS waiting FROM pg_stat_activity
                                          WHERE datname = current_database() AND application_name = 'tessera numbering'`
).pipe(Effect.orDie)

/** A writer's transaction that appends one event of `type`, unobserved (the tracer off, as the server runs without an exporter). */
const appendOne = (type: string) =>
  off(Transactor.run(Effect.flatMap(EventLog, (log) => log.append(at(), [{ type, actor: "system", data: {} }]))))

const own = Effect.map(Effect.serviceOption(NumberingConnection), Option.getOrThrow)

layer(store, { timeout: "60 seconds", excludeTestServices: true })("pg: the numbering's own connection", (it) => {
  describe("a writer that committed", () => {
    it.effect("answers with its events in the log while every pooled connection is taken and more work waits for one", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pool = yield* PoolUsage
        const appended = yield* Deferred.make<void>()
        const commit = yield* Deferred.make<void>()
        // the writer appends and waits, holding one pooled connection
        const writer = yield* Effect.fork(off(Transactor.run(Effect.gen(function*() {
          yield* Effect.flatMap(EventLog, (log) => log.append(at(), [{ type: "test.busy_pool", actor: "system", data: {} }]))
          yield* Deferred.succeed(appended, undefined)
          yield* Deferred.await(commit)
        }))))
        yield* Deferred.await(appended)
        // others take every other connection, and one more waits for the writer's
        const release = yield* Deferred.make<void>()
        const others = yield* Effect.forEach(
          Array.from({ length: CONNECTIONS }),
          () => Effect.fork(sql.withTransaction(Effect.zipRight(sql`SELECT 1`, Deferred.await(release))).pipe(Effect.orDie))
        )
        yield* until(Effect.sync(() => (pool.read().inUse >= CONNECTIONS && pool.read().waiting >= 1 ? 1 : 0)), 1)
        // it commits: its connection goes to the one waiting, and the pool has none left for a numbering
        yield* Deferred.succeed(commit, undefined)
        const answered = yield* Fiber.join(writer).pipe(Effect.timeout("10 seconds"), Effect.withClock(Clock.make()), Effect.option)
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.joinAll(others)
        expect(Option.isSome(answered)).toBe(true)
        expect(yield* logged("test.busy_pool")).toBe(1)
      }))
  })

  describe("its connection", () => {
    it.effect("lost: the next numbering opens another, and the writer's events are in the log when it answers", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* appendOne("test.before_loss")
        const [first] = yield* numberingBackends
        expect(first).toBeDefined()
        yield* sql`SELECT pg_terminate_backend(${first!.pid})`
        yield* until(Effect.map(numberingBackends, (backends) => (backends.some((b) => b.pid === first!.pid) ? 0 : 1)), 1)
        yield* appendOne("test.after_loss")
        expect(yield* logged("test.after_loss")).toBe(1)
        const now = yield* numberingBackends
        expect(now.map((b) => b.pid)).not.toContain(first!.pid)
        expect(now).toHaveLength(1)
      }))

    it.effect("abandoned at its bound: its statement cancelled and its connection closed; the next run opens another", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const numbering = yield* own
        // a queued event, and the numbering's lock held by another transaction
        yield* sql`INSERT INTO event_queue (type, at, actor, data) VALUES ('test.held', ${at()}, 'system', '{}')`
        const unlock = yield* holding((sql) => sql`SELECT pg_advisory_xact_lock(${NUMBERING_LOCK})`)
        const cut = yield* numbering.run.pipe(Effect.timeout("300 millis"), Effect.withClock(Clock.make()), Effect.either)
        expect(cut._tag).toBe("Left")
        // no numbering backend is left waiting for the lock: cancelled and closed
        yield* until(Effect.map(numberingBackends, (backends) => (backends.length === 0 ? 1 : 0)), 1)
        yield* unlock
        expect(yield* logged("test.held")).toBe(0)
        yield* numbering.run
        expect(yield* logged("test.held")).toBe(1)
        expect(yield* numberingBackends).toHaveLength(1)
      }))
  })
})
