/**
 * Read port for the questions a yes/no check cannot answer (docs/access.md):
 * who has access to a resource, which accesses an explanation cites, and
 * what a user can reach. Each answer is a bounded number of set-based
 * statements per page — never one check per user or per resource — and
 * binds no list longer than a page. It only reads; the rules stay in the
 * domain (`resources/explain.ts` decides every role it returns).
 */
import { Context, Effect } from "effect"
import type { ResourceId, ShareLinkId, UserId, WorkspaceId } from "../shared/ids.js"
import type { RoleFactsRequest } from "./ports.js"
import type { AncestorFacts } from "./rules.js"
import type { Access, LinkRole, Resource, ResourceRole } from "./schemas.js"

/** Where a page of principals starts: after this role (from `owner` down) and user. */
export interface PrincipalsKey {
  readonly role: ResourceRole
  readonly userId: UserId
}

/** A user with a role on the resource, as one statement ranked them, with their direct accesses on the path. */
export interface PrincipalRow {
  readonly userId: UserId
  /** The role the statement ranked them by; the domain decides it again from the facts and must agree. */
  readonly role: ResourceRole
  readonly workspaceRole: "admin" | "member" | null
  readonly accesses: ReadonlyArray<Access>
}

/** An active share link on the path. */
export interface PathShareLink {
  readonly id: ShareLinkId
  readonly resourceId: ResourceId
  readonly role: LinkRole
}

/** One page of principals, with the path and links read by the same statement (one snapshot). */
export interface PrincipalsPage {
  readonly workspaceId: WorkspaceId | null
  /** The resource first, then each ancestor up to the root; `directRole` is always null here. */
  readonly path: ReadonlyArray<AncestorFacts>
  /** In role order (`owner` first), then by user id; at most the limit asked. */
  readonly principals: ReadonlyArray<PrincipalRow>
  /** Empty when a node on the path is revoked. */
  readonly shareLinks: ReadonlyArray<PathShareLink>
}

export class AccessQueries extends Context.Tag("Tessera/AccessQueries")<AccessQueries, {
  /**
   * One page of the active users with a role on `resourceId` — direct and
   * inherited accesses, the workspace's admins, its members where the path
   * is shared with the workspace — after `after`, at most `limit`: one
   * statement.
   */
  readonly principals: (resourceId: ResourceId, after: PrincipalsKey | null, limit: number) => Effect.Effect<PrincipalsPage>
  /**
   * The direct accesses of each (resource, user) pair that exist, in a
   * bounded number of statements (the pairs travel as JSON, a few hundred
   * per statement).
   */
  readonly accessesOf: (pairs: ReadonlyArray<RoleFactsRequest>) => Effect.Effect<ReadonlyArray<Access>>
  /**
   * One page, in id order after `after`, of the live resources on which the
   * user has one of `roles` (the roles allowing an action), optionally in
   * one workspace: one recursive statement, seeded by the user's accesses
   * and memberships and walked down their subtrees.
   */
  readonly reachable: (
    userId: UserId,
    roles: ReadonlyArray<ResourceRole>,
    workspaceId: WorkspaceId | null,
    after: ResourceId | null,
    limit: number
  ) => Effect.Effect<ReadonlyArray<Resource>>
}>() {}
