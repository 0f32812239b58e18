/**
 * SQL implementation of the resources port, shared by both dialects.
 *
 * Representation: parent pointers with an integer sibling `position`. A move
 * rewrites one row and shifts its old and new siblings, whatever the size of
 * the subtree; every ancestor walk (the permission check, a move's
 * classification) is one `WITH RECURSIVE` query over the parent index.
 * Materialized paths or a closure table would make the check a single
 * indexed lookup but a move O(subtree) (O(subtree × depth) for closure rows).
 * Measured with `pnpm bench` (2 CPUs, p50; the check is the `check` use
 * case on 102.8k resources, `bench/results/latest.md`):
 *
 * | store      | check depth 1 / 8 / 32    | move a root with 1k / 10k descendants |
 * |------------|---------------------------|---------------------------------------|
 * | SQLite     | 0.033 / 0.033 / 0.042 ms  | 2.14 / 1.60 ms                        |
 * | PostgreSQL | 0.46 / 0.50 / 0.43 ms     | 13.8 / 13.9 ms                        |
 *
 * Moves stay flat at 10k nodes; that trade is why parent pointers were
 * chosen. On top of them each node keeps a hop (`hop_id`, migration 0009,
 * "Hops" below): the check steps over the ancestors that cannot change a
 * role, so its cost follows the nodes that can, not the depth. Only the
 * first move of a node that had been plain rewrites the hops under it
 * (the nodes reached through plain ones), once. Every role walk, one check
 * or a batch, is the one statement `checkFacts` builds: a batch goes as a
 * JSON parameter, a few hundred checks per statement.
 */
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import {
  Access,
  type AncestorFacts,
  type CheckFacts,
  Resource,
  ResourceStore,
  type ResourceId,
  type RoleFactsRequest,
  type WorkspaceId
} from "@tessera/domain"
import { Effect, Layer, Option, Schema, type Types } from "effect"
import { DirectStatements, hotStatement } from "./pool.js"
import { DbInt, lockRow, transactional } from "./rows.js"

/**
 * A guard against corrupt (cyclic) data, far beyond any real tree: a walk
 * that reaches it without finding a root is a defect, never a silently
 * shortened path.
 */
export const MAX_DEPTH = 10_000

/**
 * `WITH RECURSIVE subtree (id)`: `rootId` and everything below it, walked
 * down the parent index in one query (bounded by `MAX_DEPTH` against
 * corrupt, cyclic data). Statements that act on a subtree start with it.
 */
export const subtree = (sql: SqlClient.SqlClient, rootId: string) =>
  sql`WITH RECURSIVE subtree (id, depth) AS (
        SELECT id, 0 FROM resources WHERE id = ${rootId}
        UNION ALL
        SELECT r.id, s.depth + 1 FROM resources r JOIN subtree s ON r.parent_id = s.id WHERE s.depth < ${MAX_DEPTH}
      )`

/**
 * Hops (migration 0009; docs/performance.md, "Hops"). A node is plain when
 * nothing on it can change anyone's role — not a root, not revoked, not
 * shared with the workspace, without `may_have_accesses` — and it is no
 * waypoint (set when it first moves). `hop_id` names a strict ancestor such
 * that every node strictly between the two is plain (NULL: the parent), and
 * the check's walk steps from node to hop. The writes keep one local rule,
 * which implies that one from the roots down and which the doctor proves
 * (`hop_skips_a_node`): a node's hop is NULL, its parent, or — when the
 * parent is plain — the parent's own next step (`COALESCE(hop_id,
 * parent_id)`). A write that makes a node not plain rewrites the hops that
 * skipped it (`rehopBelow`); one that makes a node plain leaves every hop
 * valid. All of them run under the workspace's lock (PostgreSQL), so no
 * creation or move reads a hop another transaction is rewriting.
 */
export const notPlain = (alias: string) =>
  `(${alias}.parent_id IS NULL OR ${alias}.revoked_at IS NOT NULL OR ${alias}.may_have_accesses OR ${alias}.link_reach = 'workspace' OR ${alias}.waypoint)`

/** The hop of a new child of `p` (a `resources` row aliased `p`): `p` itself unless it is plain, then `p`'s own next step. */
const hopUnder = (alias: string) => `CASE WHEN ${notPlain(alias)} THEN ${alias}.id ELSE COALESCE(${alias}.hop_id, ${alias}.parent_id) END`

/**
 * Every node's hop computed again from the roots down (the canonical hops:
 * the nearest ancestor that is not plain), as migration 0009 fills them: the
 * repair docs/doctor.md gives for `hop_skips_a_node`, and what a bulk load
 * that writes `resources` by hand runs after it. The same text on both
 * stores.
 */
export const RECOMPUTE_HOPS = `WITH RECURSIVE h (id, hop, next) AS (
  SELECT id, CAST(NULL AS TEXT), id FROM resources WHERE parent_id IS NULL
  UNION ALL
  SELECT r.id, h.next, CASE WHEN ${notPlain("r")} THEN r.id ELSE h.next END
  FROM resources r JOIN h ON r.parent_id = h.id
)
UPDATE resources SET hop_id = h.hop FROM h
WHERE resources.id = h.id AND ((resources.hop_id IS NULL) <> (h.hop IS NULL) OR resources.hop_id <> h.hop)`

const requireRoot = <R extends { readonly parent_id: unknown }>(rows: ReadonlyArray<R>, id: string) =>
  rows.length > 0 && rows[rows.length - 1]!.parent_id !== null
    ? Effect.die(new Error(`the ancestors of ${id} do not end at a root within ${MAX_DEPTH} levels`))
    : Effect.succeed(rows)

const COLUMNS = "id, workspace_id, kind, title, parent_id, link_reach, link_role, created_by, created_at, updated_at, revoked_at"
const decodeResources = Schema.decodeUnknown(Schema.Array(Resource))
const decodeSiblings = Schema.decodeUnknown(Schema.Array(Schema.Struct({ ...Resource.fields, position: DbInt })))
const decodeAccesses = Schema.decodeUnknown(Schema.Array(Access))
const REACH: ReadonlySet<unknown> = new Set(["restricted", "workspace"])
const LINK_ROLE: ReadonlySet<unknown> = new Set(["reader", "editor"])
const ROLE: ReadonlySet<unknown> = new Set([null, "reader", "commenter", "editor", "administrator", "owner"])
const WORKSPACE_ROLE: ReadonlySet<unknown> = new Set([null, "admin", "member"])
const STATUS: ReadonlySet<unknown> = new Set([null, "active", "revoked"])
const isTextOrNull = (u: unknown): u is string | null => u === null || typeof u === "string"

/** One row of the check's walk, as `checkFacts` (in the layer below) selects it. */
interface FactRow {
  readonly k: number
  readonly id: string | null
  readonly parent_id: string | null
  readonly revoked_at: string | null
  readonly link_reach: AncestorFacts["linkReach"] | null
  readonly link_role: AncestorFacts["linkRole"] | null
  readonly direct_role: AncestorFacts["directRole"]
  readonly workspace_role: CheckFacts["workspaceRole"]
  readonly user_status: "active" | "revoked" | null
}

/**
 * Reads a row of the check's walk by hand. Its shape is our own statement's
 * over columns the schema constrains (CHECK lists), so a Schema decoder
 * would only re-prove it, at more than the statement's own cost for a deep
 * path or a batch (`pnpm bench`); a row that is not that shape is still a
 * defect, never a guess.
 */
const factRow = (row: Record<string, unknown>): FactRow => {
  const missing = row["id"] === null
  if (
    typeof row["k"] !== "number" || !isTextOrNull(row["id"]) || !isTextOrNull(row["parent_id"]) || !isTextOrNull(row["revoked_at"]) ||
    !(missing ? row["link_reach"] === null : REACH.has(row["link_reach"])) || !(missing ? row["link_role"] === null : LINK_ROLE.has(row["link_role"])) ||
    !ROLE.has(row["direct_role"]) || !WORKSPACE_ROLE.has(row["workspace_role"]) || !STATUS.has(row["user_status"])
  ) {
    throw new Error(`unexpected row in a role walk: ${JSON.stringify(row)}`)
  }
  return row as unknown as FactRow
}

/**
 * Checks per `roleFactsBatch` statement. The pairs travel as one JSON text
 * parameter (never a list of bound parameters), and the rows come back as one
 * per node on each path: a few hundred checks keep both small while a batch of
 * `MAX_CHECKS` (1000) is still four statements.
 */
export const CHECK_CHUNK = 250

const chunksOf = <A>(items: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size))

/**
 * Starts a statement the store may prepare once per connection and reuse
 * (PostgreSQL: a named statement, parsed and planned once; SQLite's client
 * already caches every statement it prepares). Only for hot statements whose
 * text takes a few forms at most (each form is named apart, and a
 * connection names at most 64 texts): never one built from a list of values.
 */
export const preparedAs = (name: string) => `/* tessera:prepare ${name} */`
const PositionRow = Schema.Struct({ position: DbInt })
const decodePlaces = Schema.decodeUnknown(Schema.Array(Schema.Struct({ workspace_id: Schema.String, parent_id: Schema.NullOr(Schema.String), position: DbInt })))
const decodeOwnedRoots = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Schema.String, sole: DbInt })))

/**
 * The check's walk (`roleFacts`, `roleFactsBatch`, and `HotReads`), as four
 * texts compiled once: every node of each path or only those that can
 * change a role, for one pair (parameters: resource, user, depth bound) or
 * many (the pairs' JSON, the depth bound). Read their rows with `factsOf`.
 */
export const checkTextsOf = (sql: SqlClient.SqlClient) => {
  /**
   * The pairs as rows `asked (k, resource_id, user_id)`, `k` their index from
   * 0: one pair as two parameters, several as one JSON parameter. One pair is
   * the common case, and PostgreSQL estimates a JSON array at 100 elements:
   * on a small table that estimate made it hash the whole `resources` table
   * for a single check (15–25 ms instead of 0.2), where one row keeps every
   * step an index lookup.
   */
  const askedOne = sql.onDialectOrElse({
    pg: () => sql`asked (k, resource_id, user_id) AS (SELECT 0, CAST(${""} AS TEXT), CAST(${""} AS TEXT))`,
    orElse: () => sql`asked (k, resource_id, user_id) AS (SELECT 0, ${""}, ${""})`
  })
  const asked = (json: string) =>
    sql.onDialectOrElse({
      pg: () =>
        sql`asked (k, resource_id, user_id) AS (
              SELECT (t.k - 1)::int, t.e ->> 0, t.e ->> 1 FROM json_array_elements(${json}::json) WITH ORDINALITY AS t (e, k)
            )`,
      orElse: () =>
        sql`asked (k, resource_id, user_id) AS (
              SELECT j.key, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]') FROM json_each(${json}) AS j
            )`
    })
  /**
   * One statement for a chunk of checks: each pair's path walked up from its
   * resource with the user's direct access on every node, and on the first
   * row (the resource; a null id when it does not exist) their workspace role
   * and status. Ordered by pair, then from the resource up. Each step reads
   * one index (`resources_walk`, migration 0007: every column a step needs)
   * and probes the user's access only on nodes that `may_have_accesses`
   * (set whenever an access is written, never cleared; most nodes of a deep
   * path have none): a quarter off the walk at depth 32 on both stores
   * (docs/performance.md). The access is read inside the walk and the two
   * lookups made on the first row only, so PostgreSQL's estimate stays that
   * of a walk (far below its JIT threshold, whose compilation would cost more
   * than the query).
   *
   * `whole`: every node of each path; otherwise only the nodes that can
   * change a user's role — the resource, the root (which shows the walk
   * ended), and nodes revoked, shared with the workspace or directly
   * granted. The rest grant nothing, and a deep check need not carry them:
   * nor visit them, so that walk steps from each node to its hop (`hop_id`,
   * "Hops" below), over the plain nodes above it.
   */
  const directRole = (asker: "a" | "p") =>
    sql.literal(`CASE WHEN r.may_have_accesses THEN (SELECT x.role FROM resource_accesses x WHERE x.resource_id = r.id AND x.user_id = ${asker}.user_id) END`)
  /**
   * SQLite plans without statistics (nothing runs ANALYZE in service), and
   * then prefers the primary key's index, which holds only the id, to
   * `resources_walk`: the walk names its index there.
   */
  const walkIndex = sql.literal(sql.onDialectOrElse({ sqlite: () => "INDEXED BY resources_walk", orElse: () => "" }))
  /**
   * PostgreSQL's `resources_walk` orders ids bytewise (`COLLATE "C"`), so
   * that a step's descent never calls the database's collation; the walk
   * compares in that collation to use it. Equality is bytewise in every
   * deterministic collation, so the answer is the same.
   */
  const walkKey = sql.literal(sql.onDialectOrElse({ pg: () => `COLLATE "C"`, orElse: () => "" }))
  const checkStatement = (whole: boolean, one: boolean) => {
    // every node steps to its parent; otherwise each steps over the plain nodes above it (`hop_id`, "Hops" above)
    // (a root's hop, which only a hand edit can set, is never followed: the walk ends there)
    const next = sql.literal(whole ? "r.parent_id" : "CASE WHEN r.parent_id IS NULL THEN NULL ELSE COALESCE(r.hop_id, r.parent_id) END")
    return sql`${sql.literal(preparedAs(whole ? "role_facts" : "check_facts"))} WITH RECURSIVE ${one ? askedOne : asked("")},
        path (k, user_id, id, parent_id, next_id, revoked_at, link_reach, link_role, direct_role, workspace_role, user_status, depth) AS (
          SELECT a.k, a.user_id, r.id, r.parent_id, ${next}, r.revoked_at, r.link_reach, r.link_role, ${directRole("a")},
                 (SELECT m.role FROM workspace_members m WHERE m.workspace_id = r.workspace_id AND m.user_id = a.user_id),
                 (SELECT u.status FROM users u WHERE u.id = a.user_id), 0
          FROM asked a
          LEFT JOIN resources r ${walkIndex} ON r.id = a.resource_id ${walkKey}
          UNION ALL
          SELECT p.k, p.user_id, r.id, r.parent_id, ${next}, r.revoked_at, r.link_reach, r.link_role, ${directRole("p")}, CAST(NULL AS TEXT), CAST(NULL AS TEXT), p.depth + 1
          FROM path p
          JOIN resources r ${walkIndex} ON r.id = p.next_id ${walkKey}
          WHERE p.depth < ${MAX_DEPTH}
        )
        SELECT k, id, parent_id, revoked_at, link_reach, link_role, direct_role, workspace_role, user_status FROM path
        ${whole ? sql`` : sql`WHERE depth = 0 OR parent_id IS NULL OR revoked_at IS NOT NULL OR direct_role IS NOT NULL OR link_reach = 'workspace'`}
        ORDER BY k, depth`.compile()[0]
  }
  /**
   * The two texts, compiled once: only the pairs' JSON varies from call to
   * call. The depth bound stays a parameter: as a literal it raises
   * PostgreSQL's estimate of the walk past the JIT threshold, and every
   * check would compile it (milliseconds, `pnpm bench`).
   */
  return {
    whole: { one: checkStatement(true, true), many: checkStatement(true, false) },
    chunk: { one: checkStatement(false, true), many: checkStatement(false, false) }
  }
}

/** The text and parameters of the check's walk for `requests` (at most `CHECK_CHUNK`). */
export const checkCall = (
  texts: ReturnType<typeof checkTextsOf>,
  requests: ReadonlyArray<RoleFactsRequest>,
  whole: boolean
): readonly [string, ReadonlyArray<unknown>] => [
  texts[whole ? "whole" : "chunk"][requests.length === 1 ? "one" : "many"],
  requests.length === 1
    ? [requests[0]!.resourceId, requests[0]!.userId, MAX_DEPTH]
    : [JSON.stringify(requests.map((r) => [r.resourceId, r.userId])), MAX_DEPTH]
]

/**
 * The facts of each pair from the rows of a `checkTextsOf` statement (ordered
 * by pair, then from the resource up). Throws when a path does not end at a
 * root within the depth bound.
 */
export const factsOf = (requests: ReadonlyArray<RoleFactsRequest>, rows: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<CheckFacts> => {
  const facts = requests.map((): Types.Mutable<CheckFacts> & { path: Array<AncestorFacts> } => ({ path: [], workspaceRole: null, userActive: false }))
  const lastParent: Array<string | null> = requests.map(() => null)
  for (const raw of rows) {
    const row = factRow(raw)
    const at = facts[row.k]!
    if (at.path.length === 0) {
      at.workspaceRole = row.workspace_role
      at.userActive = row.user_status === "active"
    }
    if (row.id === null || row.link_reach === null || row.link_role === null) continue
    at.path.push({ id: row.id as ResourceId, revoked: row.revoked_at !== null, linkReach: row.link_reach, linkRole: row.link_role, directRole: row.direct_role })
    lastParent[row.k] = row.parent_id
  }
  // the root is always selected, and last: a path whose last row has a parent never reached one
  const broken = lastParent.findIndex((parent) => parent !== null)
  if (broken !== -1) throw new Error(`the ancestors of ${requests[broken]!.resourceId} do not end at a root within ${MAX_DEPTH} levels`)
  return facts as ReadonlyArray<CheckFacts>
}

export const ResourceStoreLive = Layer.effect(ResourceStore, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const cols = sql.literal(COLUMNS)
  const select = (where: Fragment, order = sql`position, id`) =>
    sql`SELECT ${cols} FROM resources WHERE ${where} ORDER BY ${order}`.pipe(Effect.flatMap(decodeResources), Effect.orDie)
  const siblingsOf = (workspaceId: string, parentId: string | null) =>
    parentId === null ? sql`parent_id IS NULL AND workspace_id = ${workspaceId}` : sql`parent_id = ${parentId}`
  const positionOf = (id: string) =>
    sql`SELECT position FROM resources WHERE id = ${id}`.pipe(
      Effect.flatMap((rows) => Schema.decodeUnknown(PositionRow)(rows[0])),
      Effect.map((row) => row.position)
    )
  const nextPosition = (workspaceId: string, parentId: string | null, except: string) =>
    sql`SELECT COALESCE(MAX(position) + 1, 0) AS position FROM resources
        WHERE ${siblingsOf(workspaceId, parentId)} AND id <> ${except}`.pipe(
      Effect.flatMap((rows) => Schema.decodeUnknown(PositionRow)(rows[0])),
      Effect.map((row) => row.position)
    )
  const path = (id: string) =>
    sql`WITH RECURSIVE path (id, parent_id, depth) AS (
          SELECT id, parent_id, 0 FROM resources WHERE id = ${id}
          UNION ALL
          SELECT r.id, r.parent_id, p.depth + 1 FROM resources r JOIN path p ON r.id = p.parent_id WHERE p.depth < ${MAX_DEPTH}
        )
        SELECT id, parent_id FROM path ORDER BY depth`.pipe(
      Effect.flatMap((rows) => requireRoot(rows as ReadonlyArray<{ id: ResourceId; parent_id: unknown }>, id)),
      Effect.map((rows) => rows.map((r) => r.id))
    )

  /** Whether `id` is not plain now ("Hops"): false for a missing node. */
  const notPlainNow = (id: string) =>
    sql<{ n: unknown }>`SELECT 1 AS n FROM resources r WHERE r.id = ${id} AND ${sql.literal(notPlain("r"))}`.pipe(Effect.map((rows) => rows.length > 0))
  /**
   * `id` has just stopped being plain: the hops below it that skipped it now
   * stop at it. Those are the hops of the nodes reached from it down through
   * plain nodes (and of the first node that is not plain on each branch);
   * each is set to `id`, which keeps the local rule for every one of them.
   */
  const rehopBelow = (id: string) =>
    sql`WITH RECURSIVE region (id, open, depth) AS (
          SELECT c.id, CASE WHEN ${sql.literal(notPlain("c"))} THEN 0 ELSE 1 END, 1 FROM resources c WHERE c.parent_id = ${id}
          UNION ALL
          SELECT c.id, CASE WHEN ${sql.literal(notPlain("c"))} THEN 0 ELSE 1 END, g.depth + 1
          FROM resources c JOIN region g ON c.parent_id = g.id WHERE g.open = 1 AND g.depth < ${MAX_DEPTH}
        )
        UPDATE resources SET hop_id = ${id} WHERE id IN (SELECT id FROM region) AND (hop_id IS NULL OR hop_id <> ${id})`
  /** Sets `id`'s own hop under its parent (none for a root). */
  const hopHere = (id: string) =>
    sql`UPDATE resources SET hop_id = (SELECT ${sql.literal(hopUnder("p"))} FROM resources p WHERE p.id = resources.parent_id) WHERE id = ${id}`

  const checkTexts = checkTextsOf(sql)
  const run = hotStatement(sql, yield* Effect.serviceOption(DirectStatements))
  const checkFacts = (requests: ReadonlyArray<RoleFactsRequest>, whole: boolean) =>
    run(...checkCall(checkTexts, requests, whole)).pipe(
      Effect.flatMap((rows) => Effect.try(() => factsOf(requests, rows)))
    )

  return ResourceStore.of(transactional({
    insert: (resource) =>
      Effect.gen(function*() {
        const position = yield* nextPosition(resource.workspace_id, resource.parent_id, resource.id)
        yield* sql`INSERT INTO resources ${sql.insert({ ...Schema.encodeSync(Resource)(resource), position })}`
        if (resource.parent_id !== null) yield* hopHere(resource.id)
      }).pipe(Effect.orDie),
    findById: (id) => Effect.map(select(sql`id = ${id}`), (rows) => Option.fromNullable(rows[0])),
    children: (workspaceId, parentId) => select(siblingsOf(workspaceId, parentId)),
    childrenPage: (workspaceId, parentId, after, limit) => {
      const anchorHere = after === null
        ? sql``
        : sql`SELECT a.position FROM resources a WHERE a.id = ${after[1]} AND ${
          parentId === null ? sql`a.parent_id IS NULL AND a.workspace_id = ${workspaceId}` : sql`a.parent_id = ${parentId}`
        }`
      // after the anchor's current place while it is still a sibling; from its old place once it has left
      const afterAnchor = after === null ? sql`1 = 1` : sql`(
          (EXISTS (${anchorHere}) AND (position > (${anchorHere}) OR (position = (${anchorHere}) AND id > ${after[1]})))
          OR (NOT EXISTS (${anchorHere}) AND position >= ${after[0]}))`
      return sql`SELECT ${cols}, position FROM resources
          WHERE ${siblingsOf(workspaceId, parentId)} AND revoked_at IS NULL AND ${afterAnchor}
          ORDER BY position, id LIMIT ${limit}`.pipe(
        Effect.flatMap(decodeSiblings),
        Effect.map((rows) => rows.map(({ position, ...resource }) => ({ resource: new Resource(resource, true), position }))),
        Effect.orDie
      )
    },
    listWorkspace: (workspaceId: WorkspaceId) => select(sql`workspace_id = ${workspaceId}`, sql`parent_id, position, id`),
    pathToRoot: (id) => Effect.orDie(path(id)),
    roleFacts: (id, userId) =>
      checkFacts([{ resourceId: id, userId }], true).pipe(
        Effect.map(([facts]) => ({ path: facts!.path, workspaceRole: facts!.workspaceRole })),
        Effect.orDie
      ),
    roleFactsBatch: (requests) =>
      requests.length > 0 && requests.length <= CHECK_CHUNK
        ? Effect.orDie(checkFacts(requests, false))
        : Effect.forEach(chunksOf(requests, CHECK_CHUNK), (chunk) => checkFacts(chunk, false)).pipe(
          Effect.map((chunks) => chunks.flat()),
          Effect.orDie
        ),
    lock: (id) => lockRow(sql, "resources", id),
    lockWorkspaceResources: (workspaceId) =>
      sql.onDialectOrElse({
        pg: () => sql`SELECT COUNT(*) AS n FROM (SELECT id FROM resources WHERE workspace_id = ${workspaceId} FOR UPDATE) AS locked`,
        orElse: () => Effect.succeed([])
      }).pipe(Effect.asVoid, Effect.orDie),
    update: (resource) =>
      Effect.gen(function*() {
        const row = Schema.encodeSync(Resource)(resource)
        const before = yield* notPlainNow(row.id)
        yield* sql`UPDATE resources SET title = ${row.title}, kind = ${row.kind}, link_reach = ${row.link_reach},
                     link_role = ${row.link_role}, updated_at = ${row.updated_at}, revoked_at = ${row.revoked_at}
                   WHERE id = ${row.id}`
        // of what makes a node not plain, this writes only the revocation and the link's reach
        if (!before && (row.revoked_at !== null || row.link_reach === "workspace")) yield* rehopBelow(row.id)
      }).pipe(Effect.orDie),
    move: (id, plan, at) =>
      Effect.gen(function*() {
        // one read for the node's place, and for the usual placement (last child) one write for the new one
        const [node] = yield* sql`SELECT workspace_id, parent_id, position FROM resources WHERE id = ${id}`.pipe(Effect.flatMap(decodePlaces))
        if (node === undefined) return
        // hops that skipped a plain node would skip to its old ancestors: they stop at it now, and it is a waypoint from
        // now on (a reorder among the same siblings changes no ancestor)
        if (plan.newParentId !== node.parent_id && !(yield* notPlainNow(id))) {
          yield* rehopBelow(id)
          yield* sql`UPDATE resources SET waypoint = TRUE WHERE id = ${id}`
        }
        yield* sql`UPDATE resources SET position = position - 1
                   WHERE ${siblingsOf(node.workspace_id, node.parent_id)} AND position > ${node.position}`
        const place = (position: Fragment | number) =>
          sql`UPDATE resources SET parent_id = ${plan.newParentId}, position = ${position}, updated_at = ${at} WHERE id = ${id}`
        if (plan.placement._tag === "last") {
          // nothing sits at or after the end, so no sibling shifts
          yield* place(sql`(SELECT COALESCE(MAX(position) + 1, 0) FROM resources
                            WHERE ${siblingsOf(node.workspace_id, plan.newParentId)} AND id <> ${id})`)
        } else {
          const index = plan.placement._tag === "first" ? 0
            : plan.placement._tag === "before" ? yield* positionOf(plan.placement.id)
            : (yield* positionOf(plan.placement.id)) + 1
          yield* sql`UPDATE resources SET position = position + 1
                     WHERE ${siblingsOf(node.workspace_id, plan.newParentId)} AND position >= ${index} AND id <> ${id}`
          yield* place(index)
        }
        yield* hopHere(id)
      }).pipe(Effect.asVoid, Effect.orDie),
    accesses: (ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : sql`SELECT id, resource_id, user_id, role FROM resource_accesses WHERE ${sql.in("resource_id", ids)} ORDER BY resource_id, user_id`.pipe(
          Effect.flatMap(decodeAccesses),
          Effect.orDie
        ),
    accessesPage: (ids, after, limit) =>
      ids.length === 0
        ? Effect.succeed([])
        : sql`SELECT id, resource_id, user_id, role FROM resource_accesses
              WHERE ${sql.in("resource_id", ids)} AND id > ${after ?? ""} ORDER BY id LIMIT ${limit}`.pipe(
          Effect.flatMap(decodeAccesses),
          Effect.orDie
        ),
    insertAccess: (access) =>
      Effect.gen(function*() {
        // flagged, and the hops that skipped it rewritten, before the access is written: the trigger (migration 0009)
        // then finds the flag set and does nothing
        if (!(yield* notPlainNow(access.resource_id))) {
          yield* sql`UPDATE resources SET may_have_accesses = TRUE WHERE id = ${access.resource_id}`
          yield* rehopBelow(access.resource_id)
        }
        const inserted = yield* sql`INSERT INTO resource_accesses ${sql.insert({ ...access })} ON CONFLICT DO NOTHING RETURNING id`
        return inserted.length > 0
      }).pipe(Effect.orDie),
    findAccess: (id) =>
      sql`SELECT id, resource_id, user_id, role FROM resource_accesses WHERE id = ${id}`.pipe(
        Effect.flatMap(decodeAccesses),
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      ),
    setAccessRole: (id, role) =>
      sql`UPDATE resource_accesses SET role = ${role} WHERE id = ${id} RETURNING id`.pipe(Effect.map((r) => r.length > 0), Effect.orDie),
    deleteAccess: (id) =>
      sql`DELETE FROM resource_accesses WHERE id = ${id} RETURNING id`.pipe(Effect.map((r) => r.length > 0), Effect.orDie),
    deleteAccessesOf: (id) =>
      sql`DELETE FROM resource_accesses WHERE resource_id = ${id} RETURNING id`.pipe(Effect.map((r) => r.length), Effect.orDie),
    deleteWorkspaceResources: (workspaceId) =>
      Effect.gen(function*() {
        const inWorkspace = sql`resource_id IN (SELECT id FROM resources WHERE workspace_id = ${workspaceId})`
        const accesses = yield* sql`DELETE FROM resource_accesses WHERE ${inWorkspace} RETURNING id`
        const links = yield* sql`DELETE FROM share_links WHERE ${inWorkspace} RETURNING id`
        const resources = yield* sql`DELETE FROM resources WHERE workspace_id = ${workspaceId} RETURNING id`
        return { resources: resources.length, accesses: accesses.length, share_links: links.length }
      }).pipe(Effect.orDie),
    revokeSubtree: (rootId, at) =>
      Effect.gen(function*() {
        const rows = yield* sql<{ id: ResourceId }>`${subtree(sql, rootId)}
          UPDATE resources SET revoked_at = ${at}, updated_at = ${at}
          WHERE id IN (SELECT id FROM subtree) AND revoked_at IS NULL RETURNING id`
        // every node of the subtree is revoked, so none is plain: below its root each steps to its parent
        yield* sql`${subtree(sql, rootId)}
          UPDATE resources SET hop_id = NULL WHERE id IN (SELECT id FROM subtree) AND id <> ${rootId} AND hop_id IS NOT NULL`
        return rows.map((r) => r.id)
      }).pipe(Effect.orDie),
    lockOwnedRoots: (userId, exceptWorkspace) =>
      Effect.gen(function*() {
        const owned = sql`FROM resources r JOIN resource_accesses a ON a.resource_id = r.id
          WHERE a.user_id = ${userId} AND a.role = 'owner' AND r.parent_id IS NULL
          ${exceptWorkspace === null ? sql`` : sql`AND r.workspace_id <> ${exceptWorkspace}`}`
        // PostgreSQL locks the rows as the sort hands them over, so in id order
        yield* sql.onDialectOrElse({
          pg: () => sql`SELECT COUNT(*) AS n FROM (SELECT r.id ${owned} ORDER BY r.id FOR UPDATE OF r) AS locked`,
          orElse: () => Effect.succeed([])
        })
        // read after the locks are held, so a concurrent owner change has committed or waits
        const rows = yield* sql`SELECT r.id,
            CASE WHEN EXISTS (SELECT 1 FROM resource_accesses o WHERE o.resource_id = r.id AND o.role = 'owner' AND o.user_id <> ${userId})
              THEN 0 ELSE 1 END AS sole
          ${owned} ORDER BY r.id`.pipe(Effect.flatMap(decodeOwnedRoots))
        return rows.map((r) => ({ id: r.id as ResourceId, sole: r.sole !== 0 }))
      }).pipe(Effect.orDie),
    accessesOfUser: (userId) =>
      sql`SELECT id, resource_id, user_id, role FROM resource_accesses WHERE user_id = ${userId} ORDER BY resource_id`.pipe(
        Effect.flatMap(decodeAccesses),
        Effect.orDie
      ),
    deleteAccessesOfUser: (userId) =>
      sql`DELETE FROM resource_accesses WHERE user_id = ${userId} RETURNING id`.pipe(Effect.map((r) => r.length), Effect.orDie)
  }, ["insert", "lockWorkspaceResources", "update", "move", "insertAccess", "setAccessRole", "deleteAccess", "deleteAccessesOf", "deleteWorkspaceResources", "revokeSubtree", "lockOwnedRoots", "deleteAccessesOfUser"]))
}))
