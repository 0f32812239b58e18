/**
 * Workspaces: team workspaces and the one personal workspace each user has.
 * The identity area needs the personal workspace (registration creates it in
 * the same transaction as the user; deletion removes it with its owner).
 */
import { Schema } from "effect"
import { UserId, WorkspaceId } from "../shared/ids.js"
import { Timestamp } from "../shared/time.js"

/** A member's role in a workspace. */
export const WorkspaceRole = Schema.Literal("admin", "member")
export type WorkspaceRole = typeof WorkspaceRole.Type

export class Member extends Schema.Class<Member>("Member")({
  user_id: UserId,
  role: WorkspaceRole
}) {}

export class Workspace extends Schema.Class<Workspace>("Workspace")({
  id: WorkspaceId,
  name: Schema.String,
  about: Schema.String,
  custom_instructions: Schema.String,
  bundles: Schema.Array(Schema.String),
  is_personal: Schema.Boolean,
  owner_user_id: Schema.NullOr(UserId),
  members: Schema.Array(Member),
  created_at: Timestamp,
  updated_at: Timestamp
}) {}

export class AlreadyMember extends Schema.TaggedError<AlreadyMember>()("AlreadyMember", {
  workspaceId: WorkspaceId,
  userId: UserId
}) {}
