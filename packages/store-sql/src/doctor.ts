/**
 * SQL implementation of the doctor's `StoreInspector`, one file for both
 * dialects (every statement below is accepted by SQLite and PostgreSQL
 * alike). It only reads.
 *
 * Each table is walked in keyset windows: `(lo, hi]` of a sorted, indexed
 * column, where `hi` is the greatest key among the next `pageSize` rows and
 * the last window is open above, so the windows cover every row — also rows
 * whose key sorts after the last one the walk saw. A window over a column
 * that is not unique (`workspace_members.workspace_id`) holds every row with
 * key `hi`, so one very large workspace makes one large window, never a
 * missed row. Every check is one anti-join query per window that returns
 * only the rows at fault; no statement binds a list of ids, and nothing
 * holds more than one window's violations in memory. The anti-joins are
 * written `(SELECT 1 … LIMIT 1) IS NULL` rather than `NOT EXISTS (…)`, and
 * lookups of a parent row as scalar subqueries rather than joins: for a
 * window of a thousand rows PostgreSQL's planner would otherwise choose a
 * hash join that reads the whole other table once per window (quadratic
 * over the walk), while a scalar subquery is never turned into a join and
 * runs as one index probe per row of the window, as SQLite does anyway.
 *
 * Trees are checked per window of workspaces (`resources.workspace_id`):
 * one recursive walk down from the roots counts the resources it reaches
 * and the live ones under a revoked ancestor. A walk down from the roots
 * can never enter a cycle (a resource in a cycle has its parent in the
 * cycle), so it needs no depth bound. Its recursive step is held to the
 * window too (a child counts only in its parent's workspace): whichever
 * join PostgreSQL picks for it — its estimates for recursive steps are
 * poor — then reads the window's rows, never the whole table, and the
 * plan stays cheap enough not to be compiled. Only a workspace where fewer
 * resources are reached than stored, or where a gap was counted, is looked
 * at again, one page of resource ids at a time. Its unreached resources are
 * walked up (one index probe per step), deduplicating `(start, at)` pairs so
 * a walk that enters a cycle ends; one that comes back to its start is in a
 * cycle.
 */
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { type CheckedTable, type DoctorCheck, DoctorViolation, type InspectionPage, type InspectOptions, StoreInspector } from "@tessera/domain"
import { Chunk, Effect, Layer, Option, Schema, Stream } from "effect"
import { notPlain } from "./resources.js"
import { DbInt } from "./rows.js"

/** Keys `lo < key <= hi`; `hi` null: no upper bound (the last window). */
interface Window {
  readonly lo: string
  readonly hi: string | null
  /** Rows of the walked table in the first `pageSize` keys of the window (all of them for a unique key). */
  readonly rows: number
}

const WindowRow = Schema.Struct({ hi: Schema.NullOr(Schema.String), n: DbInt })
const decodeWindow = Schema.decodeUnknown(Schema.Array(WindowRow))
const CountRow = Schema.Struct({ n: DbInt })
const decodeCount = Schema.decodeUnknown(Schema.Array(CountRow))

/** A row of ids and small counts (a count may be a string on PostgreSQL). */
const Row = Schema.Record({ key: Schema.String, value: Schema.Unknown })
type Row = typeof Row.Type
const decodeRows = Schema.decodeUnknown(Schema.Array(Row))

/** Text of a column, `""` for a null one. */
const text = (row: Row, column: string) => {
  const value = row[column]
  return value === null || value === undefined ? "" : String(value)
}

const violation = (check: DoctorCheck, ids: Record<string, string | ReadonlyArray<string>>, message: string) =>
  new DoctorViolation({ check, ids, message })

export const StoreInspectorLive = Layer.effect(StoreInspector, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  /** `column` within the window. */
  const within = (column: string, w: Window): Fragment =>
    w.hi === null
      ? sql`${sql.literal(column)} > ${w.lo}`
      : sql`${sql.literal(column)} > ${w.lo} AND ${sql.literal(column)} <= ${w.hi}`

  /** Runs a query whose columns are ids and small counts. */
  const rows = (statement: Effect.Effect<ReadonlyArray<unknown>, unknown>) =>
    statement.pipe(Effect.flatMap(decodeRows), Effect.orDie)

  const count = (statement: Effect.Effect<ReadonlyArray<unknown>, unknown>) =>
    statement.pipe(Effect.flatMap(decodeCount), Effect.map((r) => r[0]?.n ?? 0), Effect.orDie)

  /** The windows over `table.column` (rows matching `filter` only), each of at most `pageSize` keys before its `hi`. */
  const windows = (table: string, column: string, pageSize: number, filter: Fragment = sql`1 = 1`) =>
    Stream.paginateEffect("", (lo): Effect.Effect<readonly [Window, Option.Option<string>]> =>
      sql`SELECT MAX(k) AS hi, COUNT(*) AS n FROM (
            SELECT ${sql.literal(column)} AS k FROM ${sql.literal(table)}
            WHERE ${filter} AND ${sql.literal(column)} > ${lo} ORDER BY ${sql.literal(column)} LIMIT ${pageSize}
          ) page`.pipe(
        Effect.flatMap(decodeWindow),
        Effect.orDie,
        Effect.map(([row]) => {
          const n = row?.n ?? 0
          // a short page is the last: its window is open above, so nothing sorting later escapes
          const hi = n < pageSize ? null : row!.hi
          return [{ lo, hi, rows: n }, Option.fromNullable(hi)]
        })
      ))

  /** Runs every check of a table on each window; one page per window. */
  const walk = (
    stream: Stream.Stream<Window>,
    checks: ReadonlyArray<(w: Window) => Effect.Effect<ReadonlyArray<DoctorViolation>>>,
    checked: (w: Window) => Effect.Effect<Partial<Record<CheckedTable, number>>>
  ): Stream.Stream<InspectionPage> =>
    Stream.mapEffect(stream, (w) =>
      Effect.all([checked(w), Effect.forEach(checks, (check) => check(w))]).pipe(
        Effect.map(([checked, found]) => ({ checked, violations: found.flat() }))
      ))

  // ---------------------------------------------------------------------------------------------
  // users: one personal workspace each

  const usersWithoutPersonal = (w: Window) =>
    rows(sql`SELECT u.id AS user_id FROM users u WHERE ${within("u.id", w)}
             AND (SELECT 1 FROM workspaces ws WHERE ws.owner_user_id = u.id AND ws.is_personal = 1 LIMIT 1) IS NULL
             ORDER BY u.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation("user_without_personal_workspace", { user_id: text(r, "user_id") }, `user ${text(r, "user_id")} has no personal workspace`)
      )
    ))

  /** Owners (within the window of user ids, existing or not) of two or more personal workspaces. */
  const usersWithSeveralPersonal = (w: Window) =>
    rows(sql`SELECT ws.owner_user_id AS user_id, ws.id AS workspace_id FROM workspaces ws
             WHERE ws.is_personal = 1 AND ${within("ws.owner_user_id", w)}
               AND (SELECT 1 FROM workspaces other
                           WHERE other.is_personal = 1 AND other.owner_user_id = ws.owner_user_id AND other.id <> ws.id LIMIT 1) IS NOT NULL
             ORDER BY ws.owner_user_id, ws.id`).pipe(Effect.map((found) => {
      const byUser = new Map<string, Array<string>>()
      for (const r of found) {
        const list = byUser.get(text(r, "user_id")) ?? []
        list.push(text(r, "workspace_id"))
        byUser.set(text(r, "user_id"), list)
      }
      return [...byUser].map(([userId, workspaceIds]) =>
        violation(
          "user_with_several_personal_workspaces",
          { user_id: userId, workspace_ids: workspaceIds },
          `user ${userId} owns ${workspaceIds.length} personal workspaces: ${workspaceIds.join(", ")}`
        )
      )
    }))

  // ---------------------------------------------------------------------------------------------
  // api keys

  const apiKeysOfMissingUsers = (w: Window) =>
    rows(sql`SELECT k.id AS api_key_id, k.user_id FROM api_keys k WHERE ${within("k.id", w)}
             AND (SELECT 1 FROM users u WHERE u.id = k.user_id LIMIT 1) IS NULL ORDER BY k.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "api_key_user_missing",
          { api_key_id: text(r, "api_key_id"), user_id: text(r, "user_id") },
          `API key ${text(r, "api_key_id")} belongs to missing user ${text(r, "user_id")}`
        )
      )
    ))

  // ---------------------------------------------------------------------------------------------
  // workspaces

  const personalWithoutOwner = (w: Window) =>
    rows(sql`SELECT ws.id AS workspace_id FROM workspaces ws WHERE ${within("ws.id", w)}
             AND ws.is_personal = 1 AND ws.owner_user_id IS NULL ORDER BY ws.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "personal_workspace_without_owner",
          { workspace_id: text(r, "workspace_id") },
          `personal workspace ${text(r, "workspace_id")} has no owner`
        )
      )
    ))

  const personalMembers = (w: Window) =>
    rows(sql`SELECT ws.id AS workspace_id, ws.owner_user_id,
                    (SELECT COUNT(*) FROM workspace_members m WHERE m.workspace_id = ws.id) AS members
             FROM workspaces ws WHERE ${within("ws.id", w)} AND ws.is_personal = 1 AND ws.owner_user_id IS NOT NULL
               AND ((SELECT COUNT(*) FROM workspace_members m WHERE m.workspace_id = ws.id) <> 1
                    OR (SELECT 1 FROM workspace_members m
                                   WHERE m.workspace_id = ws.id AND m.user_id = ws.owner_user_id AND m.role = 'admin' LIMIT 1) IS NULL)
             ORDER BY ws.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "personal_workspace_members",
          { workspace_id: text(r, "workspace_id"), owner_user_id: text(r, "owner_user_id") },
          `personal workspace ${text(r, "workspace_id")} has ${text(r, "members")} member(s); it must have exactly its owner ${
            text(r, "owner_user_id")
          } as admin`
        )
      )
    ))

  const teamsWithoutAdmin = (w: Window) =>
    rows(sql`SELECT ws.id AS workspace_id FROM workspaces ws WHERE ${within("ws.id", w)} AND ws.is_personal = 0
             AND (SELECT 1 FROM workspace_members m WHERE m.workspace_id = ws.id AND m.role = 'admin' LIMIT 1) IS NULL
             ORDER BY ws.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation("team_workspace_without_admin", { workspace_id: text(r, "workspace_id") }, `team workspace ${text(r, "workspace_id")} has no admin`)
      )
    ))

  const teamsWithOwner = (w: Window) =>
    rows(sql`SELECT ws.id AS workspace_id, ws.owner_user_id FROM workspaces ws WHERE ${within("ws.id", w)}
             AND ws.is_personal = 0 AND ws.owner_user_id IS NOT NULL ORDER BY ws.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "team_workspace_with_owner",
          { workspace_id: text(r, "workspace_id"), owner_user_id: text(r, "owner_user_id") },
          `team workspace ${text(r, "workspace_id")} has owner_user_id ${text(r, "owner_user_id")}`
        )
      )
    ))

  const workspaceOwnersMissing = (w: Window) =>
    rows(sql`SELECT ws.id AS workspace_id, ws.owner_user_id FROM workspaces ws WHERE ${within("ws.id", w)}
             AND ws.owner_user_id IS NOT NULL AND (SELECT 1 FROM users u WHERE u.id = ws.owner_user_id LIMIT 1) IS NULL
             ORDER BY ws.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "workspace_owner_missing",
          { workspace_id: text(r, "workspace_id"), owner_user_id: text(r, "owner_user_id") },
          `workspace ${text(r, "workspace_id")} is owned by missing user ${text(r, "owner_user_id")}`
        )
      )
    ))

  // ---------------------------------------------------------------------------------------------
  // memberships, windowed by workspace id (the leading column of their primary key)

  const membershipsOfMissingUsers = (w: Window) =>
    rows(sql`SELECT m.workspace_id, m.user_id FROM workspace_members m WHERE ${within("m.workspace_id", w)}
             AND (SELECT 1 FROM users u WHERE u.id = m.user_id LIMIT 1) IS NULL ORDER BY m.workspace_id, m.user_id`).pipe(
      Effect.map((found) =>
        found.map((r) =>
          violation(
            "membership_user_missing",
            { workspace_id: text(r, "workspace_id"), user_id: text(r, "user_id") },
            `workspace ${text(r, "workspace_id")} has missing user ${text(r, "user_id")} as a member`
          )
        )
      )
    )

  // ---------------------------------------------------------------------------------------------
  // resources

  const rootsWithoutOwner = (w: Window) =>
    rows(sql`SELECT r.id AS resource_id, r.workspace_id FROM resources r WHERE ${within("r.id", w)}
             AND r.parent_id IS NULL AND r.revoked_at IS NULL
             AND (SELECT 1 FROM resource_accesses a WHERE a.resource_id = r.id AND a.role = 'owner' LIMIT 1) IS NULL
             ORDER BY r.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "root_without_owner",
          { resource_id: text(r, "resource_id"), workspace_id: text(r, "workspace_id") },
          `live root ${text(r, "resource_id")} in workspace ${text(r, "workspace_id")} has no direct owner`
        )
      )
    ))

  /** Parents that are missing (no workspace to look up) or in another workspace, found by one probe per child. */
  const strayParents = (w: Window) =>
    rows(sql`SELECT x.resource_id, x.workspace_id, x.parent_id, x.parent_workspace_id FROM (
               SELECT r.id AS resource_id, r.workspace_id, r.parent_id,
                      (SELECT p.workspace_id FROM resources p WHERE p.id = r.parent_id) AS parent_workspace_id
               FROM resources r WHERE ${within("r.id", w)} AND r.parent_id IS NOT NULL
             ) x WHERE x.parent_workspace_id IS NULL OR x.parent_workspace_id <> x.workspace_id
             ORDER BY x.resource_id`).pipe(Effect.map((found) =>
      found.map((r) =>
        r["parent_workspace_id"] === null
          ? violation(
            "resource_parent_missing",
            { resource_id: text(r, "resource_id"), parent_id: text(r, "parent_id") },
            `resource ${text(r, "resource_id")} has missing parent ${text(r, "parent_id")}`
          )
          : violation(
            "resource_parent_in_other_workspace",
            {
              resource_id: text(r, "resource_id"),
              workspace_id: text(r, "workspace_id"),
              parent_id: text(r, "parent_id"),
              parent_workspace_id: text(r, "parent_workspace_id")
            },
            `resource ${text(r, "resource_id")} in workspace ${text(r, "workspace_id")} has parent ${
              text(r, "parent_id")
            } in workspace ${text(r, "parent_workspace_id")}`
          )
      )
    ))

  /**
   * The hop rule (resources.ts, "Hops"): a hop is NULL, the parent, or —
   * under a plain parent — the parent's own next step; one probe of the
   * parent per child. It implies that every node a hop skips is plain, so
   * that the check's walk visits every node that can change a role.
   */
  const strayHops = (w: Window) =>
    rows(sql`SELECT r.id AS resource_id, r.hop_id FROM resources r LEFT JOIN resources p ON p.id = r.parent_id
             WHERE ${within("r.id", w)} AND r.hop_id IS NOT NULL AND (r.parent_id IS NULL OR (r.hop_id <> r.parent_id AND (
               p.id IS NULL OR ${sql.literal(notPlain("p"))} OR r.hop_id <> COALESCE(p.hop_id, p.parent_id))))
             ORDER BY r.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "hop_skips_a_node",
          { resource_id: text(r, "resource_id"), hop_id: text(r, "hop_id") },
          `resource ${text(r, "resource_id")} steps to ${text(r, "hop_id")} in the permission check, which may skip a node that changes a role`
        )
      )
    ))

  const resourceWorkspacesMissing = (w: Window) =>
    rows(sql`SELECT r.id AS resource_id, r.workspace_id FROM resources r WHERE ${within("r.id", w)}
             AND (SELECT 1 FROM workspaces ws WHERE ws.id = r.workspace_id LIMIT 1) IS NULL ORDER BY r.id`).pipe(
      Effect.map((found) =>
        found.map((r) =>
          violation(
            "resource_workspace_missing",
            { resource_id: text(r, "resource_id"), workspace_id: text(r, "workspace_id") },
            `resource ${text(r, "resource_id")} is in missing workspace ${text(r, "workspace_id")}`
          )
        )
      )
    )

  // ---------------------------------------------------------------------------------------------
  // direct accesses

  const accessesOfMissingUsers = (w: Window) =>
    rows(sql`SELECT a.id AS access_id, a.resource_id, a.user_id FROM resource_accesses a WHERE ${within("a.id", w)}
             AND (SELECT 1 FROM users u WHERE u.id = a.user_id LIMIT 1) IS NULL ORDER BY a.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "access_user_missing",
          { access_id: text(r, "access_id"), resource_id: text(r, "resource_id"), user_id: text(r, "user_id") },
          `access ${text(r, "access_id")} on ${text(r, "resource_id")} belongs to missing user ${text(r, "user_id")}`
        )
      )
    ))

  const accessesOnMissingResources = (w: Window) =>
    rows(sql`SELECT a.id AS access_id, a.resource_id FROM resource_accesses a WHERE ${within("a.id", w)}
             AND (SELECT 1 FROM resources r WHERE r.id = a.resource_id LIMIT 1) IS NULL ORDER BY a.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "access_resource_missing",
          { access_id: text(r, "access_id"), resource_id: text(r, "resource_id") },
          `access ${text(r, "access_id")} is on missing resource ${text(r, "resource_id")}`
        )
      )
    ))

  /**
   * The permission check probes a user's access only on resources whose
   * `may_have_accesses` is set (migration 0007: set by a trigger whenever an
   * access is written, never cleared), so an access on a resource without it
   * grants nothing. One statement reads the access and its resource's flag
   * from one snapshot, and the trigger sets the flag in the access's own
   * transaction: a write committing beside the walk is never reported. A
   * missing resource is `access_resource_missing`, not this.
   */
  const accessesOnUnflaggedResources = (w: Window) =>
    rows(sql`SELECT a.id AS access_id, a.resource_id, a.user_id FROM resource_accesses a WHERE ${within("a.id", w)}
             AND (SELECT 1 FROM resources r WHERE r.id = a.resource_id AND NOT r.may_have_accesses LIMIT 1) IS NOT NULL
             ORDER BY a.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "access_on_unflagged_resource",
          { access_id: text(r, "access_id"), resource_id: text(r, "resource_id"), user_id: text(r, "user_id") },
          `access ${text(r, "access_id")} of user ${text(r, "user_id")} is on resource ${
            text(r, "resource_id")
          }, whose may_have_accesses flag is not set: the permission check does not see it`
        )
      )
    ))

  // ---------------------------------------------------------------------------------------------
  // pending invites; only live ones (not yet expired) can grant anything

  const live = (now: string) => sql`i.status = 'pending' AND i.expires_at > ${now}`

  const invitesOnRevoked = (now: string) => (w: Window) =>
    rows(sql`SELECT i.id AS invite_id, i.resource_id FROM invites i
             WHERE ${within("i.id", w)} AND ${live(now)} AND i.resource_id IS NOT NULL
               AND (SELECT r.revoked_at FROM resources r WHERE r.id = i.resource_id) IS NOT NULL ORDER BY i.id`).pipe(
      Effect.map((found) =>
        found.map((r) =>
          violation(
            "invite_on_revoked_resource",
            { invite_id: text(r, "invite_id"), resource_id: text(r, "resource_id") },
            `live invite ${text(r, "invite_id")} is for revoked resource ${text(r, "resource_id")}`
          )
        )
      )
    )

  const invitesForMissingResources = (now: string) => (w: Window) =>
    rows(sql`SELECT i.id AS invite_id, i.resource_id FROM invites i
             WHERE ${within("i.id", w)} AND ${live(now)} AND i.resource_id IS NOT NULL
               AND (SELECT 1 FROM resources r WHERE r.id = i.resource_id LIMIT 1) IS NULL ORDER BY i.id`).pipe(
      Effect.map((found) =>
        found.map((r) =>
          violation(
            "invite_resource_missing",
            { invite_id: text(r, "invite_id"), resource_id: text(r, "resource_id") },
            `live invite ${text(r, "invite_id")} is for missing resource ${text(r, "resource_id")}`
          )
        )
      )
    )

  const invitesIntoMissingWorkspaces = (now: string) => (w: Window) =>
    rows(sql`SELECT i.id AS invite_id, i.workspace_id FROM invites i
             WHERE ${within("i.id", w)} AND ${live(now)} AND i.workspace_id IS NOT NULL
               AND (SELECT 1 FROM workspaces ws WHERE ws.id = i.workspace_id LIMIT 1) IS NULL ORDER BY i.id`).pipe(
      Effect.map((found) =>
        found.map((r) =>
          violation(
            "invite_workspace_missing",
            { invite_id: text(r, "invite_id"), workspace_id: text(r, "workspace_id") },
            `live invite ${text(r, "invite_id")} is into missing workspace ${text(r, "workspace_id")}`
          )
        )
      )
    )

  const invitesOfMissingMinters = (now: string) => (w: Window) =>
    rows(sql`SELECT i.id AS invite_id, i.created_by AS user_id FROM invites i
             WHERE ${within("i.id", w)} AND ${live(now)} AND i.created_by IS NOT NULL
               AND (SELECT 1 FROM users u WHERE u.id = i.created_by LIMIT 1) IS NULL ORDER BY i.id`).pipe(
      Effect.map((found) =>
        found.map((r) =>
          violation(
            "invite_minter_missing",
            { invite_id: text(r, "invite_id"), user_id: text(r, "user_id") },
            `live invite ${text(r, "invite_id")} was minted by missing user ${text(r, "user_id")}`
          )
        )
      )
    )

  // ---------------------------------------------------------------------------------------------
  // share links, windowed by resource id so that a resource's links are in one window

  const linksOnMissingResources = (w: Window) =>
    rows(sql`SELECT s.id AS share_link_id, s.resource_id FROM share_links s WHERE ${within("s.resource_id", w)}
             AND (SELECT 1 FROM resources r WHERE r.id = s.resource_id LIMIT 1) IS NULL ORDER BY s.resource_id, s.id`).pipe(
      Effect.map((found) =>
        found.map((r) =>
          violation(
            "share_link_resource_missing",
            { share_link_id: text(r, "share_link_id"), resource_id: text(r, "resource_id") },
            `share link ${text(r, "share_link_id")} is on missing resource ${text(r, "resource_id")}`
          )
        )
      )
    )

  const activeLinksOnRevoked = (w: Window) =>
    rows(sql`SELECT s.id AS share_link_id, s.resource_id FROM share_links s
             WHERE ${within("s.resource_id", w)} AND s.disabled_at IS NULL
               AND (SELECT r.revoked_at FROM resources r WHERE r.id = s.resource_id) IS NOT NULL
             ORDER BY s.resource_id, s.id`).pipe(Effect.map((found) =>
      found.map((r) =>
        violation(
          "share_link_on_revoked_resource",
          { share_link_id: text(r, "share_link_id"), resource_id: text(r, "resource_id") },
          `active share link ${text(r, "share_link_id")} is on revoked resource ${text(r, "resource_id")}`
        )
      )
    ))

  const severalActiveLinks = (w: Window) =>
    rows(sql`SELECT s.resource_id, s.id AS share_link_id FROM share_links s
             WHERE ${within("s.resource_id", w)} AND s.disabled_at IS NULL
               AND (SELECT 1 FROM share_links other
                           WHERE other.resource_id = s.resource_id AND other.disabled_at IS NULL AND other.id <> s.id LIMIT 1) IS NOT NULL
             ORDER BY s.resource_id, s.id`).pipe(Effect.map((found) => {
      const byResource = new Map<string, Array<string>>()
      for (const r of found) {
        const list = byResource.get(text(r, "resource_id")) ?? []
        list.push(text(r, "share_link_id"))
        byResource.set(text(r, "resource_id"), list)
      }
      return [...byResource].map(([resourceId, linkIds]) =>
        violation(
          "several_active_share_links",
          { resource_id: resourceId, share_link_ids: linkIds },
          `resource ${resourceId} has ${linkIds.length} active share links: ${linkIds.join(", ")}`
        )
      )
    }))

  // ---------------------------------------------------------------------------------------------
  // trees, per window of workspace ids

  /** Per workspace of the window that needs a closer look: resources stored, reached from its roots, and live under a revoked ancestor. */
  const treeSummary = (w: Window) =>
    rows(sql`WITH RECURSIVE reach (id, workspace_id, revoked_at, under_revoked) AS (
               SELECT r.id, r.workspace_id, r.revoked_at, 0 FROM resources r
               WHERE ${within("r.workspace_id", w)} AND r.parent_id IS NULL
               UNION ALL
               SELECT c.id, c.workspace_id, c.revoked_at,
                      CASE WHEN reach.under_revoked = 1 OR reach.revoked_at IS NOT NULL THEN 1 ELSE 0 END
               FROM reach JOIN resources c ON c.parent_id = reach.id AND c.workspace_id = reach.workspace_id
               WHERE ${within("c.workspace_id", w)}
             ),
             reached (workspace_id, n, gaps) AS (
               SELECT workspace_id, COUNT(*), SUM(CASE WHEN under_revoked = 1 AND revoked_at IS NULL THEN 1 ELSE 0 END)
               FROM reach GROUP BY workspace_id
             ),
             stored (workspace_id, n) AS (
               SELECT r.workspace_id, COUNT(*) FROM resources r WHERE ${within("r.workspace_id", w)} GROUP BY r.workspace_id
             )
             SELECT s.workspace_id, s.n AS stored, COALESCE(x.n, 0) AS reached, COALESCE(x.gaps, 0) AS gaps
             FROM stored s LEFT JOIN reached x ON x.workspace_id = s.workspace_id
             WHERE COALESCE(x.n, 0) <> s.n OR COALESCE(x.gaps, 0) > 0
             ORDER BY s.workspace_id`)

  /** The walk down from the roots of one workspace, carrying each resource's nearest revoked ancestor. */
  const reachOf = (workspaceId: string) =>
    sql`WITH RECURSIVE reach (id, revoked_at, revoked_ancestor) AS (
          SELECT r.id, r.revoked_at, CAST(NULL AS TEXT) FROM resources r
          WHERE r.workspace_id = ${workspaceId} AND r.parent_id IS NULL
          UNION ALL
          SELECT c.id, c.revoked_at, CASE WHEN reach.revoked_at IS NOT NULL THEN reach.id ELSE reach.revoked_ancestor END
          FROM reach JOIN resources c ON c.parent_id = reach.id AND c.workspace_id = ${workspaceId}
        )`

  /**
   * One workspace's findings, `pageSize` resources at a time (keyset on the
   * resource id), as pages of the walk: a badly broken workspace never sits
   * in memory whole.
   */
  const pagesOf = (
    pageSize: number,
    page: (after: string) => Effect.Effect<ReadonlyArray<Row>>,
    found: (row: Row) => ReadonlyArray<DoctorViolation>
  ): Stream.Stream<InspectionPage> =>
    Stream.paginateEffect(
      "",
      (after): Effect.Effect<readonly [InspectionPage, Option.Option<string>]> =>
        Effect.map(page(after), (batch) => [
          { checked: {}, violations: batch.flatMap(found) },
          batch.length < pageSize ? Option.none() : Option.some(text(batch[batch.length - 1]!, "id"))
        ])
    )

  const revocationGaps = (workspaceId: string, pageSize: number) =>
    pagesOf(
      pageSize,
      (after) =>
        rows(sql`${reachOf(workspaceId)}
                 SELECT id, revoked_ancestor FROM reach
                 WHERE revoked_at IS NULL AND revoked_ancestor IS NOT NULL AND id > ${after} ORDER BY id LIMIT ${pageSize}`),
      (r) => [
        violation(
          "tree_revocation_gap",
          { resource_id: text(r, "id"), revoked_ancestor_id: text(r, "revoked_ancestor"), workspace_id: workspaceId },
          `live resource ${text(r, "id")} is under revoked resource ${text(r, "revoked_ancestor")}`
        )
      ]
    )

  /** The resources of one workspace its roots do not reach, a page at a time, each walked up to see whether it comes back to itself. */
  const cycles = (workspaceId: string, pageSize: number) =>
    pagesOf(
      pageSize,
      (after) =>
        rows(sql`${reachOf(workspaceId)},
                 stray (id, parent_id) AS (
                   SELECT r.id, r.parent_id FROM resources r LEFT JOIN reach ON reach.id = r.id
                   WHERE r.workspace_id = ${workspaceId} AND reach.id IS NULL AND r.id > ${after}
                   ORDER BY r.id LIMIT ${pageSize}
                 ),
                 up (start, at) AS (
                   SELECT id, parent_id FROM stray
                   UNION
                   SELECT up.start, (SELECT p.parent_id FROM resources p WHERE p.id = up.at) FROM up
                   WHERE up.at IS NOT NULL AND up.at <> up.start
                 )
                 SELECT s.id, s.parent_id,
                        CASE WHEN EXISTS (SELECT 1 FROM up WHERE up.start = s.id AND up.at = s.id) THEN 1 ELSE 0 END AS in_cycle
                 FROM stray s ORDER BY s.id`),
      (r) =>
        Number(r["in_cycle"]) === 1
          ? [
            violation(
              "resource_cycle",
              { resource_id: text(r, "id"), parent_id: text(r, "parent_id"), workspace_id: workspaceId },
              `resource ${text(r, "id")} in workspace ${workspaceId} is its own ancestor (parent ${text(r, "parent_id")})`
            )
          ]
          : []
    )

  /** Per window of workspaces: the sibling lists, then a closer look at each workspace the summary flags. */
  const trees = (pageSize: number): Stream.Stream<InspectionPage> =>
    Stream.flatMap(windows("resources", "workspace_id", pageSize), (w) =>
      Stream.unwrap(Effect.map(Effect.all([siblingLists(w), treeSummary(w)]), ([siblings, flagged]) =>
        Stream.concat(
          Stream.make<Array<InspectionPage>>({ checked: {}, violations: siblings }),
          Stream.flatMap(Stream.fromIterable(flagged), (ws) => {
            const workspaceId = text(ws, "workspace_id")
            return Stream.concat(
              Number(ws["gaps"]) > 0 ? revocationGaps(workspaceId, pageSize) : Stream.empty,
              Number(ws["reached"]) !== Number(ws["stored"]) ? cycles(workspaceId, pageSize) : Stream.empty
            )
          })
        ))))

  const siblingLists = (w: Window) =>
    rows(sql`SELECT r.workspace_id, r.parent_id, COUNT(*) AS n, MIN(r.position) AS lowest, MAX(r.position) AS highest,
                    COUNT(DISTINCT r.position) AS distinct_positions
             FROM resources r WHERE ${within("r.workspace_id", w)}
             GROUP BY r.workspace_id, r.parent_id
             HAVING MIN(r.position) <> 0 OR MAX(r.position) <> COUNT(*) - 1 OR COUNT(DISTINCT r.position) <> COUNT(*)
             ORDER BY r.workspace_id, r.parent_id`).pipe(Effect.map((found) =>
      found.map((r) => {
        const parent = r["parent_id"] === null ? null : text(r, "parent_id")
        const list = parent === null ? `the roots of workspace ${text(r, "workspace_id")}` : `the children of ${parent}`
        return violation(
          "sibling_positions_not_dense",
          parent === null ? { workspace_id: text(r, "workspace_id") } : { workspace_id: text(r, "workspace_id"), parent_id: parent },
          `${list}: ${text(r, "n")} siblings at positions ${text(r, "lowest")}..${text(r, "highest")}, ${
            text(r, "distinct_positions")
          } distinct; expected 0..${Number(r["n"]) - 1}`
        )
      })
    ))

  const inspect = ({ now, pageSize }: InspectOptions): Stream.Stream<InspectionPage> => {
    const rowsOf = (table: CheckedTable) => (w: Window) => Effect.succeed({ [table]: w.rows })
    const countWithin = (table: CheckedTable, statement: (w: Window) => Effect.Effect<ReadonlyArray<unknown>, unknown>) => (w: Window) =>
      Effect.map(count(statement(w)), (n) => ({ [table]: n }))
    return Stream.concatAll(Chunk.make(
      walk(windows("users", "id", pageSize), [usersWithoutPersonal, usersWithSeveralPersonal], rowsOf("users")),
      walk(windows("api_keys", "id", pageSize), [apiKeysOfMissingUsers], rowsOf("api_keys")),
      walk(
        windows("workspaces", "id", pageSize),
        [personalWithoutOwner, personalMembers, teamsWithoutAdmin, teamsWithOwner, workspaceOwnersMissing],
        rowsOf("workspaces")
      ),
      walk(
        windows("workspace_members", "workspace_id", pageSize),
        [membershipsOfMissingUsers],
        countWithin("memberships", (w) => sql`SELECT COUNT(*) AS n FROM workspace_members m WHERE ${within("m.workspace_id", w)}`)
      ),
      walk(
        windows("resources", "id", pageSize),
        [rootsWithoutOwner, strayParents, strayHops, resourceWorkspacesMissing],
        rowsOf("resources")
      ),
      trees(pageSize),
      walk(windows("resource_accesses", "id", pageSize), [accessesOfMissingUsers, accessesOnMissingResources, accessesOnUnflaggedResources], rowsOf("accesses")),
      walk(
        windows("invites", "id", pageSize, sql`status = 'pending'`),
        [invitesOnRevoked(now), invitesForMissingResources(now), invitesIntoMissingWorkspaces(now), invitesOfMissingMinters(now)],
        rowsOf("pending_invites")
      ),
      walk(
        windows("share_links", "resource_id", pageSize),
        [linksOnMissingResources, activeLinksOnRevoked, severalActiveLinks],
        countWithin("share_links", (w) => sql`SELECT COUNT(*) AS n FROM share_links s WHERE ${within("s.resource_id", w)}`)
      )
    ))
  }

  return StoreInspector.of({ inspect })
}))
