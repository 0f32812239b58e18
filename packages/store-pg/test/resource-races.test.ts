// Proves on PostgreSQL, with every racer inside its own transaction on its own pooled connection, that a root never
// loses its last owner to concurrent removals or demotions (docs/domain.md#resources: a guarded write, not count-then-delete),
// and that two crossing moves cannot both pass their classification and leave a cycle (docs/domain.md#moves).
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import {
  addMember,
  authenticate,
  changeAccess,
  createResource,
  createWorkspace,
  grantAccess,
  mintInvite,
  moveResource,
  type Principal,
  register,
  removeAccess,
  type Resource,
  type ResourceId,
  ResourceStore,
  SystemActor,
  Transactor,
  type WorkspaceId
} from "@tessera/domain"
import { publicKeys, uniqueHandle } from "@tessera/store-contract/fixtures"
import { migrateUp } from "@tessera/store-sql"
import { Effect, Either, Layer } from "effect"
import { dialect, layer as pgLayer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"
import { gatedTransactor } from "./fixtures/gate.js"

const ROUNDS = 30

const store = freshDatabaseLayer((url) =>
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
    Layer.provideMerge(pgLayer({ url, maxConnections: 8 })),
    Layer.orDie
  )
)

/** Runs the racers at once, each in its own gated transaction; returns their outcomes in order (a defect is `die`). */
const race = <R>(racers: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string }, R>>) =>
  Effect.gen(function*() {
    const gated = yield* gatedTransactor(racers.length)
    const results = yield* Effect.all(racers.map((r) => Effect.either(Effect.catchAllDefect(r, () => Effect.fail({ _tag: "die" })))), {
      concurrency: "unbounded"
    }).pipe(Effect.provideService(Transactor, gated))
    return results.map((r) => (Either.isRight(r) ? "ok" : r.left._tag))
  })

const newUser = Effect.gen(function*() {
  const { token } = yield* mintInvite(SystemActor, { kind: "registration", handle: uniqueHandle("rr") })
  const { apiKey, user } = yield* register({ token, ...publicKeys() })
  return { user, principal: yield* authenticate(apiKey) }
})

/** A workspace run by someone else, where `a` and `b` are plain members (so only their accesses give them rights). */
const workspaceOf = (...members: ReadonlyArray<{ readonly user: { readonly id: Principal["user"]["id"] } }>) =>
  Effect.gen(function*() {
    const runner = yield* newUser
    const workspace = yield* createWorkspace(runner.principal, { name: "race" })
    for (const m of members) yield* addMember(runner.principal, workspace.id, m.user.id, "member")
    return workspace.id
  })

/** A root created by `a` (its owner) on which `a` makes `b` an owner too; returns the root and both access ids. */
const twoOwnerRoot = (workspace: WorkspaceId, a: Principal, b: Principal) =>
  Effect.gen(function*() {
    const root = yield* createResource(a, workspace, { title: "shared" })
    const ofB = yield* grantAccess(a, root.id, b.user.id, "owner")
    const ofA = (yield* Effect.flatMap(ResourceStore, (s) => s.accesses([root.id]))).find((x) => x.user_id === a.user.id)!
    return { root: root.id, ofA: ofA.id, ofB: ofB.id }
  })

const ownersOf = (id: ResourceId) =>
  Effect.map(Effect.flatMap(ResourceStore, (s) => s.accesses([id])), (all) => all.filter((x) => x.role === "owner").map((x) => x.user_id))

type StepDown = "demote" | "remove"
const stepDown = (how: StepDown, actor: Parameters<typeof removeAccess>[0], root: ResourceId, accessId: string) =>
  how === "demote" ? Effect.asVoid(changeAccess(actor, root, accessId, "editor")) : Effect.asVoid(removeAccess(actor, root, accessId))

const ways: ReadonlyArray<readonly [StepDown, StepDown]> = [["demote", "demote"], ["demote", "remove"], ["remove", "demote"], ["remove", "remove"]]

layer(store, { excludeTestServices: true, timeout: "120 seconds" })("PostgreSQL resource races", (it) => {
  it.effect(`two owners of a root step each other down at once (${ROUNDS} rounds): exactly one wins, an owner remains`, () =>
    Effect.gen(function*() {
      for (let round = 0; round < ROUNDS; round++) {
        const [howA, howB] = ways[round % ways.length]!
        const a = yield* newUser
        const b = yield* newUser
        const { ofA, ofB, root } = yield* twoOwnerRoot(yield* workspaceOf(a, b), a.principal, b.principal)
        const outcomes = yield* race([stepDown(howA, a.principal, root, ofB), stepDown(howB, b.principal, root, ofA)])
        const owners = yield* ownersOf(root)
        // Both succeeding would leave the root without an owner. The loser was stepped down before its own turn,
        // so it may no longer act on an owner: demoted to editor it is Forbidden; removed, it cannot see the root.
        expect({ round, winners: outcomes.filter((o) => o === "ok").length, owners: owners.length }).toEqual({ round, winners: 1, owners: 1 })
        const winner = outcomes.indexOf("ok")
        const winnerHow = winner === 0 ? howA : howB
        expect({ round, loser: outcomes[1 - winner] }).toEqual({ round, loser: winnerHow === "remove" ? "NotFound" : "Forbidden" })
        expect(owners).toEqual([winner === 0 ? a.user.id : b.user.id])
      }
    }))

  it.effect(`two owners of a root step themselves down at once (${ROUNDS} rounds): exactly one wins, the other is last_owner`, () =>
    Effect.gen(function*() {
      for (let round = 0; round < ROUNDS; round++) {
        const [howA, howB] = ways[round % ways.length]!
        const a = yield* newUser
        const b = yield* newUser
        const { ofA, ofB, root } = yield* twoOwnerRoot(yield* workspaceOf(a, b), a.principal, b.principal)
        const outcomes = yield* race([stepDown(howA, a.principal, root, ofA), stepDown(howB, b.principal, root, ofB)])
        const owners = yield* ownersOf(root)
        expect({ round, outcomes: [...outcomes].sort(), owners: owners.length }).toEqual({ round, outcomes: ["LastOwner", "ok"], owners: 1 })
        expect(owners).toEqual([outcomes[0] === "ok" ? b.user.id : a.user.id])
      }
    }))

  it.effect(`a system admin removes both owners of a root at once (${ROUNDS} rounds): exactly one removal wins`, () =>
    Effect.gen(function*() {
      for (let round = 0; round < ROUNDS; round++) {
        const [howA, howB] = ways[round % ways.length]!
        const a = yield* newUser
        const b = yield* newUser
        const { ofA, ofB, root } = yield* twoOwnerRoot(yield* workspaceOf(a, b), a.principal, b.principal)
        const outcomes = yield* race([stepDown(howA, SystemActor, root, ofA), stepDown(howB, SystemActor, root, ofB)])
        const owners = yield* ownersOf(root)
        expect({ round, outcomes: [...outcomes].sort(), owners: owners.length }).toEqual({ round, outcomes: ["LastOwner", "ok"], owners: 1 })
      }
    }))

  it.effect(`two crossing moves at once, x under y and y under x (${ROUNDS} rounds): one wins, the other is invalid_move, no cycle`, () =>
    Effect.gen(function*() {
      const seen: Array<{ round: number; shape: string; outcomes: ReadonlyArray<string>; cycle: boolean }> = []
      for (let round = 0; round < ROUNDS; round++) {
        const a = yield* newUser
        const workspace = yield* workspaceOf(a)
        const make = (title: string, parent: Resource | null = null) =>
          createResource(a.principal, workspace, { title, parent_id: parent?.id ?? null })
        // roots:      x, y              x under y, y under x
        // children:   r1 ─ x, r2 ─ y    x under y, y under x
        // deeper:     x ─ x2, y ─ y2    x under y2, y under x2 (neither move touches the other's row)
        const shape = (["roots", "children", "deeper"] as const)[round % 3]!
        const x = shape === "children" ? yield* make("x", yield* make("r1")) : yield* make("x")
        const y = shape === "children" ? yield* make("y", yield* make("r2")) : yield* make("y")
        const [underX, underY] = shape === "deeper" ? [yield* make("x2", x), yield* make("y2", y)] : [x, y]
        const outcomes = yield* race([
          moveResource(SystemActor, x.id, { targetId: underY.id, position: "last-child", dryRun: false }),
          moveResource(SystemActor, y.id, { targetId: underX.id, position: "last-child", dryRun: false })
        ])
        const stored = yield* Effect.flatMap(ResourceStore, (s) => s.listWorkspace(workspace))
        seen.push({ round, shape, outcomes: [...outcomes].sort(), cycle: reachesNoRoot(stored, [x, y]) })
      }
      // Each move, classified on the tree as it saw it before the other's write, passes. Where the two touch each
      // other's rows (the new parent's foreign key) they deadlock and one dies; where they do not, both commit:
      // x under y2 under y under x2 under x, a cycle cut off from every root. The second mover must wait for the
      // first and classify the tree it left: then it is refused with invalid_move.
      expect(seen.filter((r) => r.cycle || r.outcomes.join() !== "InvalidMove,ok")).toEqual([])
    }))

  it.effect(`creations and moves into one sibling list at once (${ROUNDS} rounds): its positions stay 0..n-1`, () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const seen: Array<{ round: number; outcomes: ReadonlyArray<string>; positions: ReadonlyArray<number> }> = []
      for (let round = 0; round < ROUNDS; round++) {
        const a = yield* newUser
        const workspace = yield* workspaceOf(a)
        const make = (title: string, parent: Resource | null = null) =>
          createResource(a.principal, workspace, { title, parent_id: parent?.id ?? null })
        // odd rounds race on the workspace's roots, even rounds on the children of t
        const t = yield* make("t")
        const home = round % 2 === 0 ? t : null
        for (const title of ["first", "second"]) yield* make(title, home)
        const elsewhere = yield* make("elsewhere")
        const movers = [yield* make("m1", elsewhere), yield* make("m2", elsewhere)]
        const target = home === null
          ? { targetId: t.id, position: "last-sibling" as const }
          : { targetId: t.id, position: "last-child" as const }
        const outcomes = yield* race([
          make("new1", home),
          make("new2", home),
          make("new3", home),
          moveResource(SystemActor, movers[0]!.id, { ...target, dryRun: false }),
          moveResource(SystemActor, movers[1]!.id, { ...target, dryRun: false })
        ])
        const rows = home === null
          ? yield* sql<{ position: number }>`SELECT position FROM resources WHERE workspace_id = ${workspace} AND parent_id IS NULL`
          : yield* sql<{ position: number }>`SELECT position FROM resources WHERE parent_id = ${home.id}`
        seen.push({ round, outcomes, positions: rows.map((r) => Number(r.position)).sort((p, q) => p - q) })
      }
      // Each writer reads the list's next free position before the others commit: without one lock on the list,
      // two of them take the same place and the order between them is undefined.
      expect(seen.filter((r) => r.outcomes.some((o) => o !== "ok") || r.positions.some((p, i) => p !== i))).toEqual([])
    }))
})

/** Whether walking up from any of `nodes` fails to reach a root (a cycle or a missing parent). */
const reachesNoRoot = (stored: ReadonlyArray<Resource>, nodes: ReadonlyArray<Resource>) => {
  const byId = new Map(stored.map((r) => [r.id as string, r]))
  return nodes.some((n) => {
    let at = byId.get(n.id)
    for (let steps = 0; at !== undefined && steps <= stored.length; steps++) {
      if (at.parent_id === null) return false
      at = byId.get(at.parent_id)
    }
    return true
  })
}
