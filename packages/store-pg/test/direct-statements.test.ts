// The check's walk straight on a pooled connection (`DirectStatements`, `hotStatement` in store-sql): taken only
// with the tracer off, outside a transaction and with no statement transformer, and then the same answers as
// through `SqlClient`; with the tracer on it keeps its `sql.execute` span, in a transaction it runs on the
// transaction's connection, `meterStatements` still counts it; a failed or interrupted statement gives its
// connection back (docs/operations.md#logs-traces-and-metrics, docs/performance.md#the-check-path).
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import {
  addMember,
  authenticate,
  bootstrapAdmin,
  check,
  type CheckRequest,
  createResource,
  createWorkspace,
  grantAccess,
  type Handle,
  type ResourceId,
  revokeResource,
  SystemActor,
  type UserId
} from "@tessera/domain"
import { Admin } from "@tessera/store-contract"
import { countingStatements } from "@tessera/store-contract/checks"
import { ACTIONS, person } from "@tessera/store-contract/fixtures"
import { DirectStatements, migrateUp, PortsLive } from "@tessera/store-sql"
import { meterStatements } from "@tessera/store-sql/meter"
import { Context, Effect, Fiber, Layer, Option } from "effect"
import { clientLayer, dialect, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

/** How many statements went through the store's `DirectStatements`. */
const count = { n: 0 }

const store = freshDatabaseLayer((url) => {
  const client = Layer.map(clientLayer({ url, maxConnections: 1 }), (context) => {
    const direct = Context.get(context, DirectStatements)
    return Context.add(context, DirectStatements, {
      run: (text, params) => Effect.suspend(() => (count.n++, direct.run(text, params)))
    })
  })
  return Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
    Layer.provideMerge(PortsLive.pipe(Layer.provideMerge(client))),
    Layer.orDie
  )
})

/** The store and a system admin (as store-contract's `withAdmin`, keeping the client's services in the type). */
const withAdmin = Layer.effect(
  Admin,
  Effect.gen(function*() {
    const { apiKey } = yield* bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.none() })
    return { principal: yield* authenticate(apiKey), apiKey }
  }).pipe(Effect.orDie)
).pipe(Layer.provideMerge(store))

const off = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.withTracerEnabled(effect, false)
const directRuns = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = count.n
    const result = yield* effect
    return { result, direct: count.n - before }
  })

/** A chain of 6 under a workspace root, a member granted `editor` at depth 3, depth 5 revoked; every user × node. */
const scene = Effect.gen(function*() {
  const { principal: admin } = yield* Admin
  const [owner, member, stranger] = [yield* person(admin), yield* person(admin), yield* person(admin)]
  const workspace = yield* createWorkspace(owner.principal, { name: "direct" })
  yield* addMember(owner.principal, workspace.id, member.id, "member")
  const ids: Array<ResourceId> = []
  for (let k = 0; k < 6; k++) {
    ids.push((yield* createResource(k === 0 ? owner.principal : admin, workspace.id, {
      title: `n${k}`,
      parent_id: ids[k - 1] ?? null,
      link_reach: k === 1 ? "workspace" : "restricted",
      link_role: "reader"
    })).id)
  }
  yield* grantAccess(admin, ids[3]!, member.id, "editor")
  yield* revokeResource(admin, ids[5]!, { dryRun: false })
  const nobody = "usr_0000000000000000000000000000dead" as UserId
  const nothing = "res_0000000000000000000000000000dead" as ResourceId
  return [owner.id, member.id, stranger.id, nobody].flatMap((user_id) =>
    [...ids, nothing].flatMap((resource_id) => ACTIONS.map((action): CheckRequest => ({ user_id, resource_id, action })))
  )
})

layer(withAdmin, { timeout: "120 seconds" })("pg: the check's walk straight on the pool", (it) => {
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
