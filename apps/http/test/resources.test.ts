// Resources over HTTP, on both stores (docs/domain.md#resources, docs/domain.md#moves, docs/http.md): moves that
// leave their permission scope (root under a resource, across trees, a
// child promoted to a root, a root re-placed among the roots) and moves that
// stay inside it, refused moves that change nothing, dry runs, sibling order
// for every position, the resource.moved / resource.accesses_reset events,
// effective roles, the batch check, and the owner rules of accesses.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { Schemas, TesseraClient } from "@tessera/client"
import { createResource, createTeam, people, registered, type User } from "./fixtures/people.js"
import { answers, as, asAdmin, eventsSince, http, mark, type Reply, type SdkResult, Served, served, storeOf, type StoreName } from "./harness.js"

const ROLES = ["reader", "commenter", "editor", "administrator", "owner"] as const
type Role = typeof ROLES[number]
const ACTIONS = ["read", "comment", "edit", "administer", "own"] as const
const allowedFor = (role: Role | null, action: typeof ACTIONS[number]) =>
  role !== null && ROLES.indexOf(role) >= ACTIONS.indexOf(action)

type Resource = Schemas["Resource"]

const expectStatus = (reply: Reply, status: number, error?: string) => {
  expect({ status: reply.status, error: reply.body?.error }).toEqual({ status, error: error ?? reply.body?.error })
}

const create = createResource

/** A direct access `by` gives, answered 201. */
const grant = (by: User, resourceId: string, user: User, role: Role) =>
  answers(201, () => by.client.POST("/v1/resources/{id}/accesses", { params: { path: { id: resourceId } }, body: { user_id: user.id, role } }))

/** What the system admin reads through the SDK, answered 200. */
const asSystem = <R extends SdkResult>(
  call: (admin: TesseraClient) => Promise<R>
) => Effect.flatMap(Served, ({ admin }) => answers(200, () => call(admin)))

const at = (id: string) => ({ params: { path: { id } } })

const rawAccessesOf = (resourceId: string) =>
  Effect.map(asSystem((admin) => admin.GET("/v1/resources/{id}/accesses", at(resourceId))), (body) => body.accesses)

/** Direct accesses (as the system admin), as sorted `user_id:role` strings. */
const accessesOf = (resourceId: string) =>
  Effect.map(rawAccessesOf(resourceId), (accesses) => accesses.map((a) => `${a.user_id}:${a.role}`).sort())

const childrenOf = (resourceId: string) =>
  Effect.map(asSystem((admin) => admin.GET("/v1/resources/{id}/children", at(resourceId))), (body) => body.resources.map((r) => r.id))

const rootsOf = (workspaceId: string) =>
  Effect.map(asSystem((admin) => admin.GET("/v1/workspaces/{id}/resources", at(workspaceId))), (body) => body.resources.map((r) => r.id))

const showAdmin = (resourceId: string) => asSystem((admin) => admin.GET("/v1/resources/{id}", at(resourceId)))

/** The effective role of `user` on a resource as GET tells it; `null` for a 404. */
const roleSeenBy = (user: User, resourceId: string) =>
  Effect.map(as(user.key, "GET", `/v1/resources/${resourceId}`), (reply) => {
    if (reply.status === 404) {
      expect(reply.body.error).toBe("not_found")
      return null
    }
    expect(reply.status).toBe(200)
    return reply.body.effective_role as Role
  })

/** A pending grant invite for a resource, minted by the system admin. */
const pendingInvite = (resourceId: string) =>
  Effect.flatMap(Served, ({ admin }) =>
    Effect.map(
      answers(201, () => admin.POST("/v1/invites", { body: { kind: "grant", resource_id: resourceId, resource_role: "reader" } })),
      ({ invite }) => {
        expect(invite).toMatchObject({ kind: "grant", status: "pending", resource_id: resourceId, resource_role: "reader" })
        return invite.id
      }
    ))

const inviteStatus = (id: string) => Effect.map(asSystem((admin) => admin.GET("/v1/invites/{id}", at(id))), (body) => body.invite.status)

const moveEventsSince = (since: number, workspaceId: string) =>
  Effect.map(eventsSince(since, workspaceId), (events) =>
    events.filter((e) => e.type === "resource.moved" || e.type === "resource.accesses_reset").map((e) => `${e.type} ${e.resource_id}`))

/**
 * Everything observable about a workspace's trees over HTTP: each resource
 * reachable from the roots (in sibling order, depth first) with its body,
 * children and direct accesses, plus the status of the given invites.
 */
const snapshot = (workspaceId: string, inviteIds: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const nodes: Array<unknown> = []
    const visit = (ids: ReadonlyArray<string>): Effect.Effect<void, never, Served> =>
      Effect.forEach(ids, (id) =>
        Effect.gen(function*() {
          const children = yield* childrenOf(id)
          nodes.push({ resource: yield* showAdmin(id), children, accesses: yield* rawAccessesOf(id) })
          yield* visit(children)
        }), { discard: true })
    const roots = yield* rootsOf(workspaceId)
    yield* visit(roots)
    const invites: Record<string, string> = {}
    for (const id of inviteIds) invites[id] = yield* inviteStatus(id)
    return { roots, nodes, invites }
  })

const move = (user: User, id: string, target: string, position?: string, dryRun?: boolean) =>
  as(user.key, "POST", `/v1/resources/${id}/move`, {
    target_id: target,
    ...(position !== undefined ? { position } : {}),
    ...(dryRun !== undefined ? { dry_run: dryRun } : {})
  })

const expectMoved = (
  reply: Reply,
  expected: { id: string; parent: string | null; scope: boolean; deleted: number; canceled: number; restored: number }
) => {
  expect(reply.status).toBe(200)
  expect(Object.keys(reply.body).sort()).toEqual(["accesses_deleted", "invites_canceled", "owners_restored", "resource", "scope_changed"])
  expect({
    id: reply.body.resource.id,
    parent: reply.body.resource.parent_id,
    scope: reply.body.scope_changed,
    deleted: reply.body.accesses_deleted,
    canceled: reply.body.invites_canceled,
    restored: reply.body.owners_restored
  }).toEqual(expected)
}

const expectInvalidMove = (reply: Reply) => {
  expect(reply.status).toBe(400)
  expect(reply.body).toEqual({ error: "invalid_move", message: expect.any(String) })
}

/**
 * A team workspace administered by `o` with two trees:
 *
 *   A (o owner, y owner, x editor; invite)      B (o owner; invite)
 *   ├── A1 (x commenter; invite)                ├── B1 (z editor)
 *   │   └── A1a (z reader; invite)              └── B2
 *   ├── A2
 *   └── A3
 *
 * x, y and z are not members of the workspace.
 */
const world = Effect.gen(function*() {
  const [o, x, y, z] = yield* people(4)
  const ws = yield* createTeam(o)
  const A = (yield* create(o, ws, "A")).id
  const B = (yield* create(o, ws, "B")).id
  const A1 = (yield* create(o, ws, "A1", A)).id
  const A2 = (yield* create(o, ws, "A2", A)).id
  const A3 = (yield* create(o, ws, "A3", A)).id
  const A1a = (yield* create(o, ws, "A1a", A1)).id
  const B1 = (yield* create(o, ws, "B1", B)).id
  const B2 = (yield* create(o, ws, "B2", B)).id
  yield* grant(o, A, y, "owner")
  yield* grant(o, A, x, "editor")
  yield* grant(o, A1, x, "commenter")
  yield* grant(o, A1a, z, "reader")
  yield* grant(o, B1, z, "editor")
  const inv = {
    A: yield* pendingInvite(A),
    A1: yield* pendingInvite(A1),
    A1a: yield* pendingInvite(A1a),
    B: yield* pendingInvite(B)
  }
  expect(yield* rootsOf(ws)).toEqual([A, B])
  expect(yield* childrenOf(A)).toEqual([A1, A2, A3])
  expect(yield* accessesOf(A)).toEqual([`${o.id}:owner`, `${x.id}:editor`, `${y.id}:owner`].sort())
  return { o, x, y, z, ws, A, B, A1, A2, A3, A1a, B1, B2, inv, invites: Object.values(inv) }
})

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(storeOf(store)), { timeout: "120 seconds", excludeTestServices: true })(`resources over HTTP (${store})`, (it) => {
    it.effect("a root moved under another resource loses its direct accesses and pending invites; descendants keep theirs", () =>
      Effect.gen(function*() {
        const w = yield* world
        const since = yield* mark
        const a1Before = yield* rawAccessesOf(w.A1)
        const a1aBefore = yield* rawAccessesOf(w.A1a)

        expectMoved(yield* move(w.o, w.A, w.B, "last-child"), { id: w.A, parent: w.B, scope: true, deleted: 3, canceled: 1, restored: 0 })

        expect(yield* accessesOf(w.A)).toEqual([])
        expect(yield* inviteStatus(w.inv.A)).toBe("canceled")
        expect(yield* inviteStatus(w.inv.A1)).toBe("pending")
        expect(yield* inviteStatus(w.inv.A1a)).toBe("pending")
        expect(yield* inviteStatus(w.inv.B)).toBe("pending")
        expect(yield* rawAccessesOf(w.A1)).toEqual(a1Before)
        expect(yield* rawAccessesOf(w.A1a)).toEqual(a1aBefore)
        expect(yield* rootsOf(w.ws)).toEqual([w.B])
        expect(yield* childrenOf(w.B)).toEqual([w.B1, w.B2, w.A])
        expect(yield* childrenOf(w.A)).toEqual([w.A1, w.A2, w.A3])
        expect((yield* showAdmin(w.A)).parent_id).toBe(w.B)
        // the editor and the second owner of A had their access only there
        expect(yield* roleSeenBy(w.x, w.A)).toBeNull()
        expect(yield* roleSeenBy(w.y, w.A)).toBeNull()
        expect(yield* roleSeenBy(w.x, w.A1)).toBe("commenter")
        expect(yield* roleSeenBy(w.o, w.A)).toBe("owner")
        expect(yield* moveEventsSince(since, w.ws)).toEqual([`resource.moved ${w.A}`, `resource.accesses_reset ${w.A}`])
      }))

    it.effect("a child moved across trees loses its direct accesses and pending invites; its descendants keep theirs", () =>
      Effect.gen(function*() {
        const w = yield* world
        const since = yield* mark
        const a1aBefore = yield* rawAccessesOf(w.A1a)

        expectMoved(yield* move(w.o, w.A1, w.B, "first-child"), { id: w.A1, parent: w.B, scope: true, deleted: 1, canceled: 1, restored: 0 })

        expect(yield* accessesOf(w.A1)).toEqual([])
        expect(yield* inviteStatus(w.inv.A1)).toBe("canceled")
        expect(yield* inviteStatus(w.inv.A1a)).toBe("pending")
        expect(yield* inviteStatus(w.inv.A)).toBe("pending")
        expect(yield* rawAccessesOf(w.A1a)).toEqual(a1aBefore)
        expect(yield* accessesOf(w.A)).toEqual([`${w.o.id}:owner`, `${w.x.id}:editor`, `${w.y.id}:owner`].sort())
        expect(yield* childrenOf(w.B)).toEqual([w.A1, w.B1, w.B2])
        expect(yield* childrenOf(w.A)).toEqual([w.A2, w.A3])
        expect(yield* childrenOf(w.A1)).toEqual([w.A1a])
        // x had editor on A and commenter on A1: both gone for A1 now
        expect(yield* roleSeenBy(w.x, w.A1)).toBeNull()
        expect(yield* roleSeenBy(w.y, w.A1)).toBeNull()
        expect(yield* roleSeenBy(w.z, w.A1a)).toBe("reader")
        expect(yield* moveEventsSince(since, w.ws)).toEqual([`resource.moved ${w.A1}`, `resource.accesses_reset ${w.A1}`])
      }))

    it.effect("moves inside one tree keep every access and invite", () =>
      Effect.gen(function*() {
        const w = yield* world
        const since = yield* mark
        const before = yield* snapshot(w.ws, w.invites)
        const accessesBefore = yield* rawAccessesOf(w.A1)

        expectMoved(yield* move(w.o, w.A1, w.A2, "last-child"), { id: w.A1, parent: w.A2, scope: false, deleted: 0, canceled: 0, restored: 0 })
        expect(yield* childrenOf(w.A)).toEqual([w.A2, w.A3])
        expect(yield* childrenOf(w.A2)).toEqual([w.A1])
        expectMoved(yield* move(w.o, w.A1, w.A3, "right"), { id: w.A1, parent: w.A, scope: false, deleted: 0, canceled: 0, restored: 0 })
        expect(yield* childrenOf(w.A)).toEqual([w.A2, w.A3, w.A1])
        // the grandchild moves up next to its own parent: still in A's tree
        expectMoved(yield* move(w.o, w.A1a, w.A1, "left"), { id: w.A1a, parent: w.A, scope: false, deleted: 0, canceled: 0, restored: 0 })
        expect(yield* childrenOf(w.A)).toEqual([w.A2, w.A3, w.A1a, w.A1])

        expect(yield* rawAccessesOf(w.A1)).toEqual(accessesBefore)
        expect(yield* accessesOf(w.A1a)).toEqual([`${w.z.id}:reader`])
        expect(yield* accessesOf(w.A)).toEqual([`${w.o.id}:owner`, `${w.x.id}:editor`, `${w.y.id}:owner`].sort())
        const after = yield* snapshot(w.ws, w.invites)
        expect(after.invites).toEqual(before.invites)
        expect(Object.values(after.invites)).toEqual(["pending", "pending", "pending", "pending"])
        expect(yield* roleSeenBy(w.x, w.A1)).toBe("editor")
        expect(yield* moveEventsSince(since, w.ws)).toEqual([`resource.moved ${w.A1}`, `resource.moved ${w.A1}`, `resource.moved ${w.A1a}`])
      }))

    it.effect("a child promoted to a root (beside its own root or another) is wiped and gets its old scope's owners", () =>
      Effect.gen(function*() {
        const w = yield* world
        const since = yield* mark
        const a1aBefore = yield* rawAccessesOf(w.A1a)

        // beside its own root
        expectMoved(yield* move(w.o, w.A1, w.A, "right"), { id: w.A1, parent: null, scope: true, deleted: 1, canceled: 1, restored: 2 })
        expect(yield* accessesOf(w.A1)).toEqual([`${w.o.id}:owner`, `${w.y.id}:owner`].sort())
        expect(yield* inviteStatus(w.inv.A1)).toBe("canceled")
        expect(yield* inviteStatus(w.inv.A1a)).toBe("pending")
        expect(yield* inviteStatus(w.inv.A)).toBe("pending")
        expect(yield* rawAccessesOf(w.A1a)).toEqual(a1aBefore)
        expect(yield* rootsOf(w.ws)).toEqual([w.A, w.A1, w.B])
        expect(yield* childrenOf(w.A)).toEqual([w.A2, w.A3])
        expect(yield* childrenOf(w.A1)).toEqual([w.A1a])
        expect(yield* roleSeenBy(w.x, w.A1)).toBeNull()
        expect(yield* roleSeenBy(w.y, w.A1)).toBe("owner")
        expect(yield* accessesOf(w.A)).toEqual([`${w.o.id}:owner`, `${w.x.id}:editor`, `${w.y.id}:owner`].sort())

        // beside another tree's root; an owner on an intermediate node counts too
        yield* grant(w.o, w.A2, w.z, "owner")
        const leaf = (yield* create(w.o, w.ws, "A2x", w.A2)).id
        yield* grant(w.o, leaf, w.x, "reader")
        const leafInvite = yield* pendingInvite(leaf)
        expectMoved(yield* move(w.o, leaf, w.B, "first-sibling"), { id: leaf, parent: null, scope: true, deleted: 1, canceled: 1, restored: 3 })
        expect(yield* accessesOf(leaf)).toEqual([`${w.o.id}:owner`, `${w.y.id}:owner`, `${w.z.id}:owner`].sort())
        expect(yield* inviteStatus(leafInvite)).toBe("canceled")
        expect(yield* rootsOf(w.ws)).toEqual([leaf, w.A, w.A1, w.B])
        expect(yield* accessesOf(w.A2)).toEqual([`${w.z.id}:owner`])

        // the promoted root really is a root now: its last owner is guarded
        const promoted = yield* rawAccessesOf(w.A1)
        const ysOwner = promoted.find((a) => a.user_id === w.y.id)!
        const osOwner = promoted.find((a) => a.user_id === w.o.id)!
        expectStatus(yield* as(w.o.key, "DELETE", `/v1/resources/${w.A1}/accesses/${ysOwner.id}`), 200)
        expectStatus(yield* as(w.o.key, "DELETE", `/v1/resources/${w.A1}/accesses/${osOwner.id}`), 409, "last_owner")

        const events = yield* eventsSince(since, w.ws)
        const resets = events.filter((e) => e.type === "resource.accesses_reset")
        expect(resets.map((e) => e.resource_id)).toEqual([w.A1, leaf])
        expect((resets[0]!.data["owners_restored"] as Array<string>).slice().sort()).toEqual([w.o.id, w.y.id].sort())
      }))

    it.effect("a root moved beside another root keeps only its owners", () =>
      Effect.gen(function*() {
        const w = yield* world
        const since = yield* mark
        const a1Before = yield* rawAccessesOf(w.A1)

        expectMoved(yield* move(w.o, w.A, w.B, "right"), { id: w.A, parent: null, scope: true, deleted: 3, canceled: 1, restored: 2 })
        expect(yield* accessesOf(w.A)).toEqual([`${w.o.id}:owner`, `${w.y.id}:owner`].sort())
        expect(yield* inviteStatus(w.inv.A)).toBe("canceled")
        expect(yield* inviteStatus(w.inv.A1)).toBe("pending")
        expect(yield* rawAccessesOf(w.A1)).toEqual(a1Before)
        expect(yield* rootsOf(w.ws)).toEqual([w.B, w.A])
        expect(yield* roleSeenBy(w.x, w.A)).toBeNull()
        expect(yield* roleSeenBy(w.x, w.A1)).toBe("commenter")
        expect(yield* roleSeenBy(w.y, w.A)).toBe("owner")

        // and again to the front: still its owners, nothing else to cancel
        expectMoved(yield* move(w.o, w.A, w.B, "first-sibling"), { id: w.A, parent: null, scope: true, deleted: 2, canceled: 0, restored: 2 })
        expect(yield* accessesOf(w.A)).toEqual([`${w.o.id}:owner`, `${w.y.id}:owner`].sort())
        expect(yield* rootsOf(w.ws)).toEqual([w.A, w.B])
        expect(yield* moveEventsSince(since, w.ws)).toEqual([
          `resource.moved ${w.A}`,
          `resource.accesses_reset ${w.A}`,
          `resource.moved ${w.A}`,
          `resource.accesses_reset ${w.A}`
        ])
      }))

    it.effect("moving to itself or a descendant is invalid_move and changes nothing", () =>
      Effect.gen(function*() {
        const w = yield* world
        const before = yield* snapshot(w.ws, w.invites)
        const since = yield* mark
        const cases: Array<[string, string, string | undefined]> = [
          [w.A, w.A, undefined],
          [w.A, w.A, "left"],
          [w.A1, w.A1, "first-child"],
          [w.A1, w.A1, "right"],
          [w.A, w.A1, "last-child"],
          [w.A, w.A1a, "first-child"],
          [w.A, w.A1, "right"],
          [w.A, w.A1a, "first-sibling"],
          [w.A1, w.A1a, "last-sibling"],
          [w.A1, w.A1a, "last-child"]
        ]
        for (const [id, target, position] of cases) {
          expectInvalidMove(yield* move(w.o, id, target, position))
          expectInvalidMove(yield* move(w.o, id, target, position, true))
        }
        // the system admin is refused the same way
        expectInvalidMove(yield* asAdmin("POST", `/v1/resources/${w.A}/move`, { target_id: w.A1a }))
        // and a body that fails its schema is invalid_request
        for (const body of [{ target_id: w.B, position: "middle" }, { target_id: w.B, parent_id: w.B }, { target_id: "not-an-id" }, {}]) {
          expectStatus(yield* as(w.o.key, "POST", `/v1/resources/${w.A}/move`, body), 400, "invalid_request")
        }
        expect(yield* snapshot(w.ws, w.invites)).toEqual(before)
        expect(yield* eventsSince(since, w.ws)).toEqual([])
      }))

    it.effect("a move into another workspace or onto a revoked target is invalid_move and changes nothing", () =>
      Effect.gen(function*() {
        const w = yield* world
        const { sql } = yield* Served
        const elsewhere = yield* createTeam(w.o)
        const C = (yield* create(w.o, elsewhere, "C")).id
        const C1 = (yield* create(w.o, elsewhere, "C1", C)).id
        const revoked = (yield* create(w.o, w.ws, "revoked", w.B)).id
        const revokedRoot = (yield* create(w.o, w.ws, "revoked root")).id
        const at = new Date().toISOString()
        yield* sql`UPDATE resources SET revoked_at = ${at} WHERE id IN (${revoked}, ${revokedRoot})`.pipe(Effect.orDie)
        const before = yield* snapshot(w.ws, w.invites)
        const beforeElsewhere = yield* snapshot(elsewhere)
        const since = yield* mark
        for (const position of ["last-child", "first-child", "left", "right", "first-sibling", "last-sibling"]) {
          for (const [id, target] of [[w.A, C], [w.A1, C], [w.A1, C1], [w.A, C1]] as const) {
            expectInvalidMove(yield* move(w.o, id, target, position))
            expectInvalidMove(yield* move(w.o, id, target, position, true))
          }
          for (const [id, target] of [[w.A1, revoked], [w.A, revoked], [w.A1, revokedRoot], [w.A, revokedRoot]] as const) {
            expectInvalidMove(yield* move(w.o, id, target, position))
            expectInvalidMove(yield* move(w.o, id, target, position, true))
          }
        }
        expectInvalidMove(yield* asAdmin("POST", `/v1/resources/${w.A1}/move`, { target_id: C }))
        expectInvalidMove(yield* asAdmin("POST", `/v1/resources/${w.A1}/move`, { target_id: revoked }))
        expect(yield* snapshot(w.ws, w.invites)).toEqual(before)
        expect(yield* snapshot(elsewhere)).toEqual(beforeElsewhere)
        expect(yield* eventsSince(since, w.ws)).toEqual([])
        expect(yield* eventsSince(since, elsewhere)).toEqual([])
      }))

    it.effect("dry_run returns the report of the real move and changes nothing", () =>
      Effect.gen(function*() {
        const w = yield* world
        const cases: Array<[string, string, string]> = [
          [w.A1, w.A2, "first-child"], // inside the tree
          [w.A1, w.A, "left"], // promoted to a root
          [w.A, w.B, "last-child"], // a root under another root's tree
          [w.B, w.A, "first-child"], // refused: A is B's child by now
          [w.A1a, w.B1, "right"] // across trees
        ]
        let refused = 0
        for (const [id, target, position] of cases) {
          const before = yield* snapshot(w.ws, w.invites)
          const since = yield* mark
          const dry = yield* move(w.o, id, target, position, true)
          expect(yield* snapshot(w.ws, w.invites)).toEqual(before)
          expect(yield* eventsSince(since, w.ws)).toEqual([])
          const real = yield* move(w.o, id, target, position, false)
          expect(dry.status).toBe(real.status)
          if (real.status !== 200) {
            expectInvalidMove(real)
            expect(dry.body).toEqual(real.body)
            expect(yield* snapshot(w.ws, w.invites)).toEqual(before)
            refused++
            continue
          }
          const { updated_at: _dryAt, ...dryResource } = dry.body.resource
          const { updated_at: _realAt, ...realResource } = real.body.resource
          expect({ ...dry.body, resource: dryResource }).toEqual({ ...real.body, resource: realResource })
          expect(yield* snapshot(w.ws, w.invites)).not.toEqual(before)
        }
        expect(refused).toBe(1)
        // a scope-changing dry run reports non-zero counts that the real move then applies
        const fresh = yield* world
        const dry = yield* move(fresh.o, fresh.A, fresh.B, "right", true)
        expectMoved(dry, { id: fresh.A, parent: null, scope: true, deleted: 3, canceled: 1, restored: 2 })
        expect(yield* accessesOf(fresh.A)).toEqual([`${fresh.o.id}:owner`, `${fresh.x.id}:editor`, `${fresh.y.id}:owner`].sort())
        expect(yield* inviteStatus(fresh.inv.A)).toBe("pending")
        expect(yield* rootsOf(fresh.ws)).toEqual([fresh.A, fresh.B])
      }))

    it.effect("sibling order after every position, among children and among roots", () =>
      Effect.gen(function*() {
        const o = yield* registered
        const ws = yield* createTeam(o)
        const R = (yield* create(o, ws, "R")).id
        const S = (yield* create(o, ws, "S")).id
        const T = (yield* create(o, ws, "T")).id
        const a = (yield* create(o, ws, "a", R)).id
        const b = (yield* create(o, ws, "b", R)).id
        const c = (yield* create(o, ws, "c", R)).id
        const d = (yield* create(o, ws, "d", R)).id
        const names: Record<string, string> = { [R]: "R", [S]: "S", [T]: "T", [a]: "a", [b]: "b", [c]: "c", [d]: "d" }
        const named = (ids: ReadonlyArray<string>) => ids.map((id) => names[id] ?? id)
        const step = (id: string, target: string, position: string, expected: Record<string, ReadonlyArray<string>>) =>
          Effect.gen(function*() {
            const reply = yield* move(o, id, target, position)
            expect(reply.status).toBe(200)
            const seen: Record<string, ReadonlyArray<string>> = {}
            for (const parent of Object.keys(expected)) {
              seen[parent] = named(parent === "roots" ? yield* rootsOf(ws) : yield* childrenOf(Object.keys(names).find((k) => names[k] === parent)!))
            }
            expect({ move: `${names[id]} ${position} ${names[target]}`, ...seen }).toEqual({ move: `${names[id]} ${position} ${names[target]}`, ...expected })
          })
        expect(named(yield* childrenOf(R))).toEqual(["a", "b", "c", "d"])
        expect(named(yield* rootsOf(ws))).toEqual(["R", "S", "T"])

        // among children of one parent
        yield* step(a, c, "right", { R: ["b", "c", "a", "d"] })
        yield* step(d, b, "left", { R: ["d", "b", "c", "a"] })
        yield* step(b, a, "first-sibling", { R: ["b", "d", "c", "a"] })
        yield* step(b, c, "last-sibling", { R: ["d", "c", "a", "b"] })
        yield* step(c, d, "left", { R: ["c", "d", "a", "b"] })
        yield* step(b, a, "right", { R: ["c", "d", "a", "b"] })
        yield* step(c, b, "right", { R: ["d", "a", "b", "c"] })
        yield* step(c, d, "left", { R: ["c", "d", "a", "b"] })
        yield* step(a, R, "first-child", { R: ["a", "c", "d", "b"] })
        yield* step(a, R, "last-child", { R: ["c", "d", "b", "a"] })
        yield* step(b, R, "last-child", { R: ["c", "d", "a", "b"] })
        // between parents
        yield* step(c, S, "first-child", { R: ["d", "a", "b"], S: ["c"] })
        yield* step(b, S, "first-child", { R: ["d", "a"], S: ["b", "c"] })
        yield* step(a, S, "last-child", { R: ["d"], S: ["b", "c", "a"] })
        yield* step(d, c, "left", { R: [], S: ["b", "d", "c", "a"] })
        yield* step(c, T, "last-child", { S: ["b", "d", "a"], T: ["c"] })
        yield* step(a, c, "right", { S: ["b", "d"], T: ["c", "a"] })
        yield* step(b, c, "first-sibling", { S: ["d"], T: ["b", "c", "a"] })
        yield* step(d, c, "last-sibling", { S: [], T: ["b", "c", "a", "d"] })
        // among roots
        yield* step(T, R, "left", { roots: ["T", "R", "S"] })
        yield* step(R, S, "right", { roots: ["T", "S", "R"] })
        yield* step(S, T, "first-sibling", { roots: ["S", "T", "R"] })
        yield* step(S, R, "last-sibling", { roots: ["T", "R", "S"] })
        yield* step(R, S, "right", { roots: ["T", "S", "R"] })
        yield* step(T, S, "left", { roots: ["T", "S", "R"] })
        // children promoted to roots, and roots moved under resources
        yield* step(c, T, "right", { roots: ["T", "c", "S", "R"], T: ["b", "a", "d"] })
        yield* step(a, R, "left", { roots: ["T", "c", "S", "a", "R"], T: ["b", "d"] })
        yield* step(d, S, "first-sibling", { roots: ["d", "T", "c", "S", "a", "R"], T: ["b"] })
        yield* step(b, c, "last-sibling", { roots: ["d", "T", "c", "S", "a", "R", "b"], T: [] })
        yield* step(S, R, "first-child", { roots: ["d", "T", "c", "a", "R", "b"], R: ["S"] })
        yield* step(d, R, "last-child", { roots: ["T", "c", "a", "R", "b"], R: ["S", "d"] })
        yield* step(T, d, "left", { roots: ["c", "a", "R", "b"], R: ["S", "T", "d"] })
        yield* step(b, S, "right", { roots: ["c", "a", "R"], R: ["S", "b", "T", "d"] })
        yield* step(c, d, "right", { roots: ["a", "R"], R: ["S", "b", "T", "d", "c"] })
        // the position defaults to last-child
        const reply = yield* move(o, a, S)
        expect(reply.status).toBe(200)
        expect(named(yield* childrenOf(S))).toEqual(["a"])
        expect(named(yield* rootsOf(ws))).toEqual(["R"])
      }))

    it.effect("resource.moved and resource.accesses_reset appear only when expected", () =>
      Effect.gen(function*() {
        const w = yield* world
        let since = yield* mark

        // inside the scope: one resource.moved with its terms
        expect((yield* move(w.o, w.A1, w.A2, "first-child")).status).toBe(200)
        let events = yield* eventsSince(since, w.ws)
        expect(events.map((e) => e.type)).toEqual(["resource.moved"])
        expect(events[0]).toMatchObject({
          actor: w.o.id,
          workspace_id: w.ws,
          resource_id: w.A1,
          data: { from_parent_id: w.A, to_parent_id: w.A2, position: "first-child", target_id: w.A2, scope_changed: false }
        })

        // dry runs, refusals and forbidden moves leave no event
        since = yield* mark
        expect((yield* move(w.o, w.A1, w.B, "last-child", true)).status).toBe(200)
        expectInvalidMove(yield* move(w.o, w.A, w.A1a, "last-child"))
        // x is an editor of A (and commenter of A1): moving needs administrator
        expectStatus(yield* move(w.x, w.A1, w.A3, "last-child"), 403, "forbidden")
        // y owns A but has nothing on B: moving under B is refused
        const unseen = yield* move(w.y, w.A1, w.B, "last-child")
        expect([403, 404]).toContain(unseen.status)
        expect(yield* eventsSince(since, w.ws)).toEqual([])
        expect((yield* showAdmin(w.A1)).parent_id).toBe(w.A2)

        // leaving the scope: resource.moved then resource.accesses_reset
        since = yield* mark
        expect((yield* move(w.o, w.A1, w.B, "last-child")).status).toBe(200)
        events = yield* eventsSince(since, w.ws)
        expect(events.map((e) => e.type)).toEqual(["resource.moved", "resource.accesses_reset"])
        expect(events[0]).toMatchObject({
          resource_id: w.A1,
          data: { from_parent_id: w.A2, to_parent_id: w.B, position: "last-child", target_id: w.B, scope_changed: true }
        })
        expect(events[1]).toMatchObject({
          actor: w.o.id,
          workspace_id: w.ws,
          resource_id: w.A1,
          data: { accesses_deleted: 1, invites_canceled: 1 }
        })
        expect(events[1]!.seq).toBeGreaterThan(events[0]!.seq)

        // and becoming a root says who got ownership back
        since = yield* mark
        expect((yield* move(w.o, w.A1, w.B, "left")).status).toBe(200)
        events = yield* eventsSince(since, w.ws)
        expect(events.map((e) => e.type)).toEqual(["resource.moved", "resource.accesses_reset"])
        expect(events[1]!.data["owners_restored"]).toEqual([w.o.id])
        expect(events[1]!.data).toMatchObject({ accesses_deleted: 0, invites_canceled: 0 })
        expect(JSON.stringify(events)).not.toMatch(/tsi_|tsk_/)
      }))

    it.effect("effective_role: direct on an ancestor, workspace admin, link_reach workspace for members, none is 404", () =>
      Effect.gen(function*() {
        const [alice, bob, carol, dave] = yield* people(4)
        const ws = yield* createTeam(alice, [bob, carol])
        const R = (yield* create(bob, ws, "R")).id
        const R1 = (yield* create(bob, ws, "R1", R)).id
        const R1a = (yield* create(bob, ws, "R1a", R1)).id

        // the creator owns the root, and so everything under it
        expect(yield* accessesOf(R)).toEqual([`${bob.id}:owner`])
        expect(yield* accessesOf(R1)).toEqual([])
        expect(yield* roleSeenBy(bob, R1a)).toBe("owner")
        // a workspace admin is administrator without any access
        expect(yield* roleSeenBy(alice, R)).toBe("administrator")
        expect(yield* roleSeenBy(alice, R1a)).toBe("administrator")
        // a member and a stranger with nothing: 404, not 403
        for (const user of [carol, dave]) {
          for (const id of [R, R1, R1a]) {
            const reply = yield* as(user.key, "GET", `/v1/resources/${id}`)
            expect(reply.status).toBe(404)
            expect(reply.body).toEqual({ error: "not_found", message: expect.any(String) })
          }
        }
        // a direct access on an ancestor
        yield* grant(bob, R, carol, "commenter")
        expect(yield* roleSeenBy(carol, R)).toBe("commenter")
        expect(yield* roleSeenBy(carol, R1a)).toBe("commenter")
        // link_reach workspace gives members the link role there and below, never above
        const patched = yield* as(bob.key, "PATCH", `/v1/resources/${R1}`, { link_reach: "workspace", link_role: "editor" })
        expect(patched.status).toBe(200)
        expect(patched.body).toMatchObject({ link_reach: "workspace", link_role: "editor", effective_role: "owner" })
        expect(yield* roleSeenBy(carol, R)).toBe("commenter")
        expect(yield* roleSeenBy(carol, R1)).toBe("editor")
        expect(yield* roleSeenBy(carol, R1a)).toBe("editor")
        const eve = yield* registered
        yield* answers(201, () =>
          alice.client.POST("/v1/workspaces/{id}/members", { params: { path: { id: ws } }, body: { user_id: eve.id, role: "member" } }))
        expect(yield* roleSeenBy(eve, R)).toBeNull()
        expect(yield* roleSeenBy(eve, R1)).toBe("editor")
        expect(yield* roleSeenBy(eve, R1a)).toBe("editor")
        // ...but not to someone outside the workspace
        expect(yield* roleSeenBy(dave, R1)).toBeNull()
        // the highest source wins
        yield* grant(bob, R1a, carol, "administrator")
        expect(yield* roleSeenBy(carol, R1a)).toBe("administrator")
        expect(yield* roleSeenBy(carol, R1)).toBe("editor")
        yield* grant(bob, R1a, dave, "reader")
        expect(yield* roleSeenBy(dave, R1a)).toBe("reader")
        expect(yield* roleSeenBy(dave, R1)).toBeNull()
        yield* grant(bob, R, alice, "reader")
        expect(yield* roleSeenBy(alice, R)).toBe("administrator")
        // the roots listing shows only what the caller can see
        const rootsFor = (user: User) =>
          Effect.map(as(user.key, "GET", `/v1/workspaces/${ws}/resources`), (reply) => (reply.body.resources as Array<Resource>).map((r) => r.id))
        const other = (yield* create(alice, ws, "other")).id
        expect(yield* rootsFor(alice)).toEqual([R, other])
        expect(yield* rootsFor(bob)).toEqual([R])
        expect(yield* rootsFor(carol)).toEqual([R])
        expect(yield* rootsFor(eve)).toEqual([])
      }))

    it.effect("/v1/check agrees with GET effective_role, is for system admins only, and takes at most 1000 checks", () =>
      Effect.gen(function*() {
        const [alice, bob, carol, dave] = yield* people(4)
        const ws = yield* createTeam(alice, [bob, carol])
        const R = (yield* create(bob, ws, "R")).id
        const R1 = (yield* create(bob, ws, "R1", R, { link_reach: "workspace", link_role: "reader" })).id
        const R1a = (yield* create(bob, ws, "R1a", R1)).id
        const R2 = (yield* create(bob, ws, "R2", R)).id
        const S = (yield* create(carol, ws, "S")).id
        yield* grant(bob, R2, dave, "editor")
        yield* grant(bob, R1a, carol, "commenter")
        yield* grant(carol, S, dave, "administrator")
        const users = [alice, bob, carol, dave]
        const resources = [R, R1, R1a, R2, S]
        const checks: Array<{ user_id: string; resource_id: string; action: string }> = []
        const expected: Array<{ allowed: boolean; role: Role | null }> = []
        const roles: Record<string, Role | null> = {}
        for (const user of users) {
          for (const id of resources) {
            const role = yield* roleSeenBy(user, id)
            roles[`${user.id} ${id}`] = role
            for (const action of ACTIONS) {
              checks.push({ user_id: user.id, resource_id: id, action })
              expected.push({ allowed: allowedFor(role, action), role })
            }
          }
        }
        // the fixture covers every kind of answer
        expect(new Set(Object.values(roles))).toEqual(new Set(["administrator", "owner", "reader", "commenter", "editor", null]))
        const reply = yield* asAdmin("POST", "/v1/check", { checks })
        expect(reply.status).toBe(200)
        expect(reply.body).toEqual({ results: expected })

        // non-admins are refused, whatever they own; no bearer is 401
        for (const user of users) expectStatus(yield* as(user.key, "POST", "/v1/check", { checks: checks.slice(0, 1) }), 403, "forbidden")
        expectStatus(yield* http("POST", "/v1/check", { json: { checks: checks.slice(0, 1) } }), 401, "unauthenticated")

        // 1000 checks are answered, 1001 are invalid_request
        const many = Array.from({ length: 1000 }, (_, i) => checks[i % checks.length]!)
        const full = yield* asAdmin("POST", "/v1/check", { checks: many })
        expect(full.status).toBe(200)
        expect(full.body.results).toEqual(Array.from({ length: 1000 }, (_, i) => expected[i % expected.length]))
        const tooMany = yield* asAdmin("POST", "/v1/check", { checks: [...many, checks[0]] })
        expect(tooMany.status).toBe(400)
        expect(tooMany.body.error).toBe("invalid_request")
        const empty = yield* asAdmin("POST", "/v1/check", { checks: [] })
        expect(empty.body).toEqual({ results: [] })
      }))

    it.effect("the last owner of a root cannot be removed or demoted, and only an owner grants or removes owner", () =>
      Effect.gen(function*() {
        const [alice, bob, carol, dave] = yield* people(4)
        const ws = yield* createTeam(alice, [bob])
        const R = (yield* create(bob, ws, "R")).id
        const R1 = (yield* create(bob, ws, "R1", R)).id
        const [bobsOwner] = yield* rawAccessesOf(R)
        expect(bobsOwner).toMatchObject({ resource_id: R, user_id: bob.id, role: "owner" })
        const lastOwner = (reply: Reply) => {
          expect(reply.status).toBe(409)
          expect(reply.body).toEqual({ error: "last_owner", message: expect.any(String), resource_ids: [R] })
        }

        // the sole owner can neither leave nor step down, nor can the system admin make them
        lastOwner(yield* as(bob.key, "DELETE", `/v1/resources/${R}/accesses/${bobsOwner!.id}`))
        for (const role of ["administrator", "reader"]) {
          lastOwner(yield* as(bob.key, "PATCH", `/v1/resources/${R}/accesses/${bobsOwner!.id}`, { role }))
        }
        lastOwner(yield* asAdmin("DELETE", `/v1/resources/${R}/accesses/${bobsOwner!.id}`))
        lastOwner(yield* asAdmin("PATCH", `/v1/resources/${R}/accesses/${bobsOwner!.id}`, { role: "editor" }))
        expect(yield* accessesOf(R)).toEqual([`${bob.id}:owner`])

        // a workspace admin (administrator) manages accesses below owner only
        expectStatus(yield* as(alice.key, "POST", `/v1/resources/${R}/accesses`, { user_id: carol.id, role: "owner" }), 403, "forbidden")
        expectStatus(yield* as(alice.key, "DELETE", `/v1/resources/${R}/accesses/${bobsOwner!.id}`), 403, "forbidden")
        expectStatus(yield* as(alice.key, "PATCH", `/v1/resources/${R}/accesses/${bobsOwner!.id}`, { role: "editor" }), 403, "forbidden")
        const carols = yield* grant(alice, R, carol, "administrator")
        // so does an administrator by direct access, who cannot make themselves owner either
        expectStatus(yield* as(carol.key, "POST", `/v1/resources/${R}/accesses`, { user_id: dave.id, role: "owner" }), 403, "forbidden")
        expectStatus(yield* as(carol.key, "POST", `/v1/resources/${R1}/accesses`, { user_id: dave.id, role: "owner" }), 403, "forbidden")
        expectStatus(yield* as(carol.key, "PATCH", `/v1/resources/${R}/accesses/${carols.id}`, { role: "owner" }), 403, "forbidden")
        expectStatus(yield* as(carol.key, "DELETE", `/v1/resources/${R}/accesses/${bobsOwner!.id}`), 403, "forbidden")
        expectStatus(yield* as(carol.key, "PATCH", `/v1/resources/${R}/accesses/${bobsOwner!.id}`, { role: "administrator" }), 403, "forbidden")
        const daves = yield* grant(carol, R, dave, "editor")
        expectStatus(yield* as(carol.key, "PATCH", `/v1/resources/${R}/accesses/${daves.id}`, { role: "reader" }), 200)
        expectStatus(yield* as(carol.key, "PATCH", `/v1/resources/${R}/accesses/${daves.id}`, { role: "owner" }), 403, "forbidden")
        // an editor manages nothing
        expectStatus(yield* as(dave.key, "POST", `/v1/resources/${R}/accesses`, { user_id: alice.id, role: "reader" }), 403, "forbidden")
        expectStatus(yield* as(carol.key, "DELETE", `/v1/resources/${R}/accesses/${daves.id}`), 200)
        expect(yield* accessesOf(R)).toEqual([`${bob.id}:owner`, `${carol.id}:administrator`].sort())

        // an owner grants owner; with two owners either may go, but not both
        const promoted = yield* as(bob.key, "PATCH", `/v1/resources/${R}/accesses/${carols.id}`, { role: "owner" })
        expect(promoted.status).toBe(200)
        expect(promoted.body).toMatchObject({ id: carols.id, user_id: carol.id, role: "owner" })
        expectStatus(yield* as(carol.key, "DELETE", `/v1/resources/${R}/accesses/${bobsOwner!.id}`), 200)
        lastOwner(yield* as(carol.key, "DELETE", `/v1/resources/${R}/accesses/${carols.id}`))
        lastOwner(yield* as(carol.key, "PATCH", `/v1/resources/${R}/accesses/${carols.id}`, { role: "administrator" }))
        expect(yield* accessesOf(R)).toEqual([`${carol.id}:owner`])
        expect(yield* roleSeenBy(bob, R)).toBeNull()

        // below the root there is no last-owner rule: the root's owners remain
        const onChild = yield* grant(carol, R1, dave, "owner")
        expectStatus(yield* as(carol.key, "PATCH", `/v1/resources/${R1}/accesses/${onChild.id}`, { role: "reader" }), 200)
        expectStatus(yield* as(carol.key, "DELETE", `/v1/resources/${R1}/accesses/${onChild.id}`), 200)
        expect(yield* accessesOf(R1)).toEqual([])
      }))
  })
}
