/**
 * Resource use cases: trees, direct accesses, the permission check and
 * moves. Every permission decision goes through `effectiveRoleOf` (one store
 * query, then the pure `effectiveRole`); every write runs in one transaction
 * with its events.
 */
import { Effect, Option, Schema } from "effect"
import { EventLog } from "../events/ports.js"
import type { NewEvent } from "../events/schemas.js"
import { Conflict, Forbidden, NotFound, UserNotFound } from "../identity/errors.js"
import { inviteState } from "../identity/invites.js"
import { InviteStore, UserStore } from "../identity/ports.js"
import { type Actor, actorName, actorUserId, isSystemAdmin } from "../identity/schemas.js"
import { Crypto, toHex } from "../shared/crypto.js"
import { newResourceId, type ResourceId, type UserId, type WorkspaceId } from "../shared/ids.js"
import { now, type Timestamp } from "../shared/time.js"
import { Transactor } from "../shared/transactor.js"
import { WorkspaceStore } from "../workspaces/ports.js"
import { InvalidMove, LastOwner, ResourceRevoked } from "./errors.js"
import { ResourceStore } from "./ports.js"
import { classifyMove, effectiveRole } from "./rules.js"
import {
  Access,
  type Action,
  allows,
  LinkReach,
  LinkRole,
  type Position,
  Resource,
  ResourceKind,
  type ResourceRole
} from "./schemas.js"

const append = (at: Timestamp, events: ReadonlyArray<NewEvent>) => Effect.flatMap(EventLog, (log) => log.append(at, events))

const newAccessId = Effect.map(Crypto.randomBytes(16), (b) => `acc_${toHex(b)}`)

/** The effective role of a user on a resource (SPEC §3.4), from one store query. */
export const effectiveRoleOf = Effect.fn("effectiveRoleOf")(function*(userId: UserId, id: ResourceId) {
  const facts = yield* Effect.flatMap(ResourceStore, (s) => s.roleFacts(id, userId))
  return effectiveRole({ path: facts.path, workspaceRole: facts.workspaceRole, shareLinkRole: null })
})

/** The actor's role: a system admin acts as an owner everywhere. */
const roleOfActor = (actor: Actor, id: ResourceId) => {
  const userId = actorUserId(actor)
  if (isSystemAdmin(actor)) return Effect.succeed<ResourceRole | null>("owner")
  return userId === null ? Effect.succeed<ResourceRole | null>(null) : effectiveRoleOf(userId, id)
}

/**
 * Loads a resource the actor can see at all; no access is not found. A
 * revoked resource is `resource_revoked` to those who may know it exists.
 */
const loadVisible = Effect.fn("loadVisibleResource")(function*(actor: Actor, id: ResourceId) {
  const store = yield* ResourceStore
  const resource = yield* store.findById(id)
  if (Option.isNone(resource)) return yield* new NotFound({ what: "resource", id })
  const role = yield* roleOfActor(actor, id)
  if (role === null) {
    const path = yield* store.roleFacts(id, actorUserId(actor) ?? ("" as UserId))
    if (path.path.some((n) => n.revoked) && path.workspaceRole !== null) return yield* new ResourceRevoked({ resourceId: id })
    return yield* new NotFound({ what: "resource", id })
  }
  return { resource: resource.value, role }
})

const requireRole = (role: ResourceRole | null, action: Action, what: string) =>
  allows(role, action) ? Effect.void : Effect.fail(new Forbidden({ message: `${what} needs ${action} rights` }))

export const CreateResource = Schema.Struct({
  title: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(500)),
  kind: Schema.optional(ResourceKind),
  parent_id: Schema.optional(Schema.NullOr(Schema.String)),
  link_reach: Schema.optional(LinkReach),
  link_role: Schema.optional(LinkRole)
})

/**
 * Creates a resource: a root (any member of the workspace; its creator gets
 * a direct `owner` access) or a child (editor rights on the parent).
 */
export const createResource = Effect.fn("createResource")(function*(
  actor: Actor,
  workspaceId: WorkspaceId,
  request: typeof CreateResource.Type
) {
  const userId = actorUserId(actor)
  const workspace = yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(workspaceId))
  if (Option.isNone(workspace) || !(isSystemAdmin(actor) || workspace.value.members.some((m) => m.user_id === userId))) {
    return yield* new NotFound({ what: "workspace", id: workspaceId })
  }
  const parentId = (request.parent_id ?? null) as ResourceId | null
  if (parentId !== null) {
    const parent = yield* loadVisible(actor, parentId)
    if (parent.resource.workspace_id !== workspaceId) return yield* new NotFound({ what: "resource", id: parentId })
    if (parent.resource.revoked_at !== null) return yield* new ResourceRevoked({ resourceId: parentId })
    yield* requireRole(parent.role, "edit", "creating a child")
  }
  const at = yield* now
  const resource = new Resource({
    id: yield* newResourceId,
    workspace_id: workspaceId,
    kind: request.kind ?? "document",
    title: request.title,
    parent_id: parentId,
    link_reach: request.link_reach ?? "restricted",
    link_role: request.link_role ?? "reader",
    created_by: userId,
    created_at: at,
    updated_at: at,
    revoked_at: null
  })
  yield* Transactor.run(Effect.gen(function*() {
    const store = yield* ResourceStore
    yield* Effect.flatMap(WorkspaceStore, (s) => s.lock(workspaceId))
    yield* store.insert(resource)
    const events: Array<NewEvent> = [{
      type: "resource.created",
      actor: actorName(actor),
      workspace_id: workspaceId,
      resource_id: resource.id,
      data: { parent_id: parentId, kind: resource.kind, title: resource.title }
    }]
    if (parentId === null && userId !== null) {
      yield* store.insertAccess(new Access({ id: yield* newAccessId, resource_id: resource.id, user_id: userId, role: "owner" }))
      events.push({ type: "resource.access_granted", actor: actorName(actor), workspace_id: workspaceId, resource_id: resource.id, data: { user_id: userId, role: "owner" } })
    }
    yield* append(at, events)
  }))
  return resource
})

export const getResource = Effect.fn("getResource")(function*(actor: Actor, id: ResourceId) {
  const { resource, role } = yield* loadVisible(actor, id)
  if (resource.revoked_at !== null) return yield* new ResourceRevoked({ resourceId: id })
  return { resource, effectiveRole: role }
})

/** The roots of a workspace the actor can see, in sibling order. */
export const listRoots = Effect.fn("listRoots")(function*(actor: Actor, workspaceId: WorkspaceId) {
  const store = yield* ResourceStore
  const roots = yield* store.children(workspaceId, null)
  const visible: Array<Resource> = []
  for (const root of roots) {
    if (root.revoked_at === null && (yield* roleOfActor(actor, root.id)) !== null) visible.push(root)
  }
  return visible
})

/** The children of a resource the actor can read, in sibling order. */
export const listChildren = Effect.fn("listChildren")(function*(actor: Actor, id: ResourceId) {
  const { resource } = yield* getResource(actor, id)
  const children = yield* Effect.flatMap(ResourceStore, (s) => s.children(resource.workspace_id, id))
  return children.filter((c) => c.revoked_at === null)
})

/** Direct accesses on a resource, and with `inherited` those of its ancestors. */
export const listAccesses = Effect.fn("listAccesses")(function*(actor: Actor, id: ResourceId, inherited: boolean) {
  yield* getResource(actor, id)
  const store = yield* ResourceStore
  const ids = inherited ? yield* store.pathToRoot(id) : [id]
  return yield* store.accesses(ids)
})

/** Direct owners of a root, counted under the root's lock. */
const guardLastOwner = Effect.fn("guardLastOwner")(function*(resource: Resource, leaving: Access) {
  if (resource.parent_id !== null || leaving.role !== "owner") return
  const owners = (yield* Effect.flatMap(ResourceStore, (s) => s.accesses([resource.id]))).filter((a) => a.role === "owner")
  if (owners.every((a) => a.id === leaving.id)) return yield* new LastOwner({ resourceIds: [resource.id] })
})

const requireManage = (role: ResourceRole | null, touchesOwner: boolean) =>
  touchesOwner
    ? requireRole(role, "own", "granting or removing owner")
    : requireRole(role, "administer", "managing accesses")

export const grantAccess = Effect.fn("grantAccess")(function*(actor: Actor, id: ResourceId, userId: UserId, role: ResourceRole) {
  return yield* Transactor.run(Effect.gen(function*() {
    const store = yield* ResourceStore
    yield* store.lock(id)
    const { resource, role: mine } = yield* loadVisible(actor, id)
    if (resource.revoked_at !== null) return yield* new ResourceRevoked({ resourceId: id })
    yield* requireManage(mine, role === "owner")
    const user = yield* Effect.flatMap(UserStore, (u) => u.findById(userId))
    if (Option.isNone(user) || user.value.status !== "active") return yield* new UserNotFound({ userId })
    const access = new Access({ id: yield* newAccessId, resource_id: id, user_id: userId, role })
    if (!(yield* store.insertAccess(access))) return yield* new Conflict({ message: `${userId} already has a direct access on ${id}` })
    yield* append(yield* now, [{ type: "resource.access_granted", actor: actorName(actor), workspace_id: resource.workspace_id, resource_id: id, data: { access_id: access.id, user_id: userId, role } }])
    return access
  }))
})

const loadAccess = Effect.fn("loadAccess")(function*(id: ResourceId, accessId: string) {
  const access = yield* Effect.flatMap(ResourceStore, (s) => s.findAccess(accessId))
  if (Option.isNone(access) || access.value.resource_id !== id) return yield* new NotFound({ what: "access", id: accessId })
  return access.value
})

export const changeAccess = Effect.fn("changeAccess")(function*(actor: Actor, id: ResourceId, accessId: string, role: ResourceRole) {
  return yield* Transactor.run(Effect.gen(function*() {
    const store = yield* ResourceStore
    yield* store.lock(id)
    const { resource, role: mine } = yield* loadVisible(actor, id)
    const access = yield* loadAccess(id, accessId)
    yield* requireManage(mine, role === "owner" || access.role === "owner")
    if (role !== "owner") yield* guardLastOwner(resource, access)
    yield* store.setAccessRole(accessId, role)
    yield* append(yield* now, [{ type: "resource.access_changed", actor: actorName(actor), workspace_id: resource.workspace_id, resource_id: id, data: { access_id: accessId, user_id: access.user_id, role } }])
    return new Access({ ...access, role })
  }))
})

export const removeAccess = Effect.fn("removeAccess")(function*(actor: Actor, id: ResourceId, accessId: string) {
  return yield* Transactor.run(Effect.gen(function*() {
    const store = yield* ResourceStore
    yield* store.lock(id)
    const { resource, role: mine } = yield* loadVisible(actor, id)
    const access = yield* loadAccess(id, accessId)
    yield* requireManage(mine, access.role === "owner")
    yield* guardLastOwner(resource, access)
    yield* store.deleteAccess(accessId)
    yield* append(yield* now, [{ type: "resource.access_removed", actor: actorName(actor), workspace_id: resource.workspace_id, resource_id: id, data: { access_id: accessId, user_id: access.user_id } }])
    return access
  }))
})

export interface CheckRequest {
  readonly user_id: UserId
  readonly resource_id: ResourceId
  readonly action: Action
}

export const MAX_CHECKS = 1000

/** The hot path: may each user do each action? One store query per check; system admins only. */
export const check = Effect.fn("check")(function*(actor: Actor, checks: ReadonlyArray<CheckRequest>) {
  if (!isSystemAdmin(actor)) return yield* new Forbidden({ message: "checks are asked by a system admin" })
  const users = yield* UserStore
  return yield* Effect.forEach(checks, (c) =>
    Effect.gen(function*() {
      const user = yield* users.findById(c.user_id)
      if (Option.isNone(user) || user.value.status !== "active") return { allowed: false, role: null }
      const role = yield* effectiveRoleOf(c.user_id, c.resource_id)
      return { allowed: allows(role, c.action), role }
    }))
})

export interface MoveReport {
  readonly resource: Resource
  readonly scope_changed: boolean
  readonly accesses_deleted: number
  readonly invites_canceled: number
  readonly owners_restored: number
}

/**
 * Moves a resource (SPEC §3.5). The move is classified by the pure
 * `classifyMove` from the tree as it is before any write; refusals happen
 * before anything changes. When it leaves its scope, its direct accesses are
 * deleted, its pending invites canceled and, if it becomes a root, the owners
 * it had through its old scope become its direct owners — all in the move's
 * transaction. `dryRun` computes the same report and writes nothing.
 */
export const moveResource = Effect.fn("moveResource")(function*(
  actor: Actor,
  id: ResourceId,
  request: { readonly targetId: ResourceId; readonly position: Position; readonly dryRun: boolean }
) {
  const run = Effect.gen(function*() {
    const store = yield* ResourceStore
    // Moves and creations in one workspace serialise on its lock: two crossing
    // moves cannot both pass the cycle check, nor two writers share a position.
    const current = yield* store.findById(id)
    if (Option.isSome(current)) yield* Effect.flatMap(WorkspaceStore, (s) => s.lock(current.value.workspace_id))
    yield* store.lock(id)
    const { resource, role } = yield* loadVisible(actor, id)
    if (resource.revoked_at !== null) return yield* new ResourceRevoked({ resourceId: id })
    const target = yield* store.findById(request.targetId)
    if (Option.isNone(target)) return yield* new NotFound({ what: "resource", id: request.targetId })
    if (target.value.workspace_id !== resource.workspace_id) return yield* new InvalidMove({ message: "the target is in another workspace" })
    if (target.value.revoked_at !== null) return yield* new InvalidMove({ message: "the target is revoked" })
    const resourcePath = yield* store.pathToRoot(id)
    const targetPath = yield* store.pathToRoot(request.targetId)
    const plan = classifyMove(resourcePath, targetPath, request.position)
    if (plan === "target_is_self") return yield* new InvalidMove({ message: "a resource cannot move relative to itself" })
    if (plan === "target_is_descendant") return yield* new InvalidMove({ message: "a resource cannot move under its own descendant" })
    yield* requireRole(role, "administer", "moving a resource")
    if (plan.newParentId !== null) {
      // A new parent the actor cannot see at all is not found, as everywhere else.
      const parentRole = yield* roleOfActor(actor, plan.newParentId)
      if (parentRole === null) return yield* new NotFound({ what: "resource", id: plan.newParentId })
      yield* requireRole(parentRole, "administer", "moving under a new parent")
    } else if (!isSystemAdmin(actor)) {
      const workspace = yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(resource.workspace_id))
      const member = Option.isSome(workspace) && workspace.value.members.some((m) => m.user_id === actorUserId(actor))
      if (!member) return yield* new Forbidden({ message: "becoming a root needs workspace membership" })
    }
    const direct = plan.scopeChanged ? yield* store.accesses([id]) : []
    const invites = yield* InviteStore
    const millis = (yield* Effect.clockWith((c) => c.currentTimeMillis))
    const pending = plan.scopeChanged
      ? (yield* invites.list({ resourceId: id, storedStatuses: ["pending"] })).filter((i) => inviteState(i, millis) === "pending")
      : []
    const owners = plan.scopeChanged && plan.becomesRoot
      ? [...new Set((yield* store.accesses(resourcePath)).filter((a) => a.role === "owner").map((a) => a.user_id))]
      : []
    const at = yield* now
    const moved = new Resource({ ...resource, parent_id: plan.newParentId, updated_at: at })
    const report: MoveReport = {
      resource: moved,
      scope_changed: plan.scopeChanged,
      accesses_deleted: direct.length,
      invites_canceled: pending.length,
      owners_restored: owners.length
    }
    if (request.dryRun) return report
    yield* store.move(id, plan)
    yield* store.update(moved)
    const events: Array<NewEvent> = [{
      type: "resource.moved",
      actor: actorName(actor),
      workspace_id: resource.workspace_id,
      resource_id: id,
      data: { from_parent_id: resource.parent_id, to_parent_id: plan.newParentId, position: request.position, target_id: request.targetId, scope_changed: plan.scopeChanged }
    }]
    if (plan.scopeChanged) {
      yield* store.deleteAccessesOf(id)
      for (const invite of pending) yield* invites.markCanceled(invite.id, at)
      for (const owner of owners) {
        yield* store.insertAccess(new Access({ id: yield* newAccessId, resource_id: id, user_id: owner, role: "owner" }))
      }
      events.push({
        type: "resource.accesses_reset",
        actor: actorName(actor),
        workspace_id: resource.workspace_id,
        resource_id: id,
        data: { accesses_deleted: direct.length, invites_canceled: pending.length, owners_restored: owners }
      })
    }
    yield* append(at, events)
    return report
  })
  return yield* (request.dryRun ? run : Transactor.run(run))
})

export const PatchResource = Schema.Struct({
  title: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(500))),
  kind: Schema.optional(ResourceKind),
  link_reach: Schema.optional(LinkReach),
  link_role: Schema.optional(LinkRole)
})

/** Edits a resource: title and kind need edit rights, link settings administer rights. */
export const patchResource = Effect.fn("patchResource")(function*(actor: Actor, id: ResourceId, patch: typeof PatchResource.Type) {
  return yield* Transactor.run(Effect.gen(function*() {
    const store = yield* ResourceStore
    yield* store.lock(id)
    const { resource, role } = yield* loadVisible(actor, id)
    if (resource.revoked_at !== null) return yield* new ResourceRevoked({ resourceId: id })
    const linkChange = patch.link_reach !== undefined || patch.link_role !== undefined
    yield* requireRole(role, linkChange ? "administer" : "edit", linkChange ? "changing link settings" : "editing")
    const at = yield* now
    const next = new Resource({
      ...resource,
      title: patch.title ?? resource.title,
      kind: patch.kind ?? resource.kind,
      link_reach: patch.link_reach ?? resource.link_reach,
      link_role: patch.link_role ?? resource.link_role,
      updated_at: at
    })
    yield* store.update(next)
    yield* append(at, [{ type: "resource.updated", actor: actorName(actor), workspace_id: resource.workspace_id, resource_id: id, data: { fields: Object.keys(patch) } }])
    return { resource: next, effectiveRole: role }
  }))
})
