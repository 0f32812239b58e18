/** Workspace failures raised by the kernel's invariants. */
import { Schema } from "effect"

export const PersonalWorkspaceReason = Schema.Literal(
  "members_mutation",
  "is_personal_frozen",
  "owner_user_id_frozen",
  "owner_user_id_on_non_personal",
  "personal_workspace_delete"
)
export type PersonalWorkspaceReason = typeof PersonalWorkspaceReason.Type

export class PersonalWorkspaceInvariantError extends Schema.TaggedError<PersonalWorkspaceInvariantError>()(
  "PersonalWorkspaceInvariantError",
  { workspaceId: Schema.String, reason: PersonalWorkspaceReason }
) {}

/** The change would leave these team workspaces without an admin. */
export class LastAdmin extends Schema.TaggedError<LastAdmin>()("LastAdmin", {
  workspaceIds: Schema.Array(Schema.String)
}) {}

/** `ensurePersonalWorkspace` gave up: the workspace kept vanishing between create and read. */
export class PersonalWorkspaceUnavailable extends Schema.TaggedError<PersonalWorkspaceUnavailable>()(
  "PersonalWorkspaceUnavailable",
  { userId: Schema.String, attempts: Schema.Int, message: Schema.String }
) {}
