/**
 * Resource use cases: trees, direct accesses, the permission check and
 * moves. Every permission decision goes through `resources/policy.ts`;
 * every writer runs in `transactAs`, deciding on the state it locked.
 */
import { Effect, Option, Schema } from "effect"
import { EventLog } from "../events/ports.js"
import type { NewEvent } from "../events/schemas.js"
import { UserNotFound } from "../identity/errors.js"
import { isSystemAdmin } from "../identity/policy.js"
import { UserStore } from "../identity/ports.js"
import { type Actor, actorName, actorUserId, isLinkBearer } from "../identity/schemas.js"
import { transactAs } from "../identity/usecases.js"
import { Crypto, toHex } from "../shared/crypto.js"
import { Conflict, Forbidden, NotFound } from "../shared/errors.js"
import { newResourceId, type ResourceId, type UserId, type WorkspaceId } from "../shared/ids.js"
import { now, type Timestamp } from "../shared/time.js"
import { canSeeWorkspace, isMember } from "../workspaces/policy.js"
import { WorkspaceStore } from "../workspaces/ports.js"
import { LastOwner, ResourceRevoked } from "./errors.js"
import { loadLiveResource, loadVisibleResource, requireRole, userRoleFrom } from "./policy.js"
import { type CheckFacts, ResourceStore, type SiblingKey } from "./ports.js"
import { effectiveRole } from "./rules.js"
import { keysetPage, type PageRequest } from "../shared/pages.js"
import {
  Access,
  type Action,
  allows,
  LinkReach,
  LinkRole,
  Resource,
  ResourceKind,
  type ResourceRole,
  ResourceTitle
} from "./schemas.js"
import { spanned } from "../shared/spans.js"

const append = (at: Timestamp, events: ReadonlyArray<NewEvent>) => Effect.flatMap(EventLog, (log) => log.append(at, events))

export const newAccessId = Effect.map(Crypto.randomBytes(16), (b) => `acc_${toHex(b)}`)

export const CreateResource = Schema.Struct({
  title: ResourceTitle,
  kind: Schema.optional(ResourceKind),
  parent_id: Schema.optional(Schema.NullOr(Schema.String)),
  link_reach: Schema.optional(LinkReach),
  link_role: Schema.optional(LinkRole)
})

/**
 * Creates a resource: a root (any member of the workspace; its creator gets
 * a direct `owner` access) or a child (editor rights on the parent, whether
 * through membership or a direct access). Takes
 * the workspace's lock first, which a deletion of the workspace (or of the
 * personal workspace's owner) takes too.
 */
export const createResource = spanned("createResource", function*(
  actor: Actor,
  workspaceId: WorkspaceId,
  request: typeof CreateResource.Type
) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const userId = actorUserId(actor)
      const workspaces = yield* WorkspaceStore
      yield* workspaces.lock(workspaceId)
      const workspace = yield* workspaces.findById(workspaceId)
      const parentId = (request.parent_id ?? null) as ResourceId | null
      // A root needs membership; a child needs edit rights on its parent, which
      // someone outside the workspace may hold through a direct access.
      if (Option.isNone(workspace) || (parentId === null && !(isSystemAdmin(actor) || isMember(workspace.value, userId)))) {
        return yield* new NotFound({ what: "workspace", id: workspaceId })
      }
      // Every live root keeps a direct owner: its creator. The system is no one to own it.
      if (parentId === null && userId === null) return yield* new Forbidden({ message: "a root is created by a user, who becomes its owner" })
      if (parentId !== null) {
        const parent = yield* loadVisibleResource(actor, parentId)
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
      const store = yield* ResourceStore
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
      return resource
    }))
})

export const getResource = spanned("getResource", function*(actor: Actor, id: ResourceId) {
  const { resource, role } = yield* loadLiveResource(actor, id)
  return { resource, effectiveRole: role }
})

/**
 * Whether the actor has a role on each of `resources`, as `roleOfActor` says
 * one at a time (a system admin on all; a link's bearer on its link's
 * subtree; a user by the rule of `userRoleFrom`), from one `roleFactsBatch`
 * for them all: a bounded number of statements however many they are.
 */
const seenBy = (actor: Actor, resources: ReadonlyArray<Resource>) =>
  Effect.gen(function*() {
    if (isSystemAdmin(actor)) return resources.map(() => true)
    const bearer = isLinkBearer(actor) ? actor : null
    const userId = bearer === null ? actorUserId(actor) : ("" as UserId)
    if (userId === null || resources.length === 0) return resources.map(() => false)
    const facts = yield* Effect.flatMap(ResourceStore, (s) => s.roleFactsBatch(resources.map((r) => ({ resourceId: r.id, userId }))))
    return facts.map((f) =>
      (bearer === null
        ? userRoleFrom(f)
        : effectiveRole({ path: f.path, workspaceRole: null, shareLinkRole: f.path.some((n) => n.id === bearer.resourceId) ? bearer.role : null })) !== null
    )
  })

/**
 * The roots of a workspace the actor can see, in sibling order. A workspace
 * that does not exist, or in which someone who is not a member sees no root,
 * is not found.
 */
export const listRoots = spanned("listRoots", function*(actor: Actor, workspaceId: WorkspaceId) {
  const workspace = yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(workspaceId))
  if (Option.isNone(workspace)) return yield* new NotFound({ what: "workspace", id: workspaceId })
  const store = yield* ResourceStore
  const live = (yield* store.children(workspaceId, null)).filter((root) => root.revoked_at === null)
  const seen = yield* seenBy(actor, live)
  const visible = live.filter((_, k) => seen[k])
  if (visible.length === 0 && !canSeeWorkspace(actor, workspace.value)) return yield* new NotFound({ what: "workspace", id: workspaceId })
  return visible
})

/** The children of a resource the actor can read, in sibling order. */
export const listChildren = spanned("listChildren", function*(actor: Actor, id: ResourceId) {
  const { resource } = yield* getResource(actor, id)
  const children = yield* Effect.flatMap(ResourceStore, (s) => s.children(resource.workspace_id, id))
  return children.filter((c) => c.revoked_at === null)
})

/**
 * One page of the roots of a workspace the actor can see, in sibling order
 * (position, id). Roots the actor cannot see are skipped in the store's
 * pages until the page is full, so every page but the last is full. A
 * workspace that does not exist, or in which someone who is not a member
 * sees no root, is not found.
 */
export const listRootsPage = spanned("listRootsPage", function*(actor: Actor, workspaceId: WorkspaceId, request: PageRequest<SiblingKey>) {
  const workspace = yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(workspaceId))
  if (Option.isNone(workspace)) return yield* new NotFound({ what: "workspace", id: workspaceId })
  const store = yield* ResourceStore
  const member = canSeeWorkspace(actor, workspace.value)
  const page = yield* keysetPage(request, (after, limit) =>
    Effect.gen(function*() {
      // the visible roots after `after`, `limit` of them or all that are left, read a store page at a time
      const visible: Array<{ resource: Resource; position: number }> = []
      let from = after
      for (;;) {
        const rows = yield* store.childrenPage(workspaceId, null, from, limit)
        const seen = yield* seenBy(actor, rows.map((row) => row.resource))
        rows.forEach((row, k) => {
          if (visible.length < limit && seen[k]) visible.push(row)
        })
        if (visible.length >= limit || rows.length < limit) return visible
        const last = rows[rows.length - 1]!
        from = [last.position, last.resource.id]
      }
    }), (row): SiblingKey => [row.position, row.resource.id])
  if (page.items.length === 0 && request.after === undefined && !member) return yield* new NotFound({ what: "workspace", id: workspaceId })
  return { items: page.items.map((row) => row.resource), next: page.next }
})

/** One page of the live children of a resource the actor can read, in sibling order (position, id). */
export const listChildrenPage = spanned("listChildrenPage", function*(actor: Actor, id: ResourceId, request: PageRequest<SiblingKey>) {
  const { resource } = yield* getResource(actor, id)
  const store = yield* ResourceStore
  const page = yield* keysetPage(
    request,
    (after, limit) => store.childrenPage(resource.workspace_id, id, after, limit),
    (row): SiblingKey => [row.position, row.resource.id]
  )
  return { items: page.items.map((row) => row.resource), next: page.next }
})

/** One page, in access id order, of the direct accesses on a resource, and with `inherited` those of its ancestors. */
export const listAccessesPage = spanned("listAccessesPage", function*(actor: Actor, id: ResourceId, inherited: boolean, request: PageRequest<string>) {
  yield* getResource(actor, id)
  // Who holds what is for accounts: a link's bearer sees the resource, never its people.
  if (isLinkBearer(actor)) return yield* new Forbidden({ message: "a share link does not list who has access" })
  const store = yield* ResourceStore
  const ids = inherited ? yield* store.pathToRoot(id) : [id]
  return yield* keysetPage(request, (after, limit) => store.accessesPage(ids, after, limit), (access) => access.id)
})

/** Direct accesses on a resource, and with `inherited` those of its ancestors. */
export const listAccesses = spanned("listAccesses", function*(actor: Actor, id: ResourceId, inherited: boolean) {
  yield* getResource(actor, id)
  // Who holds what is for accounts: a link's bearer sees the resource, never its people.
  if (isLinkBearer(actor)) return yield* new Forbidden({ message: "a share link does not list who has access" })
  const store = yield* ResourceStore
  const ids = inherited ? yield* store.pathToRoot(id) : [id]
  return yield* store.accesses(ids)
})

/**
 * The lock of the workspace `id` belongs to (a resource never leaves its
 * workspace), taken before the resource's own: writes that can change the
 * check's hops (docs/performance.md, "Hops") serialise per workspace with
 * creations and moves. Nothing for a missing resource, which the caller
 * refuses.
 */
const lockWorkspaceOf = (id: ResourceId) =>
  Effect.gen(function*() {
    const current = yield* Effect.flatMap(ResourceStore, (s) => s.findById(id))
    if (Option.isSome(current)) yield* Effect.flatMap(WorkspaceStore, (s) => s.lock(current.value.workspace_id))
  })

/** Direct owners of a root, counted under the root's lock. */
const guardLastOwner = spanned("guardLastOwner", function*(resource: Resource, leaving: Access) {
  if (resource.parent_id !== null || leaving.role !== "owner") return
  const owners = (yield* Effect.flatMap(ResourceStore, (s) => s.accesses([resource.id]))).filter((a) => a.role === "owner")
  if (owners.every((a) => a.id === leaving.id)) return yield* new LastOwner({ resourceIds: [resource.id] })
})

const requireManage = (role: ResourceRole | null, touchesOwner: boolean) =>
  touchesOwner
    ? requireRole(role, "own", "granting or removing owner")
    : requireRole(role, "administer", "managing accesses")

export const grantAccess = spanned("grantAccess", function*(actor: Actor, id: ResourceId, userId: UserId, role: ResourceRole) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      // Users before resources (the lock order): the grantee is held first.
      const grantee = yield* Effect.flatMap(UserStore, (u) => u.hold(userId))
      const store = yield* ResourceStore
      // then the workspace's lock, as creations and moves take it: a first access can change the check's hops below the resource
      yield* lockWorkspaceOf(id)
      yield* store.lock(id)
      const { resource, role: mine } = yield* loadLiveResource(actor, id)
      yield* requireManage(mine, role === "owner")
      if (Option.isNone(grantee) || grantee.value.status !== "active") return yield* new UserNotFound({ userId })
      const access = new Access({ id: yield* newAccessId, resource_id: id, user_id: userId, role })
      if (!(yield* store.insertAccess(access))) return yield* new Conflict({ message: `${userId} already has a direct access on ${id}` })
      yield* append(yield* now, [{ type: "resource.access_granted", actor: actorName(actor), workspace_id: resource.workspace_id, resource_id: id, data: { access_id: access.id, user_id: userId, role } }])
      return access
    }))
})

const loadAccess = spanned("loadAccess", function*(id: ResourceId, accessId: string) {
  const access = yield* Effect.flatMap(ResourceStore, (s) => s.findAccess(accessId))
  if (Option.isNone(access) || access.value.resource_id !== id) return yield* new NotFound({ what: "access", id: accessId })
  return access.value
})

export const changeAccess = spanned("changeAccess", function*(actor: Actor, id: ResourceId, accessId: string, role: ResourceRole) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const store = yield* ResourceStore
      yield* store.lock(id)
      const { resource, role: mine } = yield* loadVisibleResource(actor, id)
      const access = yield* loadAccess(id, accessId)
      yield* requireManage(mine, role === "owner" || access.role === "owner")
      if (role !== "owner") yield* guardLastOwner(resource, access)
      yield* store.setAccessRole(accessId, role)
      yield* append(yield* now, [{ type: "resource.access_changed", actor: actorName(actor), workspace_id: resource.workspace_id, resource_id: id, data: { access_id: accessId, user_id: access.user_id, role } }])
      return new Access({ ...access, role })
    }))
})

export const removeAccess = spanned("removeAccess", function*(actor: Actor, id: ResourceId, accessId: string) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const store = yield* ResourceStore
      yield* store.lock(id)
      const { resource, role: mine } = yield* loadVisibleResource(actor, id)
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

export interface CheckAnswer {
  readonly allowed: boolean
  readonly role: ResourceRole | null
}

/**
 * The hot path: may each user do each action? System admins only. The whole
 * batch is one `roleFactsBatch` (a bounded number of statements, users
 * included); each answer is the same pure rule `effectiveRoleOf` applies, and
 * a user who is not active may do nothing. It opens no span of its own: the
 * statement's `sql.execute` span traces each check, and a second span (with
 * the call-site capture `Effect.fn` makes on every call) cost a third of
 * Tessera's own time per check (`pnpm bench`, docs/performance.md).
 */
export const check = Effect.fnUntraced(function*(actor: Actor, checks: ReadonlyArray<CheckRequest>) {
  if (!isSystemAdmin(actor)) return yield* new Forbidden({ message: "checks are asked by a system admin" })
  const store = yield* ResourceStore
  const facts = yield* store.roleFactsBatch(factsRequests(checks))
  return answersOf(checks, facts)
})

/** What `check` asks the store for `checks`: the facts of each pair, in order. */
export const factsRequests = (checks: ReadonlyArray<CheckRequest>) => checks.map((c) => ({ resourceId: c.resource_id, userId: c.user_id }))

/** `check`'s answers from the facts of its pairs (`ResourceStore.roleFactsBatch`), in order. */
export const answersOf = (checks: ReadonlyArray<CheckRequest>, facts: ReadonlyArray<CheckFacts>) =>
  checks.map((c, k): CheckAnswer => {
    const found = facts[k]!
    if (!found.userActive) return { allowed: false, role: null }
    const role = userRoleFrom(found)
    return { allowed: allows(role, c.action), role }
  })


export const PatchResource = Schema.Struct({
  title: Schema.optional(ResourceTitle),
  kind: Schema.optional(ResourceKind),
  link_reach: Schema.optional(LinkReach),
  link_role: Schema.optional(LinkRole)
})

/** Edits a resource: title and kind need edit rights, link settings administer rights. */
export const patchResource = spanned("patchResource", function*(actor: Actor, id: ResourceId, patch: typeof PatchResource.Type) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const store = yield* ResourceStore
      // sharing with the workspace can change the check's hops below the resource: the workspace's lock first, as moves take it
      if (patch.link_reach !== undefined) yield* lockWorkspaceOf(id)
      yield* store.lock(id)
      const { resource, role } = yield* loadLiveResource(actor, id)
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
