/**
 * Who may see and change a workspace: its members see it, its admins
 * change it, system admins do both. A workspace the actor may not see is
 * not found — its existence is not disclosed.
 */
import { Effect, Option } from "effect"
import { isSystemAdmin } from "../identity/policy.js"
import { type Actor, actorUserId } from "../identity/schemas.js"
import { Forbidden, NotFound } from "../shared/errors.js"
import type { UserId, WorkspaceId } from "../shared/ids.js"
import type { InTransaction } from "../shared/transactor.js"
import { WorkspaceStore } from "./ports.js"
import type { Workspace } from "./schemas.js"
import { spanned } from "../shared/spans.js"

export const isMember = (workspace: Workspace, userId: UserId | null) =>
  userId !== null && workspace.members.some((m) => m.user_id === userId)

export const isWorkspaceAdmin = (workspace: Workspace, userId: UserId | null) =>
  userId !== null && workspace.members.some((m) => m.user_id === userId && m.role === "admin")

/** A member, or a system admin. */
export const canSeeWorkspace = (actor: Actor, workspace: Workspace) =>
  isSystemAdmin(actor) || isMember(workspace, actorUserId(actor))

/** An admin of the workspace, or a system admin. */
export const canAdministerWorkspace = (actor: Actor, workspace: Workspace) =>
  isSystemAdmin(actor) || isWorkspaceAdmin(workspace, actorUserId(actor))

export const requireWorkspaceAdmin = (actor: Actor, workspace: Workspace) =>
  canAdministerWorkspace(actor, workspace)
    ? Effect.void
    : Effect.fail(new Forbidden({ message: `only an admin of ${workspace.id} may do this` }))

/** Reads a workspace the actor may see; anything else is not found. */
export const loadVisibleWorkspace = spanned("loadVisibleWorkspace", function*(actor: Actor, id: WorkspaceId) {
  const workspace = yield* Effect.flatMap(WorkspaceStore, (store) => store.findById(id))
  if (Option.isNone(workspace) || !canSeeWorkspace(actor, workspace.value)) {
    return yield* new NotFound({ what: "workspace", id })
  }
  return workspace.value
})

/** Locks the workspace (held to commit), then reads it as the actor may see it. */
export const lockVisibleWorkspace = (
  actor: Actor,
  id: WorkspaceId
): Effect.Effect<Workspace, NotFound, WorkspaceStore | InTransaction> =>
  Effect.zipRight(Effect.flatMap(WorkspaceStore, (store) => store.lock(id)), loadVisibleWorkspace(actor, id))
