// The check's walk straight on a pooled connection (`DirectStatements`, `hotStatement` in store-sql): taken only
// with the tracer off, outside a transaction and with no statement transformer, and then the same answers as
// through `SqlClient`; with the tracer on it keeps its `sql.execute` span, in a transaction it runs on the
// transaction's connection, `meterStatements` still counts it; a failed or interrupted statement gives its
// connection back (docs/operations.md#logs-traces-and-metrics, docs/performance.md#the-check-path).
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { check, SystemActor } from "@tessera/domain"
import { withAdmin } from "@tessera/store-contract"
import { countingStatements } from "@tessera/store-contract/checks"
import { counted, type DirectCount, hotReadsAgree, directRuns as runsOf, directScene, off } from "@tessera/store-contract/direct"
import { DirectStatements, HotReads, migrateUp, PortsLive } from "@tessera/store-sql"
import { meterStatements } from "@tessera/store-sql/meter"
import { Context, Effect, Fiber, Layer } from "effect"
import { clientLayer, dialect, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

const count: DirectCount = { n: 0 }
const directRuns = runsOf(count)

const store = withAdmin<never, SqlClient.SqlClient | DirectStatements>(freshDatabaseLayer((url) => {
  const client = Layer.map(clientLayer({ url, maxConnections: 1 }), (context) =>
    Context.add(context, DirectStatements, counted(Context.get(context, DirectStatements), count)))
  return Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
    Layer.provideMerge(PortsLive.pipe(Layer.provideMerge(client))),
    Layer.orDie
  )
}))

const scene = Effect.map(directScene, ({ checks }) => checks)

layer(store, { timeout: "120 seconds" })("pg: the check's walk straight on the pool", (it) => {
  describe("without the runtime (HotReads, for the HTTP direct routes)", () => {
    it.effect("the same answers as the use cases, one direct statement each; a revoked owner is gone at once", () =>
      hotReadsAgree(HotReads, count))
  })

  describe("when it is taken", () => {
    it.effect("tracer off, no transaction: every check goes direct, with the answers SqlClient's path gives", () =>
      Effect.gen(function*() {
        const checks = yield* scene
        for (const c of checks) {
          const traced = yield* check(SystemActor, [c])
          const { result, direct } = yield* directRuns(off(check(SystemActor, [c])))
          expect(direct).toBe(1)
          expect(result).toEqual(traced)
        }
        const { result: batch, direct } = yield* directRuns(off(check(SystemActor, checks)))
        expect(direct).toBe(1)
        expect(batch).toEqual(yield* check(SystemActor, checks))
        expect(batch.some((a) => a.allowed) && batch.some((a) => !a.allowed)).toBe(true)
      }))

    it.effect("tracer on: SqlClient's path, one sql.execute span per check", () =>
      Effect.gen(function*() {
        const checks = (yield* scene).slice(0, 10)
        for (const c of checks) {
          const { result: { statements }, direct } = yield* directRuns(countingStatements(check(SystemActor, [c])))
          expect([statements, direct]).toEqual([1, 0])
        }
      }))

    it.effect("in a transaction: on the transaction's connection (the pool's only one), never direct", () =>
      Effect.gen(function*() {
        const checks = (yield* scene).slice(0, 10)
        const sql = yield* SqlClient.SqlClient
        // with one connection, a direct statement would wait for the transaction that waits for it
        const { result, direct } = yield* directRuns(off(sql.withTransaction(check(SystemActor, checks))))
        expect(direct).toBe(0)
        expect(result).toEqual(yield* check(SystemActor, checks))
      }))

    it.effect("under meterStatements: counted, never direct", () =>
      Effect.gen(function*() {
        const checks = (yield* scene).slice(0, 10)
        const { result: { counts }, direct } = yield* directRuns(off(meterStatements(check(SystemActor, checks))))
        expect([counts.statements, direct]).toEqual([1, 0])
      }))
  })

  describe("its connection", () => {
    it.effect("a failed statement is a SqlError and gives the connection back", () =>
      Effect.gen(function*() {
        const direct = yield* DirectStatements
        const failed = yield* Effect.flip(direct.run("SELECT 1 / $1::int AS n", [0]))
        expect(failed._tag).toBe("SqlError")
        expect(yield* direct.run("SELECT $1::int AS n", [2])).toEqual([{ n: 2 }])
      }))

    it.effect("an interrupted statement frees the connection once it ends", () =>
      Effect.gen(function*() {
        const direct = yield* DirectStatements
        const sleeping = yield* Effect.fork(direct.run("SELECT pg_sleep(0.3) AS slept", []))
        yield* Effect.promise(() => new Promise((started) => setTimeout(started, 50))) // the test clock would never move
        yield* Fiber.interrupt(sleeping)
        // the pool's one connection: this waits for the sleep to end, then runs
        expect(yield* direct.run("SELECT $1::int AS n", [3])).toEqual([{ n: 3 }])
        const sql = yield* SqlClient.SqlClient
        expect(yield* sql`SELECT 1 AS one`.pipe(Effect.orDie)).toEqual([{ one: 1 }])
      }))
  })
})
