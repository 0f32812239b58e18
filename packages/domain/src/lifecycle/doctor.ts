/**
 * The doctor (docs/domain.md#maintenance): every rule of the kernel checked over the stored
 * data, whatever wrote it — a bug, a restore, a hand-run statement. The
 * `StoreInspector` port walks the tables in keyset pages and yields the
 * violations each page holds; `runDoctor` folds them into a report. It only
 * reads: no transaction, no lock, no write, no event — so it may run beside
 * a live server, and a row written while it walks may be seen or not.
 *
 * It must never repair anything (repairs are the dry-run-first `cleanup`
 * commands) and never hold more than one page of rows at a time: memory
 * grows with the violations it lists (capped), not with the store.
 */
import { Context, Effect, Schema, Stream } from "effect"
import { requireSystemAdmin } from "../identity/policy.js"
import type { Actor } from "../identity/schemas.js"
import { now, type Timestamp } from "../shared/time.js"
import { spanned } from "../shared/spans.js"

/** What each check means; the key is its stable code. */
export const DOCTOR_CHECKS = {
  personal_workspace_members: "a personal workspace whose members are not exactly its owner as admin",
  personal_workspace_without_owner: "a personal workspace with no owner_user_id",
  team_workspace_without_admin: "a team workspace with no admin",
  team_workspace_with_owner: "a team workspace with an owner_user_id (only personal workspaces have one)",
  user_without_personal_workspace: "a user with no personal workspace",
  user_with_several_personal_workspaces: "a user owning more than one personal workspace",
  root_without_owner: "a live root resource (no parent, not revoked) with no direct owner access",
  invite_on_revoked_resource: "a live invite (pending, not expired) for a revoked resource",
  share_link_on_revoked_resource: "an active share link on a revoked resource",
  tree_revocation_gap: "a live resource under a revoked ancestor (revocation marks the whole subtree)",
  several_active_share_links: "a resource with more than one active share link",
  membership_user_missing: "a workspace membership of a user that does not exist",
  workspace_owner_missing: "a workspace whose owner_user_id names a user that does not exist",
  access_user_missing: "a direct access of a user that does not exist",
  api_key_user_missing: "an API key of a user that does not exist",
  invite_minter_missing: "a live invite minted by a user that does not exist",
  access_resource_missing: "a direct access on a resource that does not exist",
  access_on_unflagged_resource: "a direct access on a resource whose may_have_accesses flag is not set (the permission check does not see it)",
  invite_resource_missing: "a live invite for a resource that does not exist",
  invite_workspace_missing: "a live invite into a workspace that does not exist",
  share_link_resource_missing: "a share link on a resource that does not exist",
  resource_workspace_missing: "a resource in a workspace that does not exist",
  resource_parent_missing: "a resource whose parent does not exist",
  resource_parent_in_other_workspace: "a resource whose parent is in another workspace",
  resource_cycle: "a resource that is its own ancestor",
  hop_skips_a_node: "a resource whose hop (the check's step up) breaks the hop rule, so the check may skip a node that changes a role",
  sibling_positions_not_dense: "a sibling list whose positions are not exactly 0..n-1"
} as const

export const DoctorCheck = Schema.Literal(...(Object.keys(DOCTOR_CHECKS) as Array<keyof typeof DOCTOR_CHECKS>))
export type DoctorCheck = typeof DoctorCheck.Type

/** One broken rule: its check, the ids of the rows involved (named by column), and a sentence. */
export class DoctorViolation extends Schema.Class<DoctorViolation>("DoctorViolation")({
  check: DoctorCheck,
  ids: Schema.Record({ key: Schema.String, value: Schema.Union(Schema.String, Schema.Array(Schema.String)) }),
  message: Schema.String
}) {}

/** What the doctor walks, each counted in rows. */
export const CHECKED_TABLES = [
  "users",
  "api_keys",
  "workspaces",
  "memberships",
  "resources",
  "accesses",
  "pending_invites",
  "share_links"
] as const
export type CheckedTable = typeof CHECKED_TABLES[number]

/** One page of the walk: how many rows of which tables it covered, and what it found there. */
export interface InspectionPage {
  readonly checked: Partial<Record<CheckedTable, number>>
  readonly violations: ReadonlyArray<DoctorViolation>
}

export interface InspectOptions {
  /** An invite is live when pending and expiring after this time. */
  readonly now: Timestamp
  /** Rows per keyset page. */
  readonly pageSize: number
}

/**
 * Reads the whole store in keyset pages, each bounded by `pageSize` rows of
 * the table it walks, and never binds a list of ids. Nothing is written.
 */
export class StoreInspector extends Context.Tag("Tessera/StoreInspector")<StoreInspector, {
  readonly inspect: (options: InspectOptions) => Stream.Stream<InspectionPage>
}>() {}

export const DEFAULT_DOCTOR_PAGE = 1000
export const MAX_DOCTOR_PAGE = 10_000
export const DEFAULT_DOCTOR_LISTED = 10_000

export interface DoctorReport {
  /** No violation at all. */
  readonly ok: boolean
  /** The violations found, in walk order; at most `maxListed` of them. */
  readonly violations: ReadonlyArray<DoctorViolation>
  /** How many violations each check found, all of them (listed or not). */
  readonly counts: Partial<Record<DoctorCheck, number>>
  /** More violations were found than listed. */
  readonly truncated: boolean
  readonly checked: Record<CheckedTable, number>
}

/**
 * Checks every rule over the stored data (system admins only). Lists at
 * most `maxListed` violations but counts them all, so a badly broken store
 * cannot exhaust memory.
 */
export const runDoctor = spanned("runDoctor", function*(actor: Actor, options: {
  readonly pageSize?: number | undefined
  readonly maxListed?: number | undefined
  /** Told after each page the rows checked so far, e.g. to show progress. */
  readonly onPage?: ((checked: Readonly<Record<CheckedTable, number>>) => Effect.Effect<void>) | undefined
} = {}) {
  yield* requireSystemAdmin(actor)
  const pageSize = Math.min(Math.max(Math.floor(options.pageSize ?? DEFAULT_DOCTOR_PAGE), 1), MAX_DOCTOR_PAGE)
  const maxListed = Math.max(Math.floor(options.maxListed ?? DEFAULT_DOCTOR_LISTED), 0)
  const inspector = yield* StoreInspector
  const at = yield* now
  const violations: Array<DoctorViolation> = []
  const counts: Partial<Record<DoctorCheck, number>> = {}
  const checked = Object.fromEntries(CHECKED_TABLES.map((table) => [table, 0])) as Record<CheckedTable, number>
  let total = 0
  const onPage = options.onPage
  yield* Stream.runForEach(inspector.inspect({ now: at, pageSize }), (page) => {
    for (const [table, rows] of Object.entries(page.checked) as Array<[CheckedTable, number]>) checked[table] += rows
    for (const violation of page.violations) {
      total++
      counts[violation.check] = (counts[violation.check] ?? 0) + 1
      if (violations.length < maxListed) violations.push(violation)
    }
    return onPage === undefined ? Effect.void : onPage(checked)
  })
  return { ok: total === 0, violations, counts, truncated: total > violations.length, checked } satisfies DoctorReport
})
