/**
 * Who may mint and see invites (docs/domain.md#invites): system admins mint any invite;
 * a workspace admin mints grant invites for their workspace; an
 * administrator of a resource mints grant invites for it, with a role below
 * `owner`. Someone who cannot see the target at all is told it is not found.
 */
import { Effect, Option } from "effect"
import { isSystemAdmin } from "../identity/policy.js"
import { type Actor, actorUserId } from "../identity/schemas.js"
import { ResourceRevoked } from "../resources/errors.js"
import { loadVisibleResource } from "../resources/policy.js"
import { ResourceStore } from "../resources/ports.js"
import { allows } from "../resources/schemas.js"
import { Forbidden, NotFound } from "../shared/errors.js"
import type { ResourceId, WorkspaceId } from "../shared/ids.js"
import type { InTransaction } from "../shared/transactor.js"
import { PersonalWorkspaceInvariantError } from "../workspaces/errors.js"
import { canAdministerWorkspace, canSeeWorkspace } from "../workspaces/policy.js"
import { WorkspaceStore } from "../workspaces/ports.js"
import type { Invite, InviteTerms } from "./invites.js"
import { spanned } from "../shared/spans.js"

/** A system admin sees every invite; anyone else the ones they minted. */
export const canSeeInvite = (actor: Actor, invite: Invite) =>
  isSystemAdmin(actor) || (invite.created_by !== null && invite.created_by === actorUserId(actor))

/**
 * Locks the workspace a grant names (held to commit, so a deletion cannot
 * slip between this check and the insert) and checks the actor may grant
 * membership in it.
 */
export const requireWorkspaceGrantAuthority = spanned("requireWorkspaceGrantAuthority", function*(
  actor: Actor,
  id: WorkspaceId
) {
  const store = yield* WorkspaceStore
  yield* store.lock(id)
  const workspace = yield* store.findById(id)
  if (Option.isNone(workspace) || !canSeeWorkspace(actor, workspace.value)) return yield* new NotFound({ what: "workspace", id })
  if (workspace.value.is_personal) {
    return yield* new PersonalWorkspaceInvariantError({ workspaceId: id, reason: "members_mutation" })
  }
  if (!canAdministerWorkspace(actor, workspace.value)) {
    return yield* new Forbidden({ message: "only an admin of the workspace mints invites for it" })
  }
  return workspace.value
})

/** Locks the resource a grant names and checks the actor may grant `role` on it. */
export const requireResourceGrantAuthority = spanned("requireResourceGrantAuthority", function*(
  actor: Actor,
  id: ResourceId,
  role: string
) {
  yield* Effect.flatMap(ResourceStore, (store) => store.lock(id))
  const { resource, role: mine } = yield* loadVisibleResource(actor, id)
  if (resource.revoked_at !== null) return yield* new ResourceRevoked({ resourceId: id })
  if (!allows(mine, "administer")) {
    return yield* new Forbidden({ message: "only an administrator of the resource mints invites for it" })
  }
  if (role === "owner") {
    return yield* new Forbidden({ message: "an invite grants at most administrator; owners are granted directly" })
  }
  return resource
})

/** Checks the actor may mint an invite with these terms, locking its target. */
export const requireMintAuthority = (
  actor: Actor,
  terms: InviteTerms
): Effect.Effect<void, Forbidden | NotFound | PersonalWorkspaceInvariantError | ResourceRevoked, WorkspaceStore | ResourceStore | InTransaction> =>
  Effect.gen(function*() {
    if (terms.kind === "registration" && !isSystemAdmin(actor)) {
      return yield* new Forbidden({ message: "only a system admin mints registration invites" })
    }
    if (terms.workspace_id !== undefined) yield* requireWorkspaceGrantAuthority(actor, terms.workspace_id)
    else if (terms.resource_id !== undefined) yield* requireResourceGrantAuthority(actor, terms.resource_id, terms.resource_role ?? "")
    else if (!isSystemAdmin(actor)) return yield* new Forbidden({ message: "this needs a system admin" })
  })
