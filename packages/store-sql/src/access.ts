/**
 * SQL implementation of `AccessQueries` (docs/access.md), shared by both
 * dialects: who has access to a resource, the accesses an explanation
 * cites, and what a user can reach. It only reads, and never asks
 * resource by resource or user by user: each answer is one set-based
 * statement per page (per few hundred pairs for `accessesOf`), and no
 * statement binds a list longer than that. The role it ranks principals by
 * is its own reading of the rule; the domain decides each again and must
 * agree.
 *
 * `reachable` seeds a walk with the nodes that give the user a role high
 * enough for the action — their direct accesses with such a role, the
 * roots of the workspaces they administer (when `administrator` is
 * enough), the nodes shared with a workspace they belong to (when the link
 * role is enough) — drops the seeds with a revoked node above them (one
 * walk up from each seed), and walks down from the rest, never into a
 * revoked node. A role only grows going down a path, so every node below a
 * seed is reached, and nothing else is.
 */
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import {
  Access,
  AccessQueries,
  type AncestorFacts,
  type PathShareLink,
  type PrincipalRow,
  type PrincipalsKey,
  Resource,
  type ResourceId,
  ROLE_ORDER,
  type ShareLinkId,
  type UserId,
  type WorkspaceId
} from "@tessera/domain"
import { Effect, Layer, Schema } from "effect"
import { MAX_DEPTH, preparedAs } from "./resources.js"
import { DbInt } from "./rows.js"

/** Pairs per `accessesOf` statement: they travel as one JSON text parameter. */
export const PAIRS_CHUNK = 250

const RESOURCE_COLUMNS = "r.id, r.workspace_id, r.kind, r.title, r.parent_id, r.link_reach, r.link_role, r.created_by, r.created_at, r.updated_at, r.revoked_at"
const decodeResources = Schema.decodeUnknown(Schema.Array(Resource))
const decodeAccesses = Schema.decodeUnknown(Schema.Array(Access))

/** A role's rank in `ROLE_ORDER` (reader 0 … owner 4), as SQL. */
const rankOf = (column: string) =>
  `CASE ${column} ${ROLE_ORDER.map((role, rank) => `WHEN '${role}' THEN ${rank}`).join(" ")} END`

const NullableText = Schema.NullOr(Schema.String)
/** One row of the principals statement: a path node, a principal's access (or the principal alone), or a share link. */
const PrincipalsRow = Schema.Struct({
  grp: DbInt,
  id: NullableText,
  parent_id: NullableText,
  workspace_id: NullableText,
  revoked_at: NullableText,
  link_reach: Schema.NullOr(Schema.Literal("restricted", "workspace")),
  link_role: Schema.NullOr(Schema.Literal("reader", "editor")),
  user_id: NullableText,
  rank: Schema.NullOr(DbInt),
  workspace_role: Schema.NullOr(Schema.Literal("admin", "member")),
  access_id: NullableText,
  access_resource_id: NullableText,
  access_role: Schema.NullOr(Schema.Literal(...ROLE_ORDER))
})
const decodePrincipalsRows = Schema.decodeUnknown(Schema.Array(PrincipalsRow))

const chunksOf = <A>(items: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size))

export const AccessQueriesLive = Layer.effect(AccessQueries, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  /** The pairs as JSON rows `asked (resource_id, user_id)`. */
  const asked = (json: string) =>
    sql.onDialectOrElse({
      pg: () => sql`asked (resource_id, user_id) AS (SELECT e ->> 0, e ->> 1 FROM json_array_elements(${json}::json) AS t (e))`,
      orElse: () => sql`asked (resource_id, user_id) AS (SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]') FROM json_each(${json}) AS j)`
    })

  /**
   * `path`: the resource and its ancestors up to the root (`depth` 0 is the
   * resource), each with its workspace, revocation and link settings.
   */
  const pathOf = (resourceId: string) =>
    sql`path (id, parent_id, workspace_id, revoked_at, link_reach, link_role, depth) AS (
          SELECT id, parent_id, workspace_id, revoked_at, link_reach, link_role, 0 FROM resources WHERE id = ${resourceId}
          UNION ALL
          SELECT r.id, r.parent_id, r.workspace_id, r.revoked_at, r.link_reach, r.link_role, p.depth + 1
          FROM resources r JOIN path p ON r.id = p.parent_id WHERE p.depth < ${MAX_DEPTH}
        )`

  const principals = (resourceId: ResourceId, after: PrincipalsKey | null, limit: number) => {
    const afterRank = after === null ? 0 : ROLE_ORDER.indexOf(after.role)
    const keyset: Fragment = after === null ? sql`1 = 1` : sql`(rank < ${afterRank} OR (rank = ${afterRank} AND user_id > ${after.userId}))`
    const none = (type: "TEXT" | "INTEGER") => sql.literal(`CAST(NULL AS ${type})`)
    const [t, i] = [none("TEXT"), none("INTEGER")]
    // Candidates are found from the path by index (IN, a scalar subquery, EXISTS), never by a join
    // the planner may turn around: SQLite plans without statistics, and a join with the path's
    // CTE read resource_accesses, workspace_members and users whole (docs/http.md, "Paging parameters").
    return sql`WITH RECURSIVE ${pathOf(resourceId)},
        target (workspace_id) AS (SELECT workspace_id FROM path WHERE depth = 0),
        live (ok) AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM path WHERE revoked_at IS NOT NULL) THEN 0 ELSE 1 END),
        candidates (user_id, rank) AS (
          SELECT x.user_id, ${sql.literal(rankOf("x.role"))} FROM resource_accesses x WHERE x.resource_id IN (SELECT id FROM path)
          UNION ALL
          SELECT m.user_id, ${sql.literal(String(ROLE_ORDER.indexOf("administrator")))} FROM workspace_members m
          WHERE m.workspace_id = (SELECT workspace_id FROM target) AND m.role = 'admin'
          UNION ALL
          SELECT m.user_id, l.rank FROM workspace_members m JOIN target w ON m.workspace_id = w.workspace_id
          JOIN (SELECT MAX(${sql.literal(rankOf("link_role"))}) AS rank FROM path WHERE link_reach = 'workspace') l ON l.rank IS NOT NULL
        ),
        ranked (user_id, rank) AS (
          SELECT c.user_id, MAX(c.rank) FROM candidates c
          JOIN live ON live.ok = 1
          WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id AND u.status = 'active')
          GROUP BY c.user_id
        ),
        page (user_id, rank) AS (SELECT user_id, rank FROM ranked WHERE ${keyset} ORDER BY rank DESC, user_id LIMIT ${limit})
      SELECT 0 AS grp, p.depth AS ord, p.id, p.parent_id, p.workspace_id, p.revoked_at, p.link_reach, p.link_role,
             ${t} AS user_id, ${i} AS rank, ${t} AS workspace_role, ${t} AS access_id, ${t} AS access_resource_id, ${t} AS access_role
      FROM path p
      UNION ALL
      SELECT 1, 0, ${t}, ${t}, ${t}, ${t}, ${t}, ${t}, g.user_id, g.rank, m.role, x.id, x.resource_id, x.role
      FROM page g
      LEFT JOIN workspace_members m ON m.user_id = g.user_id AND m.workspace_id = (SELECT workspace_id FROM target)
      LEFT JOIN resource_accesses x ON x.user_id = g.user_id AND x.resource_id IN (SELECT id FROM path)
      UNION ALL
      SELECT 2, 0, s.id, ${t}, ${t}, ${t}, ${t}, s.role, ${t}, ${i}, ${t}, ${t}, s.resource_id, ${t}
      FROM share_links s JOIN path p ON s.resource_id = p.id JOIN live ON live.ok = 1
      WHERE s.disabled_at IS NULL
      ORDER BY grp, ord, rank DESC, user_id, access_resource_id`.pipe(
      Effect.flatMap(decodePrincipalsRows),
      Effect.map((rows) => {
        const path: Array<AncestorFacts> = []
        const users: Array<PrincipalRow & { accesses: Array<Access> }> = []
        const shareLinks: Array<PathShareLink> = []
        let workspaceId: WorkspaceId | null = null
        let lastParent: string | null = null
        for (const row of rows) {
          if (row.grp === 0) {
            if (row.id === null || row.link_reach === null || row.link_role === null) throw new Error(`unexpected path row ${JSON.stringify(row)}`)
            if (path.length === 0) workspaceId = row.workspace_id as WorkspaceId
            lastParent = row.parent_id
            path.push({ id: row.id as ResourceId, revoked: row.revoked_at !== null, linkReach: row.link_reach, linkRole: row.link_role, directRole: null })
          } else if (row.grp === 1) {
            if (row.user_id === null || row.rank === null) throw new Error(`unexpected principal row ${JSON.stringify(row)}`)
            let user = users[users.length - 1]
            if (user === undefined || user.userId !== row.user_id) {
              user = { userId: row.user_id as UserId, role: ROLE_ORDER[row.rank]!, workspaceRole: row.workspace_role, accesses: [] }
              users.push(user)
            }
            if (row.access_id !== null && row.access_resource_id !== null && row.access_role !== null) {
              user.accesses.push(new Access({ id: row.access_id, resource_id: row.access_resource_id as ResourceId, user_id: user.userId, role: row.access_role }))
            }
          } else {
            if (row.id === null || row.access_resource_id === null || (row.link_role !== "reader" && row.link_role !== "editor")) {
              throw new Error(`unexpected share link row ${JSON.stringify(row)}`)
            }
            shareLinks.push({ id: row.id as ShareLinkId, resourceId: row.access_resource_id as ResourceId, role: row.link_role })
          }
        }
        // the walk ends at a root unless the data is cyclic
        if (lastParent !== null) throw new Error(`the ancestors of ${resourceId} do not end at a root within ${MAX_DEPTH} levels`)
        return { workspaceId, path, principals: users, shareLinks }
      }),
      Effect.orDie
    )
  }

  const accessesOf = (pairs: ReadonlyArray<{ readonly resourceId: ResourceId; readonly userId: UserId }>) =>
    sql`WITH ${asked(JSON.stringify(pairs.map((p) => [p.resourceId, p.userId])))}
        SELECT x.id, x.resource_id, x.user_id, x.role FROM asked a
        JOIN resource_accesses x ON x.resource_id = a.resource_id AND x.user_id = a.user_id`.pipe(Effect.flatMap(decodeAccesses))

  /**
   * `JOIN resources <alias> ON <on>` as one index lookup per row before it,
   * whatever the planner estimates (`columns`: those of `alias` read after
   * it). SQLite always joins so. PostgreSQL may turn a join around, and it
   * prices a recursive walk at ten steps of ten times its seeds: for a user
   * with a thousand accesses it hashed the whole `resources` table at every
   * step of the walk up (9 × 103k rows, spilling to disk, where the walk
   * reads 5k) as soon as the table's ids were no longer stored in their
   * order (which rows updated elsewhere, e.g. by `may_have_accesses`'s
   * trigger, leave behind). A lateral subquery it cannot flatten
   * (`OFFSET 0`) leaves it only the lookup.
   */
  const lookup = (alias: string, columns: string, on: string): Fragment =>
    sql.literal(sql.onDialectOrElse({
      pg: () => `CROSS JOIN LATERAL (SELECT ${columns} FROM resources ${alias} WHERE ${on} OFFSET 0) ${alias}`,
      orElse: () => `JOIN resources ${alias} ON ${on}`
    }))

  const reachable = (
    userId: UserId,
    roles: ReadonlyArray<string>,
    workspaceId: WorkspaceId | null,
    after: ResourceId | null,
    limit: number
  ) => {
    const inWorkspace = (column: string) => workspaceId === null ? sql`` : sql`AND ${sql.literal(column)} = ${workspaceId}`
    const linkRoles = roles.filter((r) => r === "reader" || r === "editor")
    const seeds: Array<Fragment> = [
      sql`SELECT r.id, r.parent_id, r.revoked_at FROM resource_accesses x ${lookup("r", "r.id, r.parent_id, r.revoked_at, r.workspace_id", "r.id = x.resource_id")}
          WHERE x.user_id = ${userId} AND ${sql.in("x.role", roles)} ${inWorkspace("r.workspace_id")}`
    ]
    if (roles.includes("administrator")) {
      seeds.push(sql`SELECT r.id, r.parent_id, r.revoked_at FROM member m JOIN resources r ON r.workspace_id = m.workspace_id AND r.parent_id IS NULL
                     WHERE m.role = 'admin'`)
    }
    if (linkRoles.length > 0) {
      seeds.push(sql`SELECT r.id, r.parent_id, r.revoked_at FROM member m JOIN resources r ON r.workspace_id = m.workspace_id
                     WHERE r.link_reach = 'workspace' AND ${sql.in("r.link_role", linkRoles)}`)
    }
    // Named on PostgreSQL (a text per action, with or without a workspace and a page start: at most 20):
    // a plan made for this user's own counts prices the walks above at ten steps of ten times a thousand
    // seeds, past the JIT threshold (30 ms of compilation a page); the generic plan PostgreSQL keeps after five
    // runs is priced for any user, far below it, and its lookups are those above.
    return sql`${sql.literal(preparedAs("reachable"))} WITH RECURSIVE
        member (workspace_id, role) AS (
          SELECT m.workspace_id, m.role FROM workspace_members m WHERE m.user_id = ${userId} ${inWorkspace("m.workspace_id")}
        ),
        seed (id, parent_id, revoked_at) AS (${sql.join(" UNION ", false)(seeds)}),
        up (seed, id, parent_id, revoked_at, depth) AS (
          SELECT id, id, parent_id, revoked_at, 0 FROM seed
          UNION ALL
          SELECT u.seed, r.id, r.parent_id, r.revoked_at, u.depth + 1 FROM up u ${lookup("r", "r.id, r.parent_id, r.revoked_at", "r.id = u.parent_id")}
          WHERE u.depth < ${MAX_DEPTH}
        ),
        live_seed (id) AS (
          SELECT seed FROM up GROUP BY seed HAVING MAX(CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END) = 0
        ),
        reach (id) AS (
          SELECT id FROM live_seed
          UNION
          SELECT r.id FROM reach ${lookup("r", "r.id", "r.parent_id = reach.id AND r.revoked_at IS NULL")}
        )
      SELECT ${sql.literal(RESOURCE_COLUMNS)} FROM reach ${lookup("r", RESOURCE_COLUMNS, "r.id = reach.id")}
      WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = ${userId} AND u.status = 'active')
        ${after === null ? sql`` : sql`AND r.id > ${after}`}
      ORDER BY r.id
      LIMIT ${limit}`.pipe(Effect.flatMap(decodeResources))
  }

  return AccessQueries.of({
    principals: (resourceId, after, limit) => principals(resourceId, after, limit),
    accessesOf: (pairs) =>
      Effect.forEach(chunksOf(pairs, PAIRS_CHUNK), accessesOf).pipe(Effect.map((chunks) => chunks.flat()), Effect.orDie),
    reachable: (userId, roles, workspaceId, after, limit) => Effect.orDie(reachable(userId, roles, workspaceId, after, limit))
  })
}))
