/**
 * Who has access to a resource and why, and what a user can reach
 * (docs/access.md). Three reads beside the check, exactly consistent with
 * it: every role they report is decided by `explain.ts`'s `decideRole`, which
 * answers with the check's own rule over the check's own facts. They never
 * decide a role any other way, and never check resource by resource or
 * user by user: the store answers each page in a bounded number of
 * set-based statements (`AccessQueries`).
 */
import { Effect, Option } from "effect"
import { UserNotFound } from "../identity/errors.js"
import { isSystemAdmin, requireSystemAdmin } from "../identity/policy.js"
import { UserStore } from "../identity/ports.js"
import { type Actor, actorUserId, isLinkBearer } from "../identity/schemas.js"
import { Forbidden } from "../shared/errors.js"
import type { ResourceId, ShareLinkId, UserId, WorkspaceId } from "../shared/ids.js"
import { clampPage } from "../shared/pages.js"
import { AccessQueries, type PrincipalsKey } from "./accessQueries.js"
import { citedAccessNodes, decideRole, type RoleDecision, type AccessGrant, type AccessReason, reasonsOf } from "./explain.js"
import { loadLiveResource, requireRole } from "./policy.js"
import { type CheckFacts, ResourceStore, type RoleFactsRequest } from "./ports.js"
import { type Access, type Action, allows, type LinkRole, type Resource, ROLE_ORDER, type ResourceRole } from "./schemas.js"
import type { CheckRequest } from "./usecases.js"
import { spanned } from "../shared/spans.js"

/** A user with a role on a resource, and the grants that give them that role. */
export interface ResourcePrincipal {
  readonly user_id: UserId
  readonly role: ResourceRole
  readonly grants: ReadonlyArray<AccessGrant>
}

export interface PrincipalsPageAnswer {
  /** Ordered by role (`owner` first), then user id. */
  readonly principals: ReadonlyArray<ResourcePrincipal>
  /** The active share links on the resource and its ancestors, each granting its role to whoever presents it. */
  readonly share_links: ReadonlyArray<{ readonly id: ShareLinkId; readonly resource_id: ResourceId; readonly role: LinkRole }>
  /** Where the next page starts; `null` on the last page (a full page is the last when nothing follows it). */
  readonly next: PrincipalsKey | null
}

export interface KeysetPageRequest<K> {
  readonly after?: K | null | undefined
  readonly limit?: number | undefined
}

/**
 * Every active user with an effective role on the resource, with that role
 * and the grants that give it, and the active share links on its path; one
 * page in (role, user) order. Administrator rights on the resource needed;
 * a share link's bearer never lists people.
 */
export const listPrincipals = spanned("listPrincipals", function*(actor: Actor, id: ResourceId, page: KeysetPageRequest<PrincipalsKey> = {}) {
  const { role } = yield* loadLiveResource(actor, id)
  if (isLinkBearer(actor)) return yield* new Forbidden({ message: "a share link does not list who has access" })
  yield* requireRole(role, "administer", "listing who has access")
  const limit = clampPage(page.limit)
  // one row more than the page says whether another page follows, so the last page is never an empty one
  const found = yield* Effect.flatMap(AccessQueries, (q) => q.principals(id, page.after ?? null, limit + 1))
  const principals = found.principals.slice(0, limit).map((row): ResourcePrincipal => {
    const held = new Map(row.accesses.map((a) => [a.resource_id as string, a]))
    const facts: CheckFacts = {
      path: found.path.map((node) => ({ ...node, directRole: held.get(node.id)?.role ?? null })),
      workspaceRole: row.workspaceRole,
      userActive: true
    }
    const decision = decideRole(id, row.userId, facts)
    // the statement ranks by its own reading of the rule; the page is only right if the rule agrees
    if (decision.role !== row.role) throw new Error(`${row.userId} ranked ${row.role} on ${id} but the rule gives ${decision.role}`)
    const grants = reasonsOf(decision, (node) => held.get(node))
    if (grants === null) throw new Error(`an access of ${row.userId} on the path of ${id} is missing from its own statement`)
    return { user_id: row.userId, role: row.role, grants: grants as ReadonlyArray<AccessGrant> }
  })
  const last = principals[principals.length - 1]
  return {
    principals,
    share_links: found.shareLinks.map((l) => ({ id: l.id, resource_id: l.resourceId, role: l.role })),
    next: found.principals.length > limit && last !== undefined ? { role: last.role, userId: last.user_id } : null
  } satisfies PrincipalsPageAnswer
})

/** A check's answer with the reasons for it. */
export interface ExplainedAnswer {
  readonly allowed: boolean
  readonly role: ResourceRole | null
  /** The grants that decide the role (each alone gives at least it), or the one reason there is none. */
  readonly because: ReadonlyArray<AccessReason>
}

/** Reads of the facts and of the cited accesses before an explanation gives up on a store changing under it. */
export const EXPLAIN_ATTEMPTS = 3

const pairKey = (resourceId: string, userId: string) => `${resourceId} ${userId}`

/**
 * The check (`check` in usecases.ts) with `explain: true`: the same facts
 * (`roleFactsBatch`), the same rule, the same answers, each with `because`.
 * The cited accesses' ids are read after the facts; should one have changed
 * in between, both are read again.
 */
export const checkExplained = spanned("checkExplained", function*(actor: Actor, checks: ReadonlyArray<CheckRequest>) {
  if (!isSystemAdmin(actor)) return yield* new Forbidden({ message: "checks are asked by a system admin" })
  const store = yield* ResourceStore
  const queries = yield* AccessQueries
  for (let attempt = 1; attempt <= EXPLAIN_ATTEMPTS; attempt++) {
    const facts = yield* store.roleFactsBatch(checks.map((c) => ({ resourceId: c.resource_id, userId: c.user_id })))
    const decisions: ReadonlyArray<RoleDecision> = checks.map((c, k) => decideRole(c.resource_id, c.user_id, facts[k]!))
    const cited = new Map<string, RoleFactsRequest>()
    for (const d of decisions) {
      for (const node of citedAccessNodes(d)) cited.set(pairKey(node, d.userId), { resourceId: node, userId: d.userId })
    }
    const accesses: ReadonlyArray<Access> = cited.size === 0 ? [] : yield* queries.accessesOf([...cited.values()])
    const stored = new Map(accesses.map((a) => [pairKey(a.resource_id, a.user_id), a]))
    const reasons = decisions.map((d) => reasonsOf(d, (node) => stored.get(pairKey(node, d.userId))))
    if (reasons.every((r) => r !== null)) {
      return checks.map((c, k): ExplainedAnswer => ({
        allowed: allows(decisions[k]!.role, c.action),
        role: decisions[k]!.role,
        because: reasons[k]!
      }))
    }
  }
  return yield* Effect.dieMessage(`the accesses an explanation cites kept changing over ${EXPLAIN_ATTEMPTS} reads`)
})

/** One explained check: why `userId` has (or has not) their role on `resourceId`. */
export const explainAccess = (actor: Actor, userId: UserId, resourceId: ResourceId, action: Action = "read") =>
  Effect.map(checkExplained(actor, [{ user_id: userId, resource_id: resourceId, action }]), (answers) => answers[0]!)

export interface ReachableAnswer {
  /** In id order. */
  readonly resources: ReadonlyArray<Resource>
  /** Where the next page starts; `null` on the last page. */
  readonly next: ResourceId | null
}

/**
 * Every live resource on which the user may perform `action`, optionally
 * in one workspace, one page in id order: one statement per page, whatever
 * the number of resources. A system admin asks about anyone; a user about
 * themself. A user who is not active reaches nothing.
 */
export const listReachable = spanned("listReachable", function*(
  actor: Actor,
  userId: UserId,
  action: Action,
  options: { readonly workspaceId?: WorkspaceId | null | undefined } = {},
  page: KeysetPageRequest<ResourceId> = {}
) {
  if (actorUserId(actor) !== userId) yield* requireSystemAdmin(actor)
  const user = yield* Effect.flatMap(UserStore, (s) => s.findById(userId))
  if (Option.isNone(user)) return yield* new UserNotFound({ userId })
  const limit = clampPage(page.limit)
  const roles = ROLE_ORDER.filter((role) => allows(role, action))
  const found = user.value.status === "active"
    ? yield* Effect.flatMap(AccessQueries, (q) => q.reachable(userId, roles, options.workspaceId ?? null, page.after ?? null, limit + 1))
    : []
  const resources = found.slice(0, limit)
  const last = resources[resources.length - 1]
  return { resources, next: found.length > limit && last !== undefined ? last.id : null } satisfies ReachableAnswer
})
