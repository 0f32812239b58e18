/**
 * Why a user has the role they have on a resource (docs/access.md): the
 * grants that decide it, or the reason there is none. Pure.
 *
 * It owns no rule of its own and must never grow one: the role it reports
 * is `userRoleFrom`'s (the very function the check answers with, over the
 * very facts the check reads), and the grants it cites are the sources that
 * rule takes its maximum over, those that reach the maximum. A role with no
 * source reaching it would be a rule this module does not mirror — a
 * defect, thrown, never an explanation that disagrees with the check.
 */
import { Schema } from "effect"
import { ResourceId, UserId } from "../shared/ids.js"
import type { CheckFacts } from "./ports.js"
import { userRoleFrom } from "./policy.js"
import { type Access, LinkRole, ResourceRole, roleRank } from "./schemas.js"

/** A grant that gives a user a role on a resource, in the vocabulary `principals` and `explain` share. */
export const AccessGrant = Schema.Union(
  /** The user's direct access on the resource itself. */
  Schema.Struct({ kind: Schema.Literal("direct"), resource_id: ResourceId, access_id: Schema.String, role: ResourceRole }),
  /** The user's direct access on an ancestor (`resource_id`). */
  Schema.Struct({ kind: Schema.Literal("inherited"), resource_id: ResourceId, access_id: Schema.String, role: ResourceRole }),
  /** The user is an admin of the resource's workspace. */
  Schema.Struct({ kind: Schema.Literal("workspace_admin"), role: Schema.Literal("administrator") }),
  /** The user is a member and `resource_id` (the resource or an ancestor) is shared with the workspace. */
  Schema.Struct({ kind: Schema.Literal("workspace_link"), resource_id: ResourceId, role: LinkRole })
)
export type AccessGrant = typeof AccessGrant.Type

/** Why a user has no role on a resource. */
export const AccessDenial = Schema.Union(
  /** A member of the workspace, and nothing on the path grants them anything. */
  Schema.Struct({ kind: Schema.Literal("no_grant") }),
  /** Not a member of the workspace, and no direct access on the path. */
  Schema.Struct({ kind: Schema.Literal("not_member") }),
  /** `resource_id` (the resource or an ancestor) is revoked: nothing below it grants anything. */
  Schema.Struct({ kind: Schema.Literal("revoked"), resource_id: ResourceId }),
  /** The user does not exist or is not active. */
  Schema.Struct({ kind: Schema.Literal("user_inactive"), user_id: UserId }),
  /** The resource does not exist. */
  Schema.Struct({ kind: Schema.Literal("not_found"), resource_id: ResourceId })
)
export type AccessDenial = typeof AccessDenial.Type

export const AccessReason = Schema.Union(AccessGrant, AccessDenial)
export type AccessReason = typeof AccessReason.Type

/** A source of a role as the rule sees it; an access is named by the node that holds it. */
export type RoleSource =
  | { readonly kind: "access"; readonly resourceId: ResourceId; readonly role: ResourceRole }
  | { readonly kind: "workspace_admin"; readonly role: "administrator" }
  | { readonly kind: "workspace_link"; readonly resourceId: ResourceId; readonly role: LinkRole }

/** A decided role and what decides it: the sources that reach it, or the denial. */
export interface RoleDecision {
  readonly resourceId: ResourceId
  readonly userId: UserId
  readonly role: ResourceRole | null
  readonly decisive: ReadonlyArray<RoleSource>
  readonly denial: AccessDenial | null
}

/** Every source the rule takes its maximum over, in path order (the resource first). */
const sourcesOf = (facts: CheckFacts): ReadonlyArray<RoleSource> => {
  const sources: Array<RoleSource> = []
  for (const node of facts.path) {
    if (node.directRole !== null) sources.push({ kind: "access", resourceId: node.id, role: node.directRole })
    if (node.linkReach === "workspace" && facts.workspaceRole !== null) sources.push({ kind: "workspace_link", resourceId: node.id, role: node.linkRole })
  }
  if (facts.workspaceRole === "admin") sources.push({ kind: "workspace_admin", role: "administrator" })
  return sources
}

/**
 * Decides the role of `userId` on `resourceId` from the facts the check
 * reads, as the check does (an inactive user has none), with its reasons.
 */
export const decideRole = (resourceId: ResourceId, userId: UserId, facts: CheckFacts): RoleDecision => {
  const role = facts.userActive ? userRoleFrom(facts) : null
  if (role !== null) {
    const decisive = sourcesOf(facts).filter((s) => s.role === role)
    if (decisive.length === 0) throw new Error(`no source gives ${role} to ${userId} on ${resourceId}`)
    return { resourceId, userId, role, decisive, denial: null }
  }
  const denial: AccessDenial = !facts.userActive ? { kind: "user_inactive", user_id: userId }
    : facts.path.length === 0 ? { kind: "not_found", resource_id: resourceId }
    : facts.path.some((n) => n.revoked) ? { kind: "revoked", resource_id: [...facts.path].reverse().find((n) => n.revoked)!.id }
    : facts.workspaceRole === null ? { kind: "not_member" }
    : { kind: "no_grant" }
  return { resourceId, userId, role: null, decisive: [], denial }
}

/** The nodes whose direct accesses a decision cites (their ids are looked up to cite them). */
export const citedAccessNodes = (decision: RoleDecision): ReadonlyArray<ResourceId> =>
  decision.decisive.flatMap((s) => (s.kind === "access" ? [s.resourceId] : []))

/**
 * The decision in the grants vocabulary, each cited access with its id from
 * `accessOn` (the user's access on a node, as stored). `null` when one is not
 * there with the role decided from — it changed after the facts were read,
 * and the caller reads both again.
 */
export const reasonsOf = (
  decision: RoleDecision,
  accessOn: (resourceId: ResourceId) => Access | undefined
): ReadonlyArray<AccessReason> | null => {
  if (decision.denial !== null) return [decision.denial]
  const reasons: Array<AccessReason> = []
  for (const source of decision.decisive) {
    if (source.kind !== "access") {
      reasons.push(source.kind === "workspace_admin" ? { kind: "workspace_admin", role: "administrator" } : { kind: "workspace_link", resource_id: source.resourceId, role: source.role })
      continue
    }
    const access = accessOn(source.resourceId)
    if (access === undefined || access.role !== source.role || access.user_id !== decision.userId) return null
    reasons.push({
      kind: source.resourceId === decision.resourceId ? "direct" : "inherited",
      resource_id: source.resourceId,
      access_id: access.id,
      role: source.role
    })
  }
  return reasons
}

/**
 * The role one grant alone would give (the rule over facts holding only
 * it): what a cited grant must reach for the explanation to stand.
 */
export const roleOfGrantAlone = (grant: AccessGrant): ResourceRole =>
  grant.kind === "workspace_admin"
    ? userRoleFrom({ path: [{ id: "" as ResourceId, revoked: false, linkReach: "restricted", linkRole: "reader", directRole: null }], workspaceRole: "admin" })!
    : grant.kind === "workspace_link"
    ? userRoleFrom({ path: [{ id: grant.resource_id, revoked: false, linkReach: "workspace", linkRole: grant.role, directRole: null }], workspaceRole: "member" })!
    : userRoleFrom({ path: [{ id: grant.resource_id, revoked: false, linkReach: "restricted", linkRole: "reader", directRole: grant.role }], workspaceRole: null })!

/** Whether `a` is at least `b`. */
export const roleAtLeast = (a: ResourceRole | null, b: ResourceRole): boolean => a !== null && roleRank(a) >= roleRank(b)
