/**
 * The workspace invariants as pure functions of (workspace, change). The
 * kernel checks a whole change before writing any of it, so a rejected patch
 * changes nothing, not even its valid fields.
 *
 * Personal workspaces are sole-owner by design: their members are always
 * exactly `[{ user_id: owner_user_id, role: "admin" }]`, `is_personal` and
 * `owner_user_id` never change, and they go only with their owner. Team
 * workspaces always keep at least one admin.
 */
import { Either, Schema } from "effect"
import { UserId } from "../shared/ids.js"
import { Line, Paragraphs } from "../shared/text.js"
import { LastAdmin, PersonalWorkspaceInvariantError } from "./errors.js"
import { Member, Workspace, WorkspaceRole } from "./schemas.js"

/** At most this many `bundles` per workspace. */
export const MAX_BUNDLES = 100

/** The editable text fields, as creation and patches accept them. */
export const WorkspaceName = Line(1, 200)
export const WorkspaceAbout = Paragraphs(10_000)
export const CustomInstructions = Paragraphs(100_000)
export const Bundles = Schema.Array(Line(0, 200)).pipe(Schema.maxItems(MAX_BUNDLES))

export const MemberPatch = Schema.Struct({ user_id: UserId, role: WorkspaceRole })

/** A workspace patch as callers send it; absent fields stay as they are. */
export const WorkspacePatch = Schema.Struct({
  name: Schema.optional(WorkspaceName),
  about: Schema.optional(WorkspaceAbout),
  custom_instructions: Schema.optional(CustomInstructions),
  bundles: Schema.optional(Bundles),
  is_personal: Schema.optional(Schema.Boolean),
  owner_user_id: Schema.optional(Schema.NullOr(UserId)),
  members: Schema.optional(Schema.Array(MemberPatch).pipe(
    Schema.maxItems(1000),
    Schema.filter((members) => new Set(members.map((m) => m.user_id)).size === members.length || "each user appears once in members")
  ))
})
export type WorkspacePatch = typeof WorkspacePatch.Type

const invariant = (workspace: Workspace, reason: PersonalWorkspaceInvariantError["reason"]) =>
  Either.left(new PersonalWorkspaceInvariantError({ workspaceId: workspace.id, reason }))

/** The members a personal workspace must have. */
export const personalMembers = (workspace: Workspace): ReadonlyArray<Member> =>
  workspace.owner_user_id === null ? [] : [new Member({ user_id: workspace.owner_user_id, role: "admin" })]

const adminsOf = (members: ReadonlyArray<{ readonly role: string; readonly user_id: string }>) =>
  members.filter((m) => m.role === "admin").map((m) => m.user_id)

/**
 * Checks a patch against the invariants (pure). When it breaks several
 * personal-workspace rules the reason is the first of `is_personal_frozen`,
 * `owner_user_id_frozen`, `owner_user_id_on_non_personal`, then
 * `members_mutation` (docs/domain.md#workspaces). A team workspace's new member list must
 * keep an admin.
 */
export const checkWorkspacePatch = (
  workspace: Workspace,
  patch: WorkspacePatch
): Either.Either<WorkspacePatch, PersonalWorkspaceInvariantError | LastAdmin> => {
  if (patch.is_personal !== undefined && patch.is_personal !== workspace.is_personal) {
    return invariant(workspace, "is_personal_frozen")
  }
  if (workspace.is_personal && patch.owner_user_id !== undefined && patch.owner_user_id !== workspace.owner_user_id) {
    return invariant(workspace, "owner_user_id_frozen")
  }
  if (!workspace.is_personal && patch.owner_user_id !== undefined && patch.owner_user_id !== null) {
    return invariant(workspace, "owner_user_id_on_non_personal")
  }
  if (patch.members !== undefined) {
    if (workspace.is_personal) return invariant(workspace, "members_mutation")
    if (adminsOf(patch.members).length === 0) {
      return Either.left(new LastAdmin({ workspaceIds: [workspace.id] }))
    }
  }
  return Either.right(patch)
}

/** The workspace after an accepted patch (pure). */
export const applyWorkspacePatch = (workspace: Workspace, patch: WorkspacePatch, at: Workspace["updated_at"]): Workspace =>
  new Workspace({
    ...workspace,
    name: patch.name ?? workspace.name,
    about: patch.about ?? workspace.about,
    custom_instructions: patch.custom_instructions ?? workspace.custom_instructions,
    bundles: patch.bundles ?? workspace.bundles,
    members: patch.members?.map((m) => new Member(m)) ?? workspace.members,
    updated_at: at
  })

export type MemberChange =
  | { readonly _tag: "add"; readonly userId: UserId; readonly role: WorkspaceRole }
  | { readonly _tag: "setRole"; readonly userId: UserId; readonly role: WorkspaceRole }
  | { readonly _tag: "remove"; readonly userId: UserId }

/** Checks one member change (pure): personal workspaces refuse all; a team keeps ≥ 1 admin. */
export const checkMemberChange = (
  workspace: Workspace,
  change: MemberChange
): Either.Either<MemberChange, PersonalWorkspaceInvariantError | LastAdmin> => {
  if (workspace.is_personal) return invariant(workspace, "members_mutation")
  const admins = adminsOf(workspace.members)
  const demotes = (change._tag === "remove" || (change._tag === "setRole" && change.role !== "admin")) &&
    admins.includes(change.userId)
  if (demotes && admins.length <= 1) {
    return Either.left(new LastAdmin({ workspaceIds: [workspace.id] }))
  }
  return Either.right(change)
}
