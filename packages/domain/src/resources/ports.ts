/**
 * Storage port of the resources area. Trees are parent pointers with an
 * integer sibling `position`; ancestor walks are one recursive query.
 * Writers that check an invariant over several rows (last owner, moves)
 * first `lock` the resource so two of them cannot both pass the check.
 * Every write requires `InTransaction`; resource locks come after user and
 * workspace locks (the order `identity/ports.ts` documents).
 */
import { Context, Effect, Option } from "effect"
import type { ResourceId, UserId, WorkspaceId } from "../shared/ids.js"
import type { Timestamp } from "../shared/time.js"
import type { InTransaction } from "../shared/transactor.js"
import type { AncestorFacts, MovePlan } from "./rules.js"
import type { Access, Resource, ResourceRole } from "./schemas.js"

export interface RoleQuery {
  readonly path: ReadonlyArray<AncestorFacts>
  readonly workspaceRole: "admin" | "member" | null
}

/** One check of a batch: the user's role on the resource is asked. */
export interface RoleFactsRequest {
  readonly resourceId: ResourceId
  readonly userId: UserId
}

/**
 * The facts of one check of a batch. Its path holds the nodes that can
 * change a user's role (the resource, its root, and any node revoked, shared
 * with the workspace or granted to the user); the others grant nothing. A
 * resource that does not exist has an empty path.
 */
export interface CheckFacts extends RoleQuery {
  /** The user exists and is active. */
  readonly userActive: boolean
}

export interface WorkspaceResourcesDeleted {
  readonly resources: number
  readonly accesses: number
  readonly share_links: number
}

/** A root resource a user owns directly, and whether no one else owns it directly. */
export interface OwnedRoot {
  readonly id: ResourceId
  readonly sole: boolean
}

/**
 * Where a resource stands among its siblings: its position, then its id.
 * Creating and revoking never renumber siblings; a move does (docs/http.md,
 * "Paging").
 */
export type SiblingKey = readonly [position: number, id: ResourceId]

/** A resource of a page in sibling order, with its position. */
export interface Sibling {
  readonly resource: Resource
  readonly position: number
}

export class ResourceStore extends Context.Tag("Tessera/ResourceStore")<ResourceStore, {
  /** Inserts as the last child of its parent (or the last root of its workspace). */
  readonly insert: (resource: Resource) => Effect.Effect<void, never, InTransaction>
  readonly findById: (id: ResourceId) => Effect.Effect<Option.Option<Resource>>
  /** Children of `parentId` (roots of the workspace when `null`), in sibling order. */
  readonly children: (workspaceId: WorkspaceId, parentId: ResourceId | null) => Effect.Effect<ReadonlyArray<Resource>>
  /**
   * A keyset page of the live (unrevoked) children of `parentId` (roots when
   * `null`), in sibling order: those after `after` (all when `null`), at
   * most `limit`. `after` is re-anchored on its resource's current position
   * while that resource is still a child here, so a move elsewhere among the
   * siblings neither skips nor repeats the others; when it has left, the page
   * starts at its old position (its later siblings moved up into it).
   */
  readonly childrenPage: (
    workspaceId: WorkspaceId,
    parentId: ResourceId | null,
    after: SiblingKey | null,
    limit: number
  ) => Effect.Effect<ReadonlyArray<Sibling>>
  /** Every resource of the workspace (tree order is the caller's business). */
  readonly listWorkspace: (workspaceId: WorkspaceId) => Effect.Effect<ReadonlyArray<Resource>>
  /** Ids from the resource up to its root, in one query. */
  readonly pathToRoot: (id: ResourceId) => Effect.Effect<ReadonlyArray<ResourceId>>
  /** The facts the effective role of `userId` on `id` is computed from, in one query. */
  readonly roleFacts: (id: ResourceId, userId: UserId) => Effect.Effect<RoleQuery>
  /**
   * The facts of many checks, in the order asked, with each user's status: a
   * bounded number of statements (one per few hundred checks), never one per check.
   */
  readonly roleFactsBatch: (requests: ReadonlyArray<RoleFactsRequest>) => Effect.Effect<ReadonlyArray<CheckFacts>>
  readonly lock: (id: ResourceId) => Effect.Effect<void, never, InTransaction>
  /**
   * Locks every resource of the workspace (held to commit). A deletion of
   * the workspace takes it after the workspace's lock and before it reads
   * anything to delete: writers holding one of its resources (granting,
   * minting, linking) finish first, and what they wrote is then seen and
   * deleted with the rest.
   */
  readonly lockWorkspaceResources: (workspaceId: WorkspaceId) => Effect.Effect<void, never, InTransaction>
  readonly update: (resource: Resource) => Effect.Effect<void, never, InTransaction>
  /**
   * Applies a classified move: new parent, place among the new siblings and
   * `updated_at` (in as few statements as the placement allows).
   */
  readonly move: (id: ResourceId, plan: MovePlan, at: Timestamp) => Effect.Effect<void, never, InTransaction>
  readonly accesses: (ids: ReadonlyArray<ResourceId>) => Effect.Effect<ReadonlyArray<Access>>
  /** A keyset page of the accesses on `ids` (a path, so a few), in access id order: after `after`, at most `limit`. */
  readonly accessesPage: (ids: ReadonlyArray<ResourceId>, after: string | null, limit: number) => Effect.Effect<ReadonlyArray<Access>>
  /** `false` when the user already has a direct access there. */
  readonly insertAccess: (access: Access) => Effect.Effect<boolean, never, InTransaction>
  readonly findAccess: (id: string) => Effect.Effect<Option.Option<Access>>
  readonly setAccessRole: (id: string, role: ResourceRole) => Effect.Effect<boolean, never, InTransaction>
  readonly deleteAccess: (id: string) => Effect.Effect<boolean, never, InTransaction>
  /** Deletes every direct access on the resource; returns how many. */
  readonly deleteAccessesOf: (id: ResourceId) => Effect.Effect<number, never, InTransaction>
  /**
   * Deletes every resource of a workspace with their accesses and share
   * links (the workspace is going), set-based; returns how many of each.
   */
  readonly deleteWorkspaceResources: (workspaceId: WorkspaceId) => Effect.Effect<WorkspaceResourcesDeleted, never, InTransaction>
  /**
   * Marks `rootId` and its whole subtree revoked at `at`, in one statement;
   * returns the ids it newly revoked (none the second time).
   */
  readonly revokeSubtree: (rootId: ResourceId, at: Timestamp) => Effect.Effect<ReadonlyArray<ResourceId>, never, InTransaction>
  /**
   * Locks, in id order, the root resources the user owns directly outside
   * `exceptWorkspace` (their personal workspace, which goes with them),
   * then reads them in one set-based query: each with whether the user is
   * its only direct owner. Two statements however many roots.
   */
  readonly lockOwnedRoots: (
    userId: UserId,
    exceptWorkspace: WorkspaceId | null
  ) => Effect.Effect<ReadonlyArray<OwnedRoot>, never, InTransaction>
  /** Every direct access the user holds. */
  readonly accessesOfUser: (userId: UserId) => Effect.Effect<ReadonlyArray<Access>>
  /** Deletes every direct access of the user anywhere; returns how many. */
  readonly deleteAccessesOfUser: (userId: UserId) => Effect.Effect<number, never, InTransaction>
}>() {}
