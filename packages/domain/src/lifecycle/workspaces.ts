/**
 * Deleting a team workspace with everything in it: its resources, their
 * accesses and share links, its members, the pending invites into it — one
 * transaction under the workspace's lock, which
 * resource creation in it takes too. A personal workspace goes only with
 * its owner (`lifecycle/users.ts`).
 */
import { Effect } from "effect"
import { EventLog } from "../events/ports.js"
import { type Actor, actorName } from "../identity/schemas.js"
import { transactAs } from "../identity/usecases.js"
import { ResourceStore } from "../resources/ports.js"
import type { WorkspaceId } from "../shared/ids.js"
import { now } from "../shared/time.js"
import { InviteStore } from "../sharing/ports.js"
import { PersonalWorkspaceInvariantError } from "../workspaces/errors.js"
import { lockVisibleWorkspace, requireWorkspaceAdmin } from "../workspaces/policy.js"
import { WorkspaceStore } from "../workspaces/ports.js"
import { spanned } from "../shared/spans.js"

export type DeleteWorkspaceReport = {
  readonly workspace_id: WorkspaceId
  readonly deleted: true
  readonly members_removed: number
  readonly resources_deleted: number
  readonly accesses_deleted: number
  readonly share_links_deleted: number
  readonly invites_canceled: number
}

/** Deletes a team workspace and everything in it (its admins only); reports what went. */
export const deleteWorkspace = spanned("deleteWorkspace", function*(actor: Actor, id: WorkspaceId) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const workspace = yield* lockVisibleWorkspace(actor, id)
      if (workspace.is_personal) {
        return yield* new PersonalWorkspaceInvariantError({ workspaceId: id, reason: "personal_workspace_delete" })
      }
      yield* requireWorkspaceAdmin(actor, workspace)
      yield* Effect.flatMap(ResourceStore, (s) => s.lockWorkspaceResources(id))
      const at = yield* now
      // Invites for it or its resources die with it: nothing may be redeemed into a deleted workspace.
      const invitesCanceled = yield* Effect.flatMap(InviteStore, (s) => s.cancelPendingForWorkspace(id, at))
      const deleted = yield* Effect.flatMap(ResourceStore, (s) => s.deleteWorkspaceResources(id))
      yield* Effect.flatMap(WorkspaceStore, (s) => s.delete(id))
      const report: DeleteWorkspaceReport = {
        workspace_id: id,
        deleted: true,
        members_removed: workspace.members.length,
        resources_deleted: deleted.resources,
        accesses_deleted: deleted.accesses,
        share_links_deleted: deleted.share_links,
        invites_canceled: invitesCanceled.length
      }
      yield* Effect.flatMap(EventLog, (log) =>
        log.append(at, [{ type: "workspace.deleted", actor: actorName(actor), workspace_id: id, data: { name: workspace.name, ...report } }]))
      return report
    }))
})
