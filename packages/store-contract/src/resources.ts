/**
 * The resources half of the contract suite (docs/domain.md#resources, docs/domain.md#moves): random trees built with `createResource` and
 * rearranged by random moves and access changes, checked after every step against the invariants every stored
 * state must keep (no cycle, no orphan, an owner on every root, a dense sibling order with each resource where its
 * move put it) and against a model of what each operation does; the effective role against a brute force over
 * the stored accesses; and a move that dies half-way leaving nothing behind. Like `storeContract`, it drives the
 * domain's use cases through the store's ports and never the store's SQL: the raw sibling positions, which no port
 * exposes, come from an optional probe the store's own test supplies.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  type Access,
  addMember,
  allows,
  authenticate,
  changeAccess,
  createResource,
  createWorkspace,
  effectiveRoleOf,
  EventLog,
  grantAccess,
  InviteStore,
  listAccesses,
  mintInvite,
  moveResource,
  type MoveReport,
  patchResource,
  type Position,
  type Principal,
  removeAccess,
  type Resource,
  type ResourceId,
  type ResourceRole,
  ResourceStore,
  type UserId,
  type WorkspaceId,
  WorkspaceStore
} from "@tessera/domain"
import { Cause, Effect, Either, Exit, FastCheck as fc, Layer, Option } from "effect"
import { lastSeq, registerUser } from "./fixtures.js"
import { Admin, type StorePorts, withAdmin } from "./index.js"

/** One stored row of the tree as the store keeps it: its parent and its integer place among its siblings. */
export interface SiblingRow {
  readonly id: string
  readonly parent_id: string | null
  readonly position: number
}

export interface ResourceContractOptions<R> {
  /** Reads the stored `position` of every resource of a workspace (the ports only expose the resulting order). */
  readonly positions?: (workspaceId: WorkspaceId) => Effect.Effect<ReadonlyArray<SiblingRow>, never, R>
}

// ---------------------------------------------------------------------------------------------
// People and reading the stored state.

interface Person {
  readonly id: UserId
  readonly principal: Principal
}

const person = Effect.gen(function*() {
  const { principal: admin } = yield* Admin
  const registered = yield* registerUser(admin)
  return { id: registered.user.id, principal: yield* authenticate(registered.apiKey) } satisfies Person
})


const ROOTS = "" // the key of the roots' sibling list
const keyOf = (parent: string | null) => parent ?? ROOTS

interface StoredState {
  readonly resources: ReadonlyArray<Resource>
  readonly byId: ReadonlyMap<string, Resource>
  readonly accesses: ReadonlyArray<Access>
  readonly members: ReadonlyMap<string, "admin" | "member">
  /** Children of each resource (and the roots under `ROOTS`), in the order `children` returns them. */
  readonly order: ReadonlyMap<string, ReadonlyArray<string>>
  readonly seq: number
  /** Everything a refused operation must leave alone, as one string. */
  readonly json: string
}

const readState = (workspaceId: WorkspaceId) =>
  Effect.gen(function*() {
    const store = yield* ResourceStore
    const resources = yield* store.listWorkspace(workspaceId)
    const accesses = yield* store.accesses(resources.map((r) => r.id))
    const workspace = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(workspaceId)))
    const order = new Map<string, ReadonlyArray<string>>()
    for (const parent of [null, ...resources.map((r) => r.id)]) {
      order.set(keyOf(parent), (yield* store.children(workspaceId, parent)).map((r) => r.id))
    }
    const seq = yield* lastSeq
    const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: 0, limit: 1000, workspaceId }))
    return {
      resources,
      byId: new Map(resources.map((r) => [r.id, r])),
      accesses,
      members: new Map(workspace.members.map((m) => [m.user_id, m.role])),
      order,
      seq,
      json: JSON.stringify({ resources, accesses, order: [...order], seq, events })
    } satisfies StoredState
  })

const RANK: Record<ResourceRole, number> = { reader: 1, commenter: 2, editor: 3, administrator: 4, owner: 5 }

/** The nodes from `id` up to its root, walking stored parent pointers (at most one step per stored resource). */
export const ancestorsIn = (byId: ReadonlyMap<string, Resource>, id: string): ReadonlyArray<Resource> => {
  const path: Array<Resource> = []
  for (let at: string | null = id; at !== null; at = byId.get(at)?.parent_id ?? null) {
    const node = byId.get(at)
    if (node === undefined || path.length > byId.size) break
    path.push(node)
  }
  return path
}

/**
 * docs/domain.md#resources by brute force: the highest of the user's direct accesses on the path, the link role of every node on
 * the path shared with the workspace (members only), and administrator for a workspace admin.
 */
export const bruteRole = (
  path: ReadonlyArray<Resource>,
  accesses: ReadonlyArray<Access>,
  workspaceRole: "admin" | "member" | undefined,
  userId: string
): ResourceRole | null => {
  if (path.some((n) => n.revoked_at !== null)) return null
  const grants: Array<ResourceRole> = []
  const onPath = new Set(path.map((n) => n.id as string))
  for (const a of accesses) if (a.user_id === userId && onPath.has(a.resource_id)) grants.push(a.role)
  if (workspaceRole !== undefined) for (const n of path) if (n.link_reach === "workspace") grants.push(n.link_role)
  if (workspaceRole === "admin") grants.push("administrator")
  return grants.reduce<ResourceRole | null>((best, g) => (best === null || RANK[g] > RANK[best] ? g : best), null)
}

/**
 * Invariants of any stored state, whatever the operations were: every parent exists in the same workspace, no
 * cycle, each root keeps a direct owner, `children` lists every resource exactly once under its own parent, and
 * (with the probe) the stored positions of each sibling list are exactly 0..n-1 in that order.
 */
const expectInvariants = <R>(workspaceId: WorkspaceId, state: StoredState, options: ResourceContractOptions<R>) =>
  Effect.gen(function*() {
    for (const r of state.resources) {
      expect(r.workspace_id).toBe(workspaceId)
      if (r.parent_id !== null) expect({ id: r.id, parentStored: state.byId.has(r.parent_id) }).toEqual({ id: r.id, parentStored: true })
      const path = ancestorsIn(state.byId, r.id)
      expect({ id: r.id, endsAtRoot: path.length <= state.resources.length && path[path.length - 1]?.parent_id === null })
        .toEqual({ id: r.id, endsAtRoot: true })
      if (r.parent_id === null) {
        const owners = state.accesses.filter((a) => a.resource_id === r.id && a.role === "owner")
        expect({ root: r.id, owners: owners.length > 0 }).toEqual({ root: r.id, owners: true })
      }
    }
    const listed = [...state.order.entries()].flatMap(([parent, ids]) => ids.map((id) => [id, parent] as const))
    expect(listed.map(([id]) => id).sort()).toEqual(state.resources.map((r) => r.id as string).sort())
    for (const [id, parent] of listed) expect(keyOf(state.byId.get(id)!.parent_id)).toBe(parent)
    if (options.positions !== undefined) {
      const rows = yield* options.positions(workspaceId)
      for (const [parent, ids] of state.order) {
        const siblings = rows.filter((row) => keyOf(row.parent_id) === parent).map((row) => ({ id: row.id, position: Number(row.position) }))
        siblings.sort((a, b) => a.position - b.position)
        expect({ parent, positions: siblings.map((s) => s.position), ids: siblings.map((s) => s.id) })
          .toEqual({ parent, positions: ids.map((_, i) => i), ids })
      }
    }
  })

/** For each resource and user: `effectiveRoleOf` is the brute force over the path's accesses from `listAccesses`. */
const expectEffectiveRoles = (admin: Principal, state: StoredState, users: ReadonlyArray<Person>) =>
  Effect.gen(function*() {
    for (const r of state.resources) {
      const inherited = yield* listAccesses(admin, r.id, true)
      const path = ancestorsIn(state.byId, r.id)
      const onPath = new Set(path.map((n) => n.id as string))
      expect(inherited.map((a) => a.id).sort()).toEqual(state.accesses.filter((a) => onPath.has(a.resource_id)).map((a) => a.id).sort())
      for (const [k, u] of users.entries()) {
        const expected = bruteRole(path, inherited, state.members.get(u.id), u.id)
        expect({ resource: r.id, user: k, role: yield* effectiveRoleOf(u.id, r.id) }).toEqual({ resource: r.id, user: k, role: expected })
      }
    }
  })

const outcomeOf = (result: Either.Either<unknown, { readonly _tag: string }>) => (Either.isRight(result) ? "ok" : result.left._tag)

// ---------------------------------------------------------------------------------------------
// The model: what docs/domain.md#resources and docs/domain.md#moves say each operation does to the tree, its order and the direct accesses.

/** Deeper than the store's ancestor walk reached when this was written (65 nodes). */
const DEEP = 80

const USERS = 4 // 0: workspace admin; 1, 2: members; 3: not a member
const SYSTEM_ADMIN = USERS
const ROLES: ReadonlyArray<ResourceRole> = ["reader", "commenter", "editor", "administrator", "owner"]
const POSITIONS: ReadonlyArray<Position> = ["first-child", "last-child", "first-sibling", "last-sibling", "left", "right"]

const RoleArb = fc.constantFrom(...ROLES)
const ByArb = fc.oneof({ arbitrary: fc.constant(SYSTEM_ADMIN), weight: 3 }, { arbitrary: fc.nat(USERS - 1), weight: 2 })

const TreeArb = fc.array(
  fc.record({
    parent: fc.option(fc.nat(), { freq: 5, nil: null }),
    creator: fc.nat(2),
    link_reach: fc.constantFrom("restricted" as const, "workspace" as const),
    link_role: fc.constantFrom("reader" as const, "editor" as const)
  }),
  { minLength: 3, maxLength: 12 }
)

const OpArb = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("move" as const),
      by: ByArb,
      node: fc.nat(),
      target: fc.nat(), // one value in (nodes + 1) picks the resource of another workspace
      position: fc.constantFrom(...POSITIONS),
      dryRun: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 })
    }),
    weight: 6
  },
  { arbitrary: fc.record({ op: fc.constant("grant" as const), by: ByArb, node: fc.nat(), user: fc.nat(USERS - 1), role: RoleArb }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("change" as const), by: ByArb, node: fc.nat(), pick: fc.nat(), role: RoleArb }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("remove" as const), by: ByArb, node: fc.nat(), pick: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({
      op: fc.constant("link" as const),
      by: ByArb,
      node: fc.nat(),
      link_reach: fc.constantFrom("restricted" as const, "workspace" as const),
      link_role: fc.constantFrom("reader" as const, "editor" as const)
    }),
    weight: 1
  }
)
type Op = typeof OpArb extends fc.Arbitrary<infer T> ? T : never

interface Model {
  readonly parent: Map<string, string | null>
  readonly order: Map<string, Array<string>>
  /** resource → user → direct role */
  readonly access: Map<string, Map<string, ResourceRole>>
  readonly link: Map<string, { link_reach: string; link_role: string }>
}

const rootOf = (parent: ReadonlyMap<string, string | null>, id: string) => {
  let at = id
  for (let up = parent.get(at)!; up !== null; up = parent.get(at)!) at = up
  return at
}

const isUnder = (parent: ReadonlyMap<string, string | null>, node: string, ancestor: string) => {
  for (let up = parent.get(node)!; up !== null; up = parent.get(up)!) if (up === ancestor) return true
  return false
}

/** A new parent the actor cannot see at all is not found; one they see without administering it is forbidden. */
const newParentOutcome = (role: ResourceRole | null) => (role === null ? "NotFound" : allows(role, "administer") ? "ok" : "Forbidden")

/** Where `id` lands among its new siblings (docs/domain.md#moves): first or last, or right before or after the target. */
const place = (siblings: Array<string>, id: string, target: string, position: Position) => {
  switch (position) {
    case "first-child":
    case "first-sibling":
      return siblings.unshift(id)
    case "last-child":
    case "last-sibling":
      return siblings.push(id)
    case "left":
      return siblings.splice(siblings.indexOf(target), 0, id)
    case "right":
      return siblings.splice(siblings.indexOf(target) + 1, 0, id)
  }
}

// ---------------------------------------------------------------------------------------------

export const resourceContract = <E, R = never>(
  name: string,
  store: Layer.Layer<StorePorts | R, E>,
  options: ResourceContractOptions<R> = {}
) =>
  // merged again so that the probe's own services (`R`) stay in context; one layer value is built once
  layer(Layer.merge(withAdmin(store), store), { timeout: "120 seconds" })(`${name} resource contract`, (it) => {
    describe("trees under random moves and access changes (property)", () => {
      it.effect.prop(
        "no cycle, no orphan, an owner on every root, siblings where the moves put them, effective roles as the brute force says",
        [TreeArb, fc.array(OpArb, { minLength: 6, maxLength: 24, size: "max" })],
        ([tree, ops]) =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const users: Array<Person> = []
            for (let i = 0; i < USERS; i++) users.push(yield* person)
            const workspace = yield* createWorkspace(users[0]!.principal, { name: "trees" })
            for (const u of [users[1]!, users[2]!]) yield* addMember(users[0]!.principal, workspace.id, u.id, "member")
            const elsewhere = yield* createWorkspace(users[0]!.principal, { name: "elsewhere" })
            const foreign = yield* createResource(users[0]!.principal, elsewhere.id, { title: "foreign" })

            const model: Model = { parent: new Map(), order: new Map([[ROOTS, []]]), access: new Map(), link: new Map() }
            const ids: Array<ResourceId> = []
            for (const [k, node] of tree.entries()) {
              const parent = k === 0 || node.parent === null ? null : ids[node.parent % k]!
              // roots by a member, who becomes their owner; children by the system admin, so nobody gets an access
              const creator = parent === null ? users[node.creator]! : undefined
              const created = yield* createResource(creator?.principal ?? admin, workspace.id, {
                title: `n${k}`,
                parent_id: parent,
                link_reach: node.link_reach,
                link_role: node.link_role
              })
              ids.push(created.id)
              model.parent.set(created.id, parent)
              model.order.get(keyOf(parent))!.push(created.id)
              model.order.set(created.id, [])
              model.access.set(created.id, new Map(creator === undefined ? [] : [[creator.id, "owner" as const]]))
              model.link.set(created.id, { link_reach: node.link_reach, link_role: node.link_role })
            }

            const actorOf = (by: number) => (by === SYSTEM_ADMIN ? admin : users[by]!.principal)
            const roleOf = (state: StoredState, by: number, id: string) =>
              by === SYSTEM_ADMIN ? "owner" : bruteRole(ancestorsIn(state.byId, id), state.accesses, state.members.get(users[by]!.id), users[by]!.id)
            const directOf = (state: StoredState, id: string) => state.accesses.filter((a) => a.resource_id === id)
            /** The last owner rule: `access` is the only direct owner of a root. */
            const lastOwner = (state: StoredState, id: string, access: Access) =>
              model.parent.get(id) === null && access.role === "owner" &&
              directOf(state, id).filter((a) => a.role === "owner").every((a) => a.id === access.id)

            /** Runs one operation; returns its outcome and what the model says the outcome must be, and applies it to the model. */
            const step = (op: Op, before: StoredState) =>
              Effect.gen(function*() {
                // changes and removals mostly pick among the resources that have direct accesses to change
                const holders = op.op === "change" || op.op === "remove" ? ids.filter((id) => model.access.get(id)!.size > 0) : []
                const pool = holders.length > 0 && op.node % 4 !== 0 ? holders : ids
                const node = pool[op.node % pool.length]!
                const actor = actorOf(op.by)
                const role = roleOf(before, op.by, node)
                switch (op.op) {
                  case "move": {
                    const t = op.target % (ids.length + 1)
                    const target = t === ids.length ? foreign.id : ids[t]!
                    const asChild = op.position === "first-child" || op.position === "last-child"
                    const newParent = target === foreign.id ? null : asChild ? target : model.parent.get(target)!
                    // a target the actor cannot see at all is not found (the foreign one: only its owner, user 0)
                    const seesTarget = target === foreign.id ? op.by === SYSTEM_ADMIN || op.by === 0 : roleOf(before, op.by, target) !== null
                    const expected = role === null || !seesTarget
                      ? "NotFound"
                      : target === foreign.id || target === node || isUnder(model.parent, target, node)
                      ? "InvalidMove"
                      : !allows(role, "administer")
                      ? "Forbidden"
                      : newParent !== null
                      ? newParentOutcome(roleOf(before, op.by, newParent))
                      : op.by === SYSTEM_ADMIN || before.members.has(users[op.by]!.id)
                      ? "ok"
                      : "Forbidden"
                    const result = yield* Effect.either(moveResource(actor, node, { targetId: target, position: op.position, dryRun: op.dryRun }))
                    const actual = outcomeOf(result)
                    if (actual !== "ok" || expected !== "ok") return { actual, expected }
                    const wasRoot = model.parent.get(node) === null
                    const rootBefore = rootOf(model.parent, node)
                    const after = new Map(model.parent).set(node, newParent)
                    const becomesRoot = newParent === null
                    const scopeChanged = wasRoot || becomesRoot || rootBefore !== rootOf(after, node)
                    const oldPath = ancestorsIn(before.byId, node).map((n) => n.id as string)
                    const owners = scopeChanged && becomesRoot
                      ? [...new Set(oldPath.flatMap((id) => [...model.access.get(id)!].filter(([, r]) => r === "owner").map(([u]) => u)))]
                      : []
                    const report: MoveReport = Either.getOrThrow(result)
                    expect({
                      parent_id: report.resource.parent_id,
                      scope_changed: report.scope_changed,
                      accesses_deleted: report.accesses_deleted,
                      invites_canceled: report.invites_canceled,
                      owners_restored: report.owners_restored
                    }).toEqual({
                      parent_id: newParent,
                      scope_changed: scopeChanged,
                      accesses_deleted: scopeChanged ? model.access.get(node)!.size : 0,
                      invites_canceled: 0,
                      owners_restored: owners.length
                    })
                    if (op.dryRun) return { actual, expected }
                    const siblings = model.order.get(keyOf(model.parent.get(node)!))!
                    siblings.splice(siblings.indexOf(node), 1)
                    place(model.order.get(keyOf(newParent))!, node, target, op.position)
                    model.parent.set(node, newParent)
                    if (scopeChanged) model.access.set(node, new Map(owners.map((u) => [u, "owner" as const])))
                    return { actual, expected, scopeChanged }
                  }
                  case "grant": {
                    const user = users[op.user]!.id
                    const expected = role === null
                      ? "NotFound"
                      : !allows(role, op.role === "owner" ? "own" : "administer")
                      ? "Forbidden"
                      : model.access.get(node)!.has(user)
                      ? "Conflict"
                      : "ok"
                    const actual = outcomeOf(yield* Effect.either(grantAccess(actor, node, user, op.role)))
                    if (actual === "ok") model.access.get(node)!.set(user, op.role)
                    return { actual, expected }
                  }
                  case "change":
                  case "remove": {
                    const direct = directOf(before, node)
                    const access = direct.length === 0 ? undefined : direct[op.pick % direct.length]!
                    const newRole = op.op === "change" ? op.role : undefined
                    const expected = role === null
                      ? "NotFound"
                      : access === undefined
                      ? "NotFound"
                      : !allows(role, newRole === "owner" || access.role === "owner" ? "own" : "administer")
                      ? "Forbidden"
                      : newRole !== "owner" && lastOwner(before, node, access)
                      ? "LastOwner"
                      : "ok"
                    const accessId = access?.id ?? "acc_00000000000000000000000000000000"
                    const result = newRole === undefined
                      ? yield* Effect.either(removeAccess(actor, node, accessId))
                      : yield* Effect.either(changeAccess(actor, node, accessId, newRole))
                    const actual = outcomeOf(result)
                    if (actual === "ok" && access !== undefined) {
                      if (newRole === undefined) model.access.get(node)!.delete(access.user_id)
                      else model.access.get(node)!.set(access.user_id, newRole)
                    }
                    if (Either.isLeft(result) && result.left._tag === "LastOwner") expect(result.left).toMatchObject({ resourceIds: [node] })
                    return { actual, expected }
                  }
                  case "link": {
                    const expected = role === null ? "NotFound" : !allows(role, "administer") ? "Forbidden" : "ok"
                    const patch = { link_reach: op.link_reach, link_role: op.link_role }
                    const actual = outcomeOf(yield* Effect.either(patchResource(actor, node, patch)))
                    if (actual === "ok") model.link.set(node, patch)
                    return { actual, expected }
                  }
                }
              })

            let before = yield* readState(workspace.id)
            yield* expectInvariants(workspace.id, before, options)
            for (const [i, op] of ops.entries()) {
              const { actual, expected, scopeChanged } = yield* step(op, before)
              expect({ step: i, op, outcome: actual }).toEqual({ step: i, op, outcome: expected })
              const after = yield* readState(workspace.id)
              if (actual !== "ok" || (op.op === "move" && op.dryRun)) {
                // a refusal or a dry run writes nothing at all: no node, no place, no access, no event
                expect(after.json).toBe(before.json)
              } else {
                expect(after.seq).toBeGreaterThan(before.seq)
                if (scopeChanged === true) {
                  const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: before.seq, limit: 100 }))
                  expect(events.map((e) => e.type)).toEqual(["resource.moved", "resource.accesses_reset"])
                }
              }
              // invariants first (they hold whatever the model says), then the model, then the permission check
              yield* expectInvariants(workspace.id, after, options)
              expect({ step: i, order: Object.fromEntries(after.order) }).toEqual({ step: i, order: Object.fromEntries(model.order) })
              expect({ step: i, parents: Object.fromEntries(after.resources.map((r) => [r.id, r.parent_id])) })
                .toEqual({ step: i, parents: Object.fromEntries(model.parent) })
              const storedAccess = Object.fromEntries(ids.map((id) => [id, Object.fromEntries(directOf(after, id).map((a) => [a.user_id, a.role]))]))
              const modelAccess = Object.fromEntries(ids.map((id) => [id, Object.fromEntries(model.access.get(id)!)]))
              expect({ step: i, accesses: storedAccess }).toEqual({ step: i, accesses: modelAccess })
              expect(Object.fromEntries(after.resources.map((r) => [r.id, { link_reach: r.link_reach, link_role: r.link_role }])))
                .toEqual(Object.fromEntries(model.link))
              yield* expectEffectiveRoles(admin, after, users)
              before = after
            }
          }),
        // shrinking replays whole scenarios against the store: bound it, so that a failure is reported in minutes
        { timeout: 600_000, fastCheck: { numRuns: 20, interruptAfterTimeLimit: 240_000 } }
      )
    })

    describe("deep trees", () => {
      it.effect("permissions and cycle checks see every ancestor, however deep the tree (or the depth is refused when created)", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const [a, b] = [yield* person, yield* person]
          const workspace = yield* createWorkspace(a.principal, { name: "deep" })
          yield* addMember(a.principal, workspace.id, b.id, "member")
          const root = yield* createResource(b.principal, workspace.id, { title: "root" })
          const chain: Array<Resource> = [root]
          // deeper than any small fixed bound on the ancestor walk; a store may refuse to go that deep, but then says so
          for (let depth = 1; depth < DEEP; depth++) {
            const child = yield* Effect.either(createResource(admin, workspace.id, { title: `d${depth}`, parent_id: chain[depth - 1]!.id }))
            if (Either.isLeft(child)) break
            chain.push(child.right)
          }
          const deepest = chain[chain.length - 1]!
          const before = yield* readState(workspace.id)
          const moved = yield* Effect.either(moveResource(admin, root.id, { targetId: deepest.id, position: "last-child", dryRun: false }))
          const after = yield* readState(workspace.id)
          expect({
            path: (yield* Effect.flatMap(ResourceStore, (s) => s.pathToRoot(deepest.id))).length,
            // b owns the root only, a administers the workspace: both reach the bottom
            b: yield* effectiveRoleOf(b.id, deepest.id),
            a: yield* effectiveRoleOf(a.id, deepest.id),
            // the root under its own deepest descendant would be a cycle cut off from every root
            move: outcomeOf(moved),
            unchanged: after.json === before.json
          }).toEqual({ path: chain.length, b: "owner", a: "administrator", move: "InvalidMove", unchanged: true })
          yield* expectInvariants(workspace.id, after, options)
        }))
    })

    describe("children created by someone outside the workspace", () => {
      it.effect("a direct editor who is not a member creates children; a direct reader is forbidden; a stranger is not found", () =>
        Effect.gen(function*() {
          const [owner, editor, reader, stranger] = [yield* person, yield* person, yield* person, yield* person]
          const workspace = yield* createWorkspace(owner.principal, { name: "shared-out" })
          const root = yield* createResource(owner.principal, workspace.id, { title: "root" })
          yield* grantAccess(owner.principal, root.id, editor.id, "editor")
          yield* grantAccess(owner.principal, root.id, reader.id, "reader")
          const child = yield* createResource(editor.principal, workspace.id, { title: "by the editor", parent_id: root.id })
          expect(child.parent_id).toBe(root.id)
          const refused = {
            reader: outcomeOf(yield* Effect.either(createResource(reader.principal, workspace.id, { title: "x", parent_id: root.id }))),
            stranger: outcomeOf(yield* Effect.either(createResource(stranger.principal, workspace.id, { title: "x", parent_id: root.id }))),
            editorRoot: outcomeOf(yield* Effect.either(createResource(editor.principal, workspace.id, { title: "x" })))
          }
          expect(refused).toEqual({ reader: "Forbidden", stranger: "NotFound", editorRoot: "NotFound" })
          expect((yield* readState(workspace.id)).resources.map((r) => r.id).sort()).toEqual([root.id, child.id].sort())
        }))
    })

    describe("a move that leaves its scope", () => {
      /**
       *   r (owners a, b)        s (owner a)
       *   └─ c (x: editor; a pending invite)
       *      └─ g (x: reader)
       */
      const scene = Effect.gen(function*() {
        const [a, b, x] = [yield* person, yield* person, yield* person]
        const workspace = yield* createWorkspace(a.principal, { name: "scope" })
        for (const u of [b, x]) yield* addMember(a.principal, workspace.id, u.id, "member")
        const r = yield* createResource(a.principal, workspace.id, { title: "r" })
        const s = yield* createResource(a.principal, workspace.id, { title: "s" })
        yield* grantAccess(a.principal, r.id, b.id, "owner")
        const c = yield* createResource(a.principal, workspace.id, { title: "c", parent_id: r.id })
        const g = yield* createResource(a.principal, workspace.id, { title: "g", parent_id: c.id })
        yield* grantAccess(a.principal, c.id, x.id, "editor")
        yield* grantAccess(a.principal, g.id, x.id, "reader")
        const invite = yield* mintInvite(a.principal, { kind: "grant", resource_id: c.id, resource_role: "reader" })
        return { a, b, x, workspace, r, s, c, g, invite: invite.invite }
      })

      const snapshot = (workspaceId: WorkspaceId, resourceId: ResourceId) =>
        Effect.gen(function*() {
          const state = yield* readState(workspaceId)
          const invites = yield* Effect.flatMap(InviteStore, (s) => s.list({ resourceId }))
          return { state, invites, json: JSON.stringify({ tree: state.json, invites }) }
        })

      /** The store's own ResourceStore, except that the `n`-th `insertAccess` (from 0) dies. */
      const insertAccessDiesAt = (n: number) =>
        Layer.effect(
          ResourceStore,
          Effect.map(ResourceStore, (live) => {
            let calls = 0
            return ResourceStore.of({
              ...live,
              insertAccess: (access) => (calls++ === n ? Effect.die(new Error("injected: insertAccess")) : live.insertAccess(access))
            })
          })
        )

      it.effect("a failure while restoring owners rolls everything back: tree, places, accesses, invites, events", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const { a, b, c, g, invite, r, workspace, x } = yield* scene
          const request = { targetId: r.id, position: "right" as const, dryRun: false }
          const original = yield* snapshot(workspace.id, c.id)
          // dies after the move, the access deletion and the invite cancellation: before the first owner, then between the two
          for (const n of [0, 1]) {
            const exit = yield* Effect.exit(moveResource(admin, c.id, request).pipe(Effect.provide(insertAccessDiesAt(n))))
            const defect = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.dieOption(exit.cause)) : undefined
            expect({ n, defect: String(defect) }).toEqual({ n, defect: "Error: injected: insertAccess" })
            expect((yield* snapshot(workspace.id, c.id)).json).toBe(original.json)
          }

          // the same move, undisturbed, changes every one of those things
          const report = yield* moveResource(admin, c.id, request)
          expect(report).toMatchObject({ scope_changed: true, accesses_deleted: 1, invites_canceled: 1, owners_restored: 2 })
          const moved = yield* snapshot(workspace.id, c.id)
          expect(moved.state.order.get(ROOTS)).toEqual([r.id, c.id, original.state.order.get(ROOTS)![1]])
          const owners = moved.state.accesses.filter((acc) => acc.resource_id === c.id).map((acc) => [acc.user_id, acc.role]).sort()
          expect(owners).toEqual([[a.id, "owner"], [b.id, "owner"]].sort())
          expect(moved.state.accesses.filter((acc) => acc.resource_id === g.id).map((acc) => [acc.user_id, acc.role])).toEqual([[x.id, "reader"]])
          expect(moved.invites.find((i) => i.id === invite.id)?.status).toBe("canceled")
          const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: original.state.seq, limit: 100 }))
          expect(events.map((e) => e.type)).toEqual(["resource.moved", "resource.accesses_reset"])
          expect(yield* effectiveRoleOf(x.id, c.id)).toBeNull()
          expect(yield* effectiveRoleOf(x.id, g.id)).toBe("reader")
        }))

      it.effect("a dry run reports what the move does and changes nothing", () =>
        Effect.gen(function*() {
          const { a, c, r, s, workspace } = yield* scene
          const original = yield* snapshot(workspace.id, c.id)
          const underS = yield* moveResource(a.principal, c.id, { targetId: s.id, position: "first-child", dryRun: true })
          expect(underS).toMatchObject({ scope_changed: true, accesses_deleted: 1, invites_canceled: 1, owners_restored: 0 })
          expect(underS.resource.parent_id).toBe(s.id)
          const asRoot = yield* moveResource(a.principal, c.id, { targetId: r.id, position: "left", dryRun: true })
          expect(asRoot).toMatchObject({ scope_changed: true, accesses_deleted: 1, invites_canceled: 1, owners_restored: 2 })
          const inside = yield* moveResource(a.principal, c.id, { targetId: r.id, position: "first-child", dryRun: true })
          expect(inside).toMatchObject({ scope_changed: false, accesses_deleted: 0, invites_canceled: 0, owners_restored: 0 })
          expect((yield* snapshot(workspace.id, c.id)).json).toBe(original.json)

          // done for real, under another root: the accesses and the invite go, nobody is made owner
          const real = yield* moveResource(a.principal, c.id, { targetId: s.id, position: "first-child", dryRun: false })
          expect({ ...real, resource: real.resource.parent_id }).toEqual({ ...underS, resource: s.id })
          const after = yield* snapshot(workspace.id, c.id)
          expect(after.state.accesses.filter((acc) => acc.resource_id === c.id)).toEqual([])
          expect(after.invites.map((i) => i.status)).toEqual(["canceled"])
        }))
    })
  })
