// Proves on PostgreSQL, each racer on its own connection, that a write making a node n stop being plain (its first
// access, or a share with the workspace) and creations below n cannot leave a new node with a hop that skips n
// (store-sql resources.ts, "Hops"): the write takes the workspace's lock, as creations do. The race is forced, not
// hoped for: the write's rewrite of the hops below n waits on a row the test holds, its snapshot already taken,
// while the creations run. Guarded, they wait for the write and read the hops it rewrote; unguarded, they read the
// old hops (the write has not committed), commit first, and the rewrite, blind to them, leaves them skipping n.
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import {
  addMember,
  check,
  createResource,
  createWorkspace,
  grantAccess,
  patchResource,
  type Principal,
  type ResourceId,
  SystemActor,
  type UserId,
  type WorkspaceId
} from "@tessera/domain"
import { INVARIANTS } from "@tessera/store-contract"
import { newUser } from "@tessera/store-contract/fixtures"
import { migrateUp } from "@tessera/store-sql"
import { Effect, Fiber, Layer, Option } from "effect"
import { dialect, layer as pgLayer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"
import { holding, until } from "./locks.js"

/** New children per plain node, under x and under y. */
const CREATORS = 3

const store = freshDatabaseLayer((url) =>
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
    // the held row, the write, every creator and the test's own probes
    Layer.provideMerge(pgLayer({ url, maxConnections: 2 * CREATORS + 4 })),
    Layer.orDie
  )
)


/** Backends of this database waiting for a row (not, say, for a relation's extension, which passes). */
const rowWaiters = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()
                     AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')`).pipe(
    Effect.map((rows) => rows[0]!.n),
    Effect.orDie
  )


const hopRule = INVARIANTS.find((i) => i.rule === "hop_skips_a_node")!

/** The titles of the nodes of `team` whose hop breaks the rule. */
const skipping = (team: WorkspaceId) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.unsafe<{ title: string }>(
      `SELECT title FROM resources WHERE workspace_id = $1 AND id IN (${hopRule.sql(new Date().toISOString())}) ORDER BY title`,
      [team]
    )).pipe(Effect.map((rows) => rows.map((r) => r.title)), Effect.orDie)

/**
 * A team workspace with the chain root ─ n ─ x ─ y, n, x and y plain; `reader` a member of it with no access (a
 * link shared with the workspace gives them its role) and `outsider` no member at all.
 */
const chain = Effect.gen(function*() {
  const [owner, reader, outsider] = [yield* newUser, yield* newUser, yield* newUser]
  const team = (yield* createWorkspace(owner.principal, { name: "hops" })).id
  yield* addMember(owner.principal, team, reader.user.id, "member")
  const under = (title: string, parent: ResourceId | null) =>
    Effect.map(createResource(owner.principal, team, { title, parent_id: parent }), (r) => r.id)
  const root = yield* under("root", null)
  const n = yield* under("n", root)
  const x = yield* under("x", n)
  const y = yield* under("y", x)
  return { owner: owner.principal, team, reader: reader.user.id, outsider: outsider.user.id, n, x, y }
})

/**
 * Runs `write`, which makes n stop being plain, held in its rewrite of the hops below n (the statement, its
 * snapshot taken, waits on x's row, which the test holds), and meanwhile `CREATORS` creations under x and as many
 * under y; x is released once each creation has committed (unguarded) or waits on the workspace's lock (guarded).
 * `user`'s checked role on each new child, by title, and the nodes whose hop skips a node.
 */
const race = <R>(
  c: { readonly owner: Principal; readonly team: WorkspaceId; readonly x: ResourceId; readonly y: ResourceId },
  write: Effect.Effect<unknown, never, R>,
  user: UserId
) =>
  Effect.gen(function*() {
    // a non-key lock: the creations' foreign key checks on x pass it, the rewrite's update of x does not
    const release = yield* holding((sql) => sql`SELECT id FROM resources WHERE id = ${c.x} FOR NO KEY UPDATE`)
    const writing = yield* Effect.fork(write)
    yield* until(rowWaiters, 1)
    const titles = [...Array.from({ length: CREATORS }, (_, i) => `x${i}`), ...Array.from({ length: CREATORS }, (_, i) => `y${i}`)]
    const creating = yield* Effect.forEach(titles, (title) =>
      Effect.fork(createResource(c.owner, c.team, { title, parent_id: title.startsWith("x") ? c.x : c.y })))
    const settled = Effect.map(Effect.forEach(creating, Fiber.poll), (polls) => polls.filter(Option.isSome).length)
    // the write's wait, and each creation's wait or end
    yield* until(Effect.zipWith(rowWaiters, settled, (waiting, done) => waiting + done), 1 + titles.length)
    yield* release
    yield* Fiber.join(writing)
    const created = yield* Fiber.joinAll(creating)
    const answers = yield* check(SystemActor, created.map((r) => ({ user_id: user, resource_id: r.id, action: "read" as const })))
    return {
      roles: Object.fromEntries(created.map((r, i) => [r.title, answers[i]!.role])),
      skipping: yield* skipping(c.team)
    }
  })

const everyChild = (role: string) => Object.fromEntries(["x", "y"].flatMap((p) => Array.from({ length: CREATORS }, (_, i) => [`${p}${i}`, role])))

layer(store, { excludeTestServices: true, timeout: "120 seconds" })("PostgreSQL hops under concurrent writes", (it) => {
  it.effect(`a first access on n while ${2 * CREATORS} children are created below it: every child's hop stops at n`, () =>
    Effect.gen(function*() {
      const c = yield* chain
      const outcome = yield* race(c, Effect.orDie(grantAccess(c.owner, c.n, c.outsider, "reader")), c.outsider)
      expect(outcome).toEqual({ roles: everyChild("reader"), skipping: [] })
    }))

  it.effect(`n shared with the workspace while ${2 * CREATORS} children are created below it: every child's hop stops at n`, () =>
    Effect.gen(function*() {
      const c = yield* chain
      const outcome = yield* race(c, Effect.orDie(patchResource(c.owner, c.n, { link_reach: "workspace", link_role: "reader" })), c.reader)
      expect(outcome).toEqual({ roles: everyChild("reader"), skipping: [] })
    }))
})
