/**
 * Moving a resource (docs/domain.md#moves): the
 * tree, its accesses and the invites on the moved resource change together.
 * The move is classified by the pure `classifyMove` from the tree as it is
 * under the workspace's lock, before any write; refusals happen before
 * anything changes.
 */
import { Clock, Effect, Option } from "effect"
import { EventLog } from "../events/ports.js"
import type { NewEvent } from "../events/schemas.js"
import { isSystemAdmin } from "../identity/policy.js"
import { type Actor, actorName, actorUserId } from "../identity/schemas.js"
import { transactAs } from "../identity/usecases.js"
import { InvalidMove } from "../resources/errors.js"
import { loadLiveResource, requireRole, roleOfActor } from "../resources/policy.js"
import { ResourceStore } from "../resources/ports.js"
import { classifyMove } from "../resources/rules.js"
import { Access, type Position, Resource } from "../resources/schemas.js"
import { newAccessId } from "../resources/usecases.js"
import { Forbidden, NotFound } from "../shared/errors.js"
import type { ResourceId } from "../shared/ids.js"
import { now } from "../shared/time.js"
import { inviteState } from "../sharing/invites.js"
import { InviteStore } from "../sharing/ports.js"
import { isMember } from "../workspaces/policy.js"
import { WorkspaceStore } from "../workspaces/ports.js"
import { spanned } from "../shared/spans.js"

export interface MoveReport {
  readonly resource: Resource
  readonly scope_changed: boolean
  readonly accesses_deleted: number
  readonly invites_canceled: number
  readonly owners_restored: number
}

/**
 * Loads the move's target as the actor may know it: a target they cannot
 * see at all is not found; one they can see but that is revoked or in
 * another workspace is an invalid move.
 */
const loadTarget = spanned("loadMoveTarget", function*(actor: Actor, targetId: ResourceId, workspaceId: string) {
  const store = yield* ResourceStore
  const target = yield* store.findById(targetId)
  if (Option.isNone(target)) return yield* new NotFound({ what: "resource", id: targetId })
  const role = yield* roleOfActor(actor, targetId)
  if (role === null) {
    const facts = yield* store.roleFacts(targetId, actorUserId(actor) ?? ("" as never))
    const mayKnow = facts.workspaceRole !== null && facts.path.some((n) => n.revoked)
    if (!mayKnow) return yield* new NotFound({ what: "resource", id: targetId })
  }
  if (target.value.workspace_id !== workspaceId) return yield* new InvalidMove({ message: "the target is in another workspace" })
  if (target.value.revoked_at !== null) return yield* new InvalidMove({ message: "the target is revoked" })
  return { target: target.value, role }
})

/**
 * Moves a resource. When it leaves its scope, its direct accesses are
 * deleted, its pending invites canceled and, if it becomes a root, the
 * owners it had through its old scope become its direct owners — all in the
 * move's transaction. `dryRun` computes the same report with the same code
 * and writes nothing.
 */
export const moveResource = spanned("moveResource", function*(
  actor: Actor,
  id: ResourceId,
  request: { readonly targetId: ResourceId; readonly position: Position; readonly dryRun: boolean }
) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const store = yield* ResourceStore
      // Moves and creations in one workspace serialise on its lock: two crossing
      // moves cannot both pass the cycle check, nor two writers share a position.
      const current = yield* store.findById(id)
      if (Option.isSome(current)) yield* Effect.flatMap(WorkspaceStore, (s) => s.lock(current.value.workspace_id))
      yield* store.lock(id)
      const { resource, role } = yield* loadLiveResource(actor, id)
      const target = yield* loadTarget(actor, request.targetId, resource.workspace_id)
      const resourcePath = yield* store.pathToRoot(id)
      const targetPath = yield* store.pathToRoot(request.targetId)
      const plan = classifyMove(resourcePath, targetPath, request.position)
      if (plan === "target_is_self") return yield* new InvalidMove({ message: "a resource cannot move relative to itself" })
      if (plan === "target_is_descendant") return yield* new InvalidMove({ message: "a resource cannot move under its own descendant" })
      yield* requireRole(role, "administer", "moving a resource")
      if (plan.newParentId !== null) {
        // A new parent the actor cannot see at all is not found, as everywhere else.
        // a child placement's new parent is the target, whose role is known
        const parentRole = plan.newParentId === request.targetId ? target.role : yield* roleOfActor(actor, plan.newParentId)
        if (parentRole === null) return yield* new NotFound({ what: "resource", id: plan.newParentId })
        yield* requireRole(parentRole, "administer", "moving under a new parent")
      } else if (!isSystemAdmin(actor)) {
        const workspace = yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(resource.workspace_id))
        if (!(Option.isSome(workspace) && isMember(workspace.value, actorUserId(actor)))) {
          return yield* new Forbidden({ message: "becoming a root needs workspace membership" })
        }
      }
      const direct = plan.scopeChanged ? yield* store.accesses([id]) : []
      const invites = yield* InviteStore
      const millis = yield* Clock.currentTimeMillis
      const pending = plan.scopeChanged
        ? (yield* invites.list({ resourceId: id, storedStatuses: ["pending"] })).filter((i) => inviteState(i, millis) === "pending")
        : []
      const owners = plan.scopeChanged && plan.becomesRoot
        ? [...new Set((yield* store.accesses(resourcePath)).filter((a) => a.role === "owner").map((a) => a.user_id))]
        : []
      // A dry run reports the resource where it would go, otherwise as it is.
      const at = yield* now
      const report: MoveReport = {
        resource: new Resource({ ...resource, parent_id: plan.newParentId, updated_at: request.dryRun ? resource.updated_at : at }),
        scope_changed: plan.scopeChanged,
        accesses_deleted: direct.length,
        invites_canceled: pending.length,
        owners_restored: owners.length
      }
      if (request.dryRun) return report
      yield* store.move(id, plan, at)
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
      yield* Effect.flatMap(EventLog, (log) => log.append(at, events))
      return report
    }))
})
