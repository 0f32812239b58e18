/**
 * Resources: ordered trees inside one workspace. A root and its
 * descendants are one permission scope. Roles are ordered
 * reader < commenter < editor < administrator < owner.
 */
import { Schema } from "effect"
import { ResourceId, UserId, WorkspaceId } from "../shared/ids.js"
import { Line } from "../shared/text.js"
import { Timestamp } from "../shared/time.js"

/** A user's role on a resource, from least to most. */
export const ResourceRole = Schema.Literal("reader", "commenter", "editor", "administrator", "owner")
export type ResourceRole = typeof ResourceRole.Type

/** A resource's title as creation and patches accept it. */
export const ResourceTitle = Line(1, 500)

/** A direct access's id. */
export const AccessId = Schema.String.pipe(
  Schema.pattern(/^acc_[0-9a-f]{32}$/),
  Schema.brand("AccessId"),
  Schema.annotations({ identifier: "AccessId", description: "an id of the form acc_<32 hex>" })
)
export type AccessId = typeof AccessId.Type

export const ResourceKind = Schema.String.pipe(
  Schema.pattern(/^[a-z][a-z0-9_]{0,31}$/, { message: () => "a kind is 1-32 characters of a-z, 0-9 and _, starting with a letter" })
)
export const LinkReach = Schema.Literal("restricted", "workspace")
export type LinkReach = typeof LinkReach.Type
export const LinkRole = Schema.Literal("reader", "editor")
export type LinkRole = typeof LinkRole.Type

export class Resource extends Schema.Class<Resource>("Resource")({
  id: ResourceId,
  workspace_id: WorkspaceId,
  kind: ResourceKind,
  title: Schema.String,
  parent_id: Schema.NullOr(ResourceId),
  link_reach: LinkReach,
  link_role: LinkRole,
  created_by: Schema.NullOr(UserId),
  created_at: Timestamp,
  updated_at: Timestamp,
  revoked_at: Schema.NullOr(Timestamp)
}) {}

export class Access extends Schema.Class<Access>("Access")({
  id: Schema.String,
  resource_id: ResourceId,
  user_id: UserId,
  role: ResourceRole
}) {}

export const ROLE_ORDER: ReadonlyArray<ResourceRole> = ["reader", "commenter", "editor", "administrator", "owner"]

export const roleRank = (role: ResourceRole): number => ROLE_ORDER.indexOf(role)

/** The higher of two roles; `null` is no role. */
export const maxRole = (a: ResourceRole | null, b: ResourceRole | null): ResourceRole | null =>
  a === null ? b : b === null ? a : roleRank(a) >= roleRank(b) ? a : b

export const Action = Schema.Literal("read", "comment", "edit", "administer", "own")
export type Action = typeof Action.Type

const NEEDS: Record<Action, ResourceRole> = {
  read: "reader",
  comment: "commenter",
  edit: "editor",
  administer: "administrator",
  own: "owner"
}

/** Whether `role` allows `action` (pure). */
export const allows = (role: ResourceRole | null, action: Action): boolean =>
  role !== null && roleRank(role) >= roleRank(NEEDS[action])

export const Position = Schema.Literal("first-child", "last-child", "first-sibling", "last-sibling", "left", "right")
export type Position = typeof Position.Type
