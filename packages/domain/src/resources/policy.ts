/**
 * Who may do what on a resource. Every decision goes through
 * `effectiveRoleOf` (one store query, then the pure `effectiveRole`); a
 * system admin acts as an owner everywhere. A resource the actor has no role
 * on at all is not found — unless it is revoked and the actor is a member of
 * its workspace, who may know it existed.
 */
import { Effect, Option } from "effect"
import { isSystemAdmin } from "../identity/policy.js"
import { type Actor, actorUserId, isLinkBearer, type LinkBearer } from "../identity/schemas.js"
import { Forbidden, NotFound } from "../shared/errors.js"
import type { ResourceId, UserId } from "../shared/ids.js"
import { ResourceRevoked } from "./errors.js"
import { ResourceStore, type RoleQuery } from "./ports.js"
import { effectiveRole } from "./rules.js"
import { type Action, allows, type ResourceRole } from "./schemas.js"
import { spanned } from "../shared/spans.js"

/** A user's effective role from the facts the store gathered; one check or a batch, the same rule. */
export const userRoleFrom = (facts: RoleQuery): ResourceRole | null =>
  effectiveRole({ path: facts.path, workspaceRole: facts.workspaceRole, shareLinkRole: null })

/**
 * The effective role of a user on a resource, from one store query. Its span
 * captures no stack trace: formatting one per call is a measurable share of a
 * check (`pnpm bench`).
 */
export const effectiveRoleOf = spanned("effectiveRoleOf", function*(userId: UserId, id: ResourceId) {
  return userRoleFrom(yield* Effect.flatMap(ResourceStore, (s) => s.roleFacts(id, userId)))
})

/** A share link's role on `id`: its own role when its resource is `id` or an ancestor, and nothing revoked on the way. */
export const linkRoleOn = (bearer: LinkBearer, id: ResourceId): Effect.Effect<ResourceRole | null, never, ResourceStore> =>
  Effect.map(Effect.flatMap(ResourceStore, (s) => s.roleFacts(id, "" as UserId)), (facts) =>
    effectiveRole({
      path: facts.path,
      workspaceRole: null,
      shareLinkRole: facts.path.some((node) => node.id === bearer.resourceId) ? bearer.role : null
    }))

/** The actor's role: a system admin acts as an owner everywhere; a link's bearer has its link's role on its subtree. */
export const roleOfActor = (actor: Actor, id: ResourceId): Effect.Effect<ResourceRole | null, never, ResourceStore> => {
  if (isSystemAdmin(actor)) return Effect.succeed("owner")
  if (isLinkBearer(actor)) return linkRoleOn(actor, id)
  const userId = actorUserId(actor)
  return userId === null ? Effect.succeed(null) : effectiveRoleOf(userId, id)
}

/**
 * Loads a resource the actor can see at all, with the actor's role; no
 * access is not found. A revoked resource is `resource_revoked` to those who
 * may know it exists (system admins, members of its workspace).
 */
export const loadVisibleResource = spanned("loadVisibleResource", function*(actor: Actor, id: ResourceId) {
  const store = yield* ResourceStore
  const resource = yield* store.findById(id)
  if (Option.isNone(resource)) return yield* new NotFound({ what: "resource", id })
  const role = yield* roleOfActor(actor, id)
  if (role === null) {
    const facts = yield* store.roleFacts(id, actorUserId(actor) ?? ("" as UserId))
    if (facts.path.some((n) => n.revoked) && facts.workspaceRole !== null) return yield* new ResourceRevoked({ resourceId: id })
    return yield* new NotFound({ what: "resource", id })
  }
  return { resource: resource.value, role }
})

/** As `loadVisibleResource`, and a revoked resource is `resource_revoked` even to its owners. */
export const loadLiveResource = spanned("loadLiveResource", function*(actor: Actor, id: ResourceId) {
  const loaded = yield* loadVisibleResource(actor, id)
  if (loaded.resource.revoked_at !== null) return yield* new ResourceRevoked({ resourceId: id })
  return loaded
})

export const requireRole = (role: ResourceRole | null, action: Action, what: string) =>
  allows(role, action) ? Effect.void : Effect.fail(new Forbidden({ message: `${what} needs ${action} rights` }))
