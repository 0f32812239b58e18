/**
 * Pure rules of the resources area: the effective role of a user from the
 * facts one store query gathers, and the classification of a move over the
 * tree as it is before anything is written.
 */
import type { ResourceId } from "../shared/ids.js"
import { type LinkReach, type LinkRole, maxRole, type Position, type ResourceRole } from "./schemas.js"

/** One node on the path from a resource up to its root, as the check needs it. */
export interface AncestorFacts {
  readonly id: ResourceId
  readonly revoked: boolean
  readonly linkReach: LinkReach
  readonly linkRole: LinkRole
  /** The user's direct access on this node, if any. */
  readonly directRole: ResourceRole | null
}

export interface RoleFacts {
  /** The resource itself first, then each ancestor up to the root. */
  readonly path: ReadonlyArray<AncestorFacts>
  readonly workspaceRole: "admin" | "member" | null
  /** The role of a share link presented for a node on the path, if any. */
  readonly shareLinkRole: LinkRole | null
}

/**
 * The effective role (docs/domain.md#resources): the highest of the direct accesses on the
 * resource and its ancestors, `administrator` for a workspace admin, the link
 * role where a node on the path is shared with the workspace and the user is
 * a member, and a presented share link's role. A revoked node on the path
 * grants nothing.
 */
export const effectiveRole = (facts: RoleFacts): ResourceRole | null => {
  if (facts.path.length === 0 || facts.path.some((node) => node.revoked)) return null
  let role: ResourceRole | null = null
  for (const node of facts.path) {
    role = maxRole(role, node.directRole)
    if (node.linkReach === "workspace" && facts.workspaceRole !== null) role = maxRole(role, node.linkRole)
  }
  if (facts.workspaceRole === "admin") role = maxRole(role, "administrator")
  return maxRole(role, facts.shareLinkRole)
}

/** A node of the tree as a move sees it: id, parent and sibling order. */
export interface TreeNode {
  readonly id: ResourceId
  readonly parentId: ResourceId | null
}

export type MoveRefusal = "target_is_self" | "target_is_descendant"

export interface MovePlan {
  readonly newParentId: ResourceId | null
  /** Where among the new siblings it goes: the sibling it goes before (`null`: last). */
  readonly placement: { readonly _tag: "first" } | { readonly _tag: "last" } | { readonly _tag: "before"; readonly id: ResourceId } | { readonly _tag: "after"; readonly id: ResourceId }
  readonly rootBefore: ResourceId
  readonly rootAfter: ResourceId
  readonly wasRoot: boolean
  readonly becomesRoot: boolean
  /** The move leaves its permission scope (docs/domain.md#moves). */
  readonly scopeChanged: boolean
}

/** The chain of ids from `id` up to its root, given a parent lookup. */
export const pathToRoot = (id: ResourceId, parentOf: (id: ResourceId) => ResourceId | null): ReadonlyArray<ResourceId> => {
  const path: Array<ResourceId> = [id]
  let current = parentOf(id)
  while (current !== null) {
    if (path.includes(current)) throw new Error(`cycle at ${current}`)
    path.push(current)
    current = parentOf(current)
  }
  return path
}

/**
 * Classifies `move(resource, target, position)` from the ancestor chains of
 * both (each from the node up to its root), before any write. The last four
 * positions make the resource a sibling of the target.
 */
export const classifyMove = (
  resourcePath: ReadonlyArray<ResourceId>,
  targetPath: ReadonlyArray<ResourceId>,
  position: Position
): MovePlan | MoveRefusal => {
  const resource = resourcePath[0]!
  const target = targetPath[0]!
  if (resource === target) return "target_is_self"
  if (targetPath.includes(resource)) return "target_is_descendant"
  const asChild = position === "first-child" || position === "last-child"
  const newParentId = asChild ? target : (targetPath[1] ?? null)
  const rootBefore = resourcePath[resourcePath.length - 1]!
  const rootAfter = newParentId === null ? resource : targetPath[targetPath.length - 1]!
  const wasRoot = resourcePath.length === 1
  const becomesRoot = newParentId === null
  const placement: MovePlan["placement"] = position === "first-child" ? { _tag: "first" }
    : position === "last-child" ? { _tag: "last" }
    : position === "left" ? { _tag: "before", id: target }
    : position === "right" ? { _tag: "after", id: target }
    : position === "first-sibling" ? { _tag: "first" }
    : { _tag: "last" }
  // A root that moves always leaves its scope (it gets a parent, or it is
  // re-placed among the roots and keeps only its owners); so does anything
  // that becomes a root or lands in another tree.
  const scopeChanged = wasRoot || becomesRoot || rootBefore !== rootAfter
  return { newParentId, placement, rootBefore, rootAfter, wasRoot, becomesRoot, scopeChanged }
}
