/**
 * The one-query comparator of the permission check, shared by the in-process
 * workload (`checks.ts`) and the bare HTTP server (`http-bare.ts`): the
 * user's status and role on a resource in one recursive query, and the
 * reduction of its row to a role. Imports nothing but a type, so the bare
 * server stays bare.
 */
import type { ResourceRole } from "@tessera/domain"

export interface ComparatorRow {
  readonly active: number | boolean | null
  readonly revoked: number | boolean | null
  readonly direct: number | null
  readonly link: number | null
  readonly workspace_role: "admin" | "member" | null
}

const ROLES: ReadonlyArray<ResourceRole> = ["reader", "commenter", "editor", "administrator", "owner"]
const RANK_SQL = "CASE a.role WHEN 'reader' THEN 1 WHEN 'commenter' THEN 2 WHEN 'editor' THEN 3 WHEN 'administrator' THEN 4 WHEN 'owner' THEN 5 ELSE 0 END"
const LINK_SQL = "CASE WHEN p.link_reach = 'workspace' THEN CASE p.link_role WHEN 'editor' THEN 3 ELSE 1 END ELSE 0 END"

/** The comparator: docs/domain.md#resources in one recursive query, aggregated in SQL ($1 the resource, $2 the user). */
export const comparatorSql = (dialect: "sqlite" | "pg") => {
  const [res, usr] = dialect === "pg" ? ["$1", "$2"] : ["@res", "@usr"]
  const flag = (expr: string) => (dialect === "pg" ? `bool_or(${expr})` : `MAX(${expr})`)
  return `WITH RECURSIVE path (id, parent_id, workspace_id, revoked_at, link_reach, link_role, depth) AS (
      SELECT id, parent_id, workspace_id, revoked_at, link_reach, link_role, 0 FROM resources WHERE id = ${res}
      UNION ALL
      SELECT r.id, r.parent_id, r.workspace_id, r.revoked_at, r.link_reach, r.link_role, p.depth + 1
      FROM resources r JOIN path p ON r.id = p.parent_id
    )
    SELECT ${flag("u.id IS NOT NULL")} AS active, ${flag("p.revoked_at IS NOT NULL")} AS revoked,
           MAX(${RANK_SQL}) AS direct, MAX(${LINK_SQL}) AS link, MAX(m.role) AS workspace_role
    FROM path p
    LEFT JOIN resource_accesses a ON a.resource_id = p.id AND a.user_id = ${usr}
    LEFT JOIN workspace_members m ON p.depth = 0 AND m.workspace_id = p.workspace_id AND m.user_id = ${usr}
    LEFT JOIN users u ON p.depth = 0 AND u.id = ${usr} AND u.status = 'active'`
}

export const comparatorRole = (row: ComparatorRow | undefined): ResourceRole | null => {
  if (row === undefined || !row.active || row.revoked) return null
  let rank = row.direct ?? 0
  if (row.workspace_role !== null) rank = Math.max(rank, row.link ?? 0)
  if (row.workspace_role === "admin") rank = Math.max(rank, 4)
  return rank === 0 ? null : ROLES[rank - 1]!
}
