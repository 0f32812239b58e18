/**
 * Who has access and why, and what a user can reach (docs/access.md), held to the check: random trees in two
 * workspaces with random memberships, grants, link settings, share links, moves, revoked subtrees and a revoked
 * user; then `listPrincipals(r)` is exactly the users `check` gives a role on `r`, with that role; `listReachable(u,
 * a)` is exactly the resources `check` lets `u` do `a` on; `checkExplained` answers as `check` does, and every grant
 * it cites is stored and alone gives at least the role. A move or a revocation shows in both inside the transaction
 * that makes it; and each page is a bounded number of statements, whatever the number of resources or users.
 * Everything goes through the use cases; the suite never touches the store's SQL.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  type AccessQueries,
  type Action,
  addMember,
  roleAtLeast,
  authenticate,
  bootstrapAdmin,
  check,
  checkExplained,
  type CheckRequest,
  createResource,
  createWorkspace,
  grantAccess,
  type Handle,
  listPrincipals,
  listReachable,
  moveResource,
  type Position,
  type Principal,
  putShareLink,
  type AccessReason,
  type Resource,
  type ResourceId,
  type ResourcePrincipal,
  type ResourceRole,
  ResourceStore,
  revokeResource,
  revokeUser,
  ROLE_ORDER,
  roleOfGrantAlone,
  ShareLinkStore,
  Transactor,
  type UserId,
  UserStore,
  type WorkspaceId,
  WorkspaceStore
} from "@tessera/domain"
import { Data, Effect, Either, FastCheck as fc, Layer, Option } from "effect"
import { countingStatements } from "./checks.js"
import { ACTIONS, person, ROLES } from "./fixtures.js"
import { Admin, type StorePorts } from "./index.js"

type Ports = StorePorts | AccessQueries

const withAdmin = <E>(store: Layer.Layer<Ports, E>) =>
  Layer.effect(
    Admin,
    Effect.gen(function*() {
      const { apiKey } = yield* bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.none() })
      return { principal: yield* authenticate(apiKey), apiKey }
    }).pipe(Effect.orDie)
  ).pipe(Layer.provideMerge(store))

const POSITIONS: ReadonlyArray<Position> = ["first-child", "last-child", "first-sibling", "last-sibling", "left", "right"]
const USERS = 4 // 0 and 1 create (and administer) workspaces 0 and 1; 3 may be revoked
const NOWHERE_USER = "usr_0000000000000000000000000000dead" as UserId
const NOWHERE_RESOURCE = "res_0000000000000000000000000000dead" as ResourceId

const SceneArb = fc.record({
  memberships: fc.array(fc.constantFrom(null, "member" as const, "admin" as const), { minLength: 2 * USERS, maxLength: 2 * USERS }),
  tree: fc.array(
    fc.record({
      parent: fc.option(fc.nat(), { freq: 3, nil: null }),
      workspace: fc.nat(1),
      link_reach: fc.constantFrom("restricted" as const, "workspace" as const),
      link_role: fc.constantFrom("reader" as const, "editor" as const)
    }),
    { minLength: 2, maxLength: 9 }
  ),
  grants: fc.array(fc.record({ node: fc.nat(), user: fc.nat(USERS - 1), role: fc.constantFrom(...ROLES) }), { maxLength: 10 }),
  links: fc.array(fc.record({ node: fc.nat(), role: fc.constantFrom("reader" as const, "editor" as const) }), { maxLength: 3 }),
  moves: fc.array(fc.record({ node: fc.nat(), target: fc.nat(), position: fc.constantFrom(...POSITIONS) }), { maxLength: 3 }),
  revokedNodes: fc.array(fc.nat(), { maxLength: 2 }),
  revokeUser: fc.boolean(),
  actions: fc.array(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 60 })
})

/** Every page of principals, `limit` at a time. */
const allPrincipals = (actor: Principal, id: ResourceId, limit: number) =>
  Effect.gen(function*() {
    const rows: Array<ResourcePrincipal> = []
    let after: { role: ResourceRole; userId: UserId } | null = null
    for (let pages = 0; pages < 100; pages++) {
      const page: Effect.Effect.Success<ReturnType<typeof listPrincipals>> = yield* listPrincipals(actor, id, { after, limit })
      rows.push(...page.principals)
      if (page.next === null) return { rows, shareLinks: page.share_links }
      after = page.next
    }
    throw new Error("principals never ended")
  })

/** Every page of what a user reaches, `limit` at a time, as ids. */
const allReachable = (actor: Principal, userId: UserId, action: Action, workspaceId: WorkspaceId | null, limit: number) =>
  Effect.gen(function*() {
    const ids: Array<ResourceId> = []
    let after: ResourceId | null = null
    for (let pages = 0; pages < 100; pages++) {
      const page: Effect.Effect.Success<ReturnType<typeof listReachable>> = yield* listReachable(actor, userId, action, { workspaceId }, { after, limit })
      ids.push(...page.resources.map((r) => r.id))
      if (page.next === null) return ids
      after = page.next
    }
    throw new Error("reachable never ended")
  })

const sorted = <A>(items: ReadonlyArray<A>) => [...items].map((x) => JSON.stringify(x)).sort()

/**
 * Every grant `reasons` cites is stored, and alone gives at least `role`; a denial names what the store holds.
 * Read back through the ports.
 */
const verifyReasons = (userId: UserId, resourceId: ResourceId, role: ResourceRole | null, reasons: ReadonlyArray<AccessReason>) =>
  Effect.gen(function*() {
    const store = yield* ResourceStore
    const resource = yield* store.findById(resourceId)
    const path = Option.isSome(resource) ? yield* store.pathToRoot(resourceId) : []
    const workspace = Option.isSome(resource) ? yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(resource.value.workspace_id)) : Option.none()
    const membership = Option.isSome(workspace) ? workspace.value.members.find((m) => m.user_id === userId)?.role ?? null : null
    const context = { userId, resourceId, role, reasons }
    if (role === null) {
      expect({ ...context, count: reasons.length }).toEqual({ ...context, count: 1 })
      const denial = reasons[0]!
      const user = yield* Effect.flatMap(UserStore, (s) => s.findById(userId))
      const active = Option.isSome(user) && user.value.status === "active"
      if (denial.kind === "user_inactive") expect(active).toBe(false)
      else if (denial.kind === "not_found") expect(Option.isNone(resource)).toBe(true)
      else if (denial.kind === "revoked") {
        expect(path).toContain(denial.resource_id)
        expect(Option.getOrThrow(yield* store.findById(denial.resource_id)).revoked_at).not.toBeNull()
      } else if (denial.kind === "not_member") expect(membership).toBeNull()
      else if (denial.kind === "no_grant") expect(membership).not.toBeNull()
      else throw new Error(`a grant explains no role: ${JSON.stringify(context)}`)
      return
    }
    expect(reasons.length).toBeGreaterThan(0)
    for (const reason of reasons) {
      if (reason.kind === "direct" || reason.kind === "inherited") {
        const access = Option.getOrThrow(yield* store.findAccess(reason.access_id))
        expect({ ...context, access: { resource_id: access.resource_id, user_id: access.user_id, role: access.role } })
          .toEqual({ ...context, access: { resource_id: reason.resource_id, user_id: userId, role: reason.role } })
        if (reason.kind === "direct") expect(reason.resource_id).toBe(resourceId)
        else expect(path.slice(1)).toContain(reason.resource_id)
      } else if (reason.kind === "workspace_admin") {
        expect({ ...context, membership }).toEqual({ ...context, membership: "admin" })
      } else if (reason.kind === "workspace_link") {
        expect(path).toContain(reason.resource_id)
        const node = Option.getOrThrow(yield* store.findById(reason.resource_id))
        expect({ ...context, reach: node.link_reach, linkRole: node.link_role, member: membership !== null })
          .toEqual({ ...context, reach: "workspace", linkRole: reason.role, member: true })
      } else {
        throw new Error(`a denial explains a role: ${JSON.stringify(context)}`)
      }
      expect({ ...context, alone: roleAtLeast(roleOfGrantAlone(reason), role) }).toEqual({ ...context, alone: true })
    }
  })

class Rollback extends Data.TaggedError("Rollback") {}

export const accessContract = <E>(name: string, store: Layer.Layer<Ports, E>) =>
  layer(withAdmin(store), { timeout: "120 seconds" })(`${name} access contract`, (it) => {
    describe("principals, explain and reachable agree with the check (property)", () => {
      it.effect.prop(
        "random trees, memberships, grants, links, share links, moves, revoked subtrees and a revoked user",
        [SceneArb],
        ([scene]) =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const users = [yield* person(admin), yield* person(admin), yield* person(admin), yield* person(admin)]
            const workspaces = [
              yield* createWorkspace(users[0]!.principal, { name: "access 0" }),
              yield* createWorkspace(users[1]!.principal, { name: "access 1" })
            ]
            for (const [k, role] of scene.memberships.entries()) {
              const [w, u] = [k % 2, Math.floor(k / 2)]
              if (role !== null && u !== w) yield* addMember(users[w]!.principal, workspaces[w]!.id, users[u]!.id, role)
            }
            const nodes: Array<{ id: ResourceId; workspace: number }> = []
            for (const [k, node] of scene.tree.entries()) {
              const parent = k === 0 || node.parent === null ? null : nodes[node.parent % k]!
              const workspace = parent?.workspace ?? node.workspace
              const created = yield* createResource(parent === null ? users[workspace]!.principal : admin, workspaces[workspace]!.id, {
                title: `n${k}`,
                parent_id: parent?.id ?? null,
                link_reach: node.link_reach,
                link_role: node.link_role
              })
              nodes.push({ id: created.id, workspace })
            }
            const ids = nodes.map((n) => n.id)
            const at = (n: number) => ids[n % ids.length]!
            // refusals (a second grant to one user, a move into its own subtree) leave the state as it is: the check reads it back
            for (const g of scene.grants) yield* Effect.either(grantAccess(admin, at(g.node), users[g.user]!.id, g.role))
            for (const l of scene.links) yield* Effect.either(putShareLink(admin, at(l.node), l.role))
            for (const m of scene.moves) yield* Effect.either(moveResource(admin, at(m.node), { targetId: at(m.target), position: m.position, dryRun: false }))
            for (const n of scene.revokedNodes) yield* Effect.either(revokeResource(admin, at(n), { dryRun: false }))
            if (scene.revokeUser) yield* Effect.either(revokeUser(admin, users[3]!.id))

            const userIds = users.map((u) => u.id)
            const store = yield* ResourceStore
            const resources: ReadonlyArray<Resource> = [
              ...(yield* store.listWorkspace(workspaces[0]!.id)),
              ...(yield* store.listWorkspace(workspaces[1]!.id))
            ]
            const roleOf = new Map<string, ResourceRole | null>()
            const asked: Array<CheckRequest> = resources.flatMap((r) => userIds.map((u) => ({ user_id: u, resource_id: r.id, action: "read" as const })))
            for (const [k, answer] of (yield* check(admin, asked)).entries()) roleOf.set(`${asked[k]!.resource_id} ${asked[k]!.user_id}`, answer.role)

            // explain: the check's answers, with reasons that hold; unknown users and resources too
            const explainAsked: Array<CheckRequest> = [
              ...asked.map((c, k) => ({ ...c, action: scene.actions[k % scene.actions.length]! })),
              { user_id: NOWHERE_USER, resource_id: ids[0]!, action: "read" },
              { user_id: userIds[0]!, resource_id: NOWHERE_RESOURCE, action: "read" }
            ]
            const plain = yield* check(admin, explainAsked)
            const explained = yield* checkExplained(admin, explainAsked)
            const becauseOf = new Map<string, ReadonlyArray<AccessReason>>()
            for (const [k, c] of explainAsked.entries()) {
              expect({ k, check: c, role: explained[k]!.role, allowed: explained[k]!.allowed }).toEqual({ k, check: c, ...plain[k]! })
              yield* verifyReasons(c.user_id, c.resource_id, explained[k]!.role, explained[k]!.because)
              becauseOf.set(`${c.resource_id} ${c.user_id}`, explained[k]!.because)
            }

            // principals: exactly the users the check gives a role, with that role and the explanation's grants
            for (const r of resources) {
              const listed = yield* Effect.either(allPrincipals(admin, r.id, 2))
              const expected = userIds.flatMap((u) => {
                const role = roleOf.get(`${r.id} ${u}`)!
                return role === null ? [] : [{ user_id: u, role }]
              })
              if (r.revoked_at !== null) {
                expect(Either.isLeft(listed) && listed.left._tag).toBe("ResourceRevoked")
                expect(expected).toEqual([])
                continue
              }
              const rows = Either.getOrThrow(listed).rows
              expect({ resource: r.id, principals: sorted(rows.map((p) => ({ user_id: p.user_id, role: p.role }))) })
                .toEqual({ resource: r.id, principals: sorted(expected) })
              for (const [k, p] of rows.entries()) {
                expect(p.grants).toEqual(becauseOf.get(`${r.id} ${p.user_id}`))
                const before = rows[k - 1]
                if (before !== undefined) {
                  const [a, b] = [ROLE_ORDER.indexOf(before.role), ROLE_ORDER.indexOf(p.role)]
                  expect(a > b || (a === b && before.user_id < p.user_id)).toBe(true)
                }
              }
              const path = yield* store.pathToRoot(r.id)
              const links = yield* ShareLinkStore
              const active = yield* Effect.forEach(path, (node) => links.findActive(node))
              expect(sorted(Either.getOrThrow(listed).shareLinks))
                .toEqual(sorted(active.flatMap((l) => Option.isSome(l) ? [{ id: l.value.id, resource_id: l.value.resource_id, role: l.value.role }] : [])))
            }

            // reachable: exactly the resources the check lets the user act on, in all workspaces and in one
            for (const u of userIds) {
              for (const action of ACTIONS) {
                const allowed = resources.filter((r) => {
                  const role = roleOf.get(`${r.id} ${u}`)!
                  return role !== null && roleAtLeast(role, ROLES[ACTIONS.indexOf(action)]!)
                })
                const everywhere = yield* allReachable(admin, u, action, null, 3)
                expect({ user: u, action, ids: [...everywhere].sort() }).toEqual({ user: u, action, ids: allowed.map((r) => r.id as string).sort() })
                expect(everywhere).toEqual([...everywhere].sort())
                const inFirst = yield* allReachable(admin, u, action, workspaces[0]!.id, 3)
                expect({ user: u, action, ids: [...inFirst].sort() })
                  .toEqual({ user: u, action, ids: allowed.filter((r) => r.workspace_id === workspaces[0]!.id).map((r) => r.id as string).sort() })
              }
            }
            expect((yield* Effect.flip(listReachable(admin, NOWHERE_USER, "read")))._tag).toBe("UserNotFound")
          }),
        { timeout: 600_000, fastCheck: { numRuns: 20, interruptAfterTimeLimit: 300_000 } }
      )
    })

    describe("a move or a revocation shows inside its own transaction", () => {
      const scene = Effect.gen(function*() {
        const { principal: admin } = yield* Admin
        const [owner, editor] = [yield* person(admin), yield* person(admin)]
        const workspace = yield* createWorkspace(owner.principal, { name: "in the transaction" })
        const make = (title: string, parent: ResourceId | null) =>
          Effect.map(createResource(owner.principal, workspace.id, { title, parent_id: parent }), (r) => r.id)
        const a = yield* make("a", null)
        const b = yield* make("b", a)
        const c = yield* make("c", b)
        const z = yield* make("z", null)
        yield* grantAccess(owner.principal, a, editor.id, "editor")
        const reach = Effect.map(allReachable(admin, editor.id, "edit", null, 2), (ids) => [...ids].sort())
        const principalsOf = (id: ResourceId) => Effect.map(allPrincipals(owner.principal, id, 10), (p) => p.rows.map((r) => r.user_id))
        return { admin, owner, editor, a, b, c, z, reach, principalsOf }
      })

      it.effect("a subtree moved out of its scope leaves reachable and principals before commit; a rollback brings it back", () =>
        Effect.gen(function*() {
          const { a, b, c, editor, owner, principalsOf, reach, z } = yield* scene
          expect(yield* reach).toEqual([a, b, c].sort())
          expect(yield* principalsOf(c)).toContain(editor.id)
          let seen: { reach: ReadonlyArray<ResourceId>; principals: ReadonlyArray<UserId> } | undefined
          const ended = yield* Transactor.run(Effect.gen(function*() {
            yield* moveResource(owner.principal, b, { targetId: z, position: "last-child", dryRun: false })
            seen = { reach: yield* reach, principals: yield* principalsOf(c) }
            return yield* new Rollback() // rolls the move back
          })).pipe(Effect.flip)
          expect(ended._tag).toBe("Rollback")
          expect(seen?.reach).toEqual([a])
          expect(seen?.principals).not.toContain(editor.id)
          expect(yield* reach).toEqual([a, b, c].sort())
          // and committed, it stays gone
          yield* moveResource(owner.principal, b, { targetId: z, position: "last-child", dryRun: false })
          expect(yield* reach).toEqual([a])
          expect(yield* principalsOf(c)).toEqual([owner.id])
        }))

      it.effect("a revoked subtree leaves reachable and principals before commit; a rollback brings it back", () =>
        Effect.gen(function*() {
          const { a, b, c, editor, owner, principalsOf, reach } = yield* scene
          let seen: { reach: ReadonlyArray<ResourceId>; onC: string; onA: ReadonlyArray<UserId> } | undefined
          const ended = yield* Transactor.run(Effect.gen(function*() {
            yield* revokeResource(owner.principal, b, { dryRun: false })
            seen = { reach: yield* reach, onC: Either.match(yield* Effect.either(principalsOf(c)), { onLeft: (e) => e._tag, onRight: () => "listed" }), onA: yield* principalsOf(a) }
            return yield* new Rollback() // rolls the revocation back
          })).pipe(Effect.flip)
          expect(ended._tag).toBe("Rollback")
          expect(seen?.reach).toEqual([a])
          expect(seen?.onC).toBe("ResourceRevoked")
          expect(seen?.onA).toContain(editor.id)
          expect(yield* reach).toEqual([a, b, c].sort())
          yield* revokeResource(owner.principal, b, { dryRun: false })
          expect(yield* reach).toEqual([a])
        }))
    })

    describe("statements per page", () => {
      it.effect("reachable, principals and explain cost the same few statements for 2 or 40 resources, users and checks", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const count = (n: number) =>
            Effect.gen(function*() {
              const owner = yield* person(admin)
              const readers = yield* Effect.forEach(Array.from({ length: n }), () => person(admin))
              const workspace = yield* createWorkspace(owner.principal, { name: `wide ${n}` })
              const root = (yield* createResource(owner.principal, workspace.id, { title: "root" })).id
              const leaves: Array<ResourceId> = []
              for (let i = 0; i < n; i++) leaves.push((yield* createResource(owner.principal, workspace.id, { title: `l${i}`, parent_id: root })).id)
              for (const r of readers) yield* grantAccess(owner.principal, root, r.id, "reader")
              const reach = yield* countingStatements(listReachable(admin, owner.id, "read"))
              const who = yield* countingStatements(listPrincipals(owner.principal, leaves[n - 1]!))
              const why = yield* countingStatements(checkExplained(admin, readers.map((r, i) => ({ user_id: r.id, resource_id: leaves[i]!, action: "read" as const }))))
              expect(reach.result.resources.length).toBe(n + 1)
              expect(who.result.principals.length).toBe(n + 1)
              expect(why.result.every((a) => a.role === "reader" && a.because[0]!.kind === "inherited")).toBe(true)
              return { reach: reach.statements, who: who.statements, why: why.statements }
            })
          const small = yield* count(2)
          const large = yield* count(40)
          expect(large).toEqual(small)
          // the user, then one walk; the resource and the actor's role, then one statement; the facts, then the cited accesses
          expect(small).toEqual({ reach: 2, who: 3, why: 2 })
        }))
    })
  })
