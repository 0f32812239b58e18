// The hottest reads on the SQLite store's second connection (`reader.ts`, `hotStatement` in store-sql): taken only
// with the tracer off, outside a transaction and with no statement transformer, and then the same answers as
// through `SqlClient`; they see every commit at once and never a transaction's uncommitted rows, do not wait for
// the store's one connection, and cannot write (docs/performance.md#the-check-path).
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { authenticate, check, type CheckRequest, SystemActor } from "@tessera/domain"
import { withAdmin } from "@tessera/store-contract"
import { countingStatements } from "@tessera/store-contract/checks"
import { counted, type DirectCount, hotReadsAgree, directRuns as runsOf, directScene as scene, off } from "@tessera/store-contract/direct"
import { DirectStatements, HotReads, migrateUp, PortsLive } from "@tessera/store-sql"
import { meterStatements } from "@tessera/store-sql/meter"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Deferred, Effect, Fiber, Layer, Option } from "effect"
import { connectionsLayer, dialect, migrations } from "../src/index.js"

const count: DirectCount = { n: 0 }
const directRuns = runsOf(count)

const connections = Layer.map(connectionsLayer(join(mkdtempSync(join(tmpdir(), "tessera-direct-")), "tessera.db")), (context) =>
  Context.add(context, DirectStatements, counted(Context.get(context, DirectStatements), count)))

const store = withAdmin<never, SqlClient.SqlClient | DirectStatements>(
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(PortsLive.pipe(Layer.provideMerge(connections))), Layer.orDie)
)

layer(store, { timeout: "120 seconds" })("sqlite: the hottest reads on a second connection", (it) => {
  describe("without the runtime (HotReads, for the HTTP direct routes)", () => {
    it.effect("the same answers as the use cases, one direct statement each; a revoked owner is gone at once", () =>
      hotReadsAgree(HotReads, count))
  })

  describe("when they are taken", () => {
    it.effect("tracer off, no transaction: every check and key lookup goes direct, with SqlClient's answers", () =>
      Effect.gen(function*() {
        const { checks, member } = yield* scene
        for (const c of checks) {
          const traced = yield* check(SystemActor, [c])
          const { direct, result } = yield* directRuns(off(check(SystemActor, [c])))
          expect(direct).toBe(1)
          expect(result).toEqual(traced)
        }
        const { direct, result: batch } = yield* directRuns(off(check(SystemActor, checks)))
        expect(direct).toBe(1)
        expect(batch).toEqual(yield* check(SystemActor, checks))
        expect(batch.some((a) => a.allowed) && batch.some((a) => !a.allowed)).toBe(true)
        const owner = yield* directRuns(off(authenticate(member.apiKey)))
        expect(owner.direct).toBe(1)
        expect(owner.result).toEqual(yield* authenticate(member.apiKey))
      }))

    it.effect("tracer on, in a transaction or under meterStatements: SqlClient's path, never direct", () =>
      Effect.gen(function*() {
        const { checks } = yield* scene
        const some = checks.slice(0, 10)
        const sql = yield* SqlClient.SqlClient
        const traced = yield* directRuns(countingStatements(check(SystemActor, some)))
        expect([traced.result.statements, traced.direct]).toEqual([1, 0])
        const inTransaction = yield* directRuns(off(sql.withTransaction(check(SystemActor, some))))
        expect(inTransaction.direct).toBe(0)
        expect(inTransaction.result).toEqual(yield* check(SystemActor, some))
        const metered = yield* directRuns(off(meterStatements(check(SystemActor, some))))
        expect([metered.result.counts.statements, metered.direct]).toEqual([1, 0])
      }))
  })

  describe("what they see", () => {
    it.effect("a grant in an open transaction: not seen, and not waited for; seen once it commits", () =>
      Effect.gen(function*() {
        const { ids, stranger } = yield* scene
        const asked: CheckRequest = { user_id: stranger.id, resource_id: ids[4]!, action: "edit" }
        expect(yield* off(check(SystemActor, [asked]))).toEqual([{ allowed: false, role: null }])
        const sql = yield* SqlClient.SqlClient
        const granted = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        // the grant's transaction holds the store's one connection until released
        const writer = yield* Effect.fork(sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO resource_accesses (id, resource_id, user_id, role)
                     VALUES ('acc_0000000000000000000000000000beef', ${ids[4]!}, ${stranger.id}, 'editor')`
          yield* Deferred.succeed(granted, undefined)
          yield* Deferred.await(release)
        })).pipe(Effect.orDie))
        yield* Deferred.await(granted)
        // answered while the connection is held (a turn would wait for ever here), without the uncommitted access
        const during = yield* directRuns(off(check(SystemActor, [asked])))
        expect(during).toEqual({ direct: 1, result: [{ allowed: false, role: null }] })
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(writer)
        const after = yield* directRuns(off(check(SystemActor, [asked])))
        expect(after).toEqual({ direct: 1, result: [{ allowed: true, role: "editor" }] })
      }))

    it.effect("a removed access and a revoked key are refused by the next direct read", () =>
      Effect.gen(function*() {
        const { ids, member } = yield* scene
        const asked: CheckRequest = { user_id: member.id, resource_id: ids[3]!, action: "edit" }
        expect(yield* off(check(SystemActor, [asked]))).toEqual([{ allowed: true, role: "editor" }])
        const sql = yield* SqlClient.SqlClient
        yield* Effect.orDie(sql`DELETE FROM resource_accesses WHERE resource_id = ${ids[3]!} AND user_id = ${member.id}`)
        expect((yield* off(check(SystemActor, [asked])))[0]!.role).not.toBe("editor")
        expect(Option.isSome(yield* Effect.option(off(authenticate(member.apiKey))))).toBe(true)
        yield* Effect.orDie(sql`DELETE FROM api_keys WHERE user_id = ${member.id}`)
        const refused = yield* Effect.flip(off(authenticate(member.apiKey)))
        expect(refused._tag).toBe("Unauthenticated")
      }))
  })

  describe("the connection", () => {
    it.effect("is query-only: a write through it is a SqlError and changes nothing", () =>
      Effect.gen(function*() {
        const direct = yield* DirectStatements
        const sql = yield* SqlClient.SqlClient
        const before = yield* Effect.orDie(sql`SELECT COUNT(*) AS n FROM users`)
        const failed = yield* Effect.flip(direct.run("DELETE FROM users", []))
        expect(failed._tag).toBe("SqlError")
        expect(yield* Effect.orDie(sql`SELECT COUNT(*) AS n FROM users`)).toEqual(before)
        expect(yield* direct.run("SELECT ? AS n", [2])).toEqual([{ n: 2 }])
      }))
  })
})
