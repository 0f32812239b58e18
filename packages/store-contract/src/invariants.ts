/**
 * The store's invariants checked by SQL over every table, whatever wrote
 * the rows: no reference to a missing user, a team workspace always has an
 * admin, a personal workspace is exactly its owner as admin, one personal
 * workspace per user, a live root keeps a direct owner, trees stay inside
 * one workspace and free of cycles, a pending invite never names a target
 * (or minter) that is gone, and a share link is never active on a revoked
 * resource. Also a snapshot of every table, to show
 * that a failed use case wrote nothing.
 *
 * The suite never depends on a store's SQL client: the store's own tests
 * supply `StoreSql`, a probe that runs a statement and returns its rows.
 * Every check is one SELECT both dialects accept (booleans are the integers
 * 0 and 1 on both); only listing the tables differs. This module reads and
 * never writes: only the suite's test of these checks (`lifecycle.ts`)
 * breaks rows, through the probe's `unchecked`, to show each check can fail.
 */
import { Clock, Context, Effect } from "effect"

/** Raw SQL on the store under test, supplied by the store's own tests. */
export class StoreSql extends Context.Tag("StoreContract/StoreSql")<StoreSql, {
  readonly dialect: "sqlite" | "pg"
  /** Runs one statement outside any use case and returns its rows. */
  readonly rows: (statement: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>>
  /**
   * Runs statements with the store's reference checks (foreign keys) off —
   * how rows written before a rule, or by hand, look. Only for showing that
   * a check sees them.
   */
  readonly unchecked: (statements: ReadonlyArray<string>) => Effect.Effect<void>
}>() {}

/** One row that breaks one invariant: the rule's name and the row's id (`a/b` for a pair). */
export interface Violation {
  readonly rule: string
  readonly id: string
}

/**
 * An invite that is pending now: stored as pending and not yet past its
 * expiry (an expired invite grants nothing, whatever it names; purge-expired
 * records it later). Times are ISO-8601 UTC text on both stores, which
 * compare as they sort.
 */
const pending = (now: string) => `i.status = 'pending' AND i.expires_at > ${sqlString(now)}`

const notUser = (column: string) => `NOT EXISTS (SELECT 1 FROM users u WHERE u.id = ${column})`

/** Each rule is one SELECT of the `id`s that break it at a given time. */
export const INVARIANTS: ReadonlyArray<{ readonly rule: string; readonly sql: (now: string) => string }> = [
  {
    rule: "member_user_missing",
    sql: () => `SELECT m.workspace_id || '/' || m.user_id AS id FROM workspace_members m WHERE ${notUser("m.user_id")}`
  },
  {
    rule: "workspace_owner_missing",
    sql: () => `SELECT w.id AS id FROM workspaces w WHERE w.owner_user_id IS NOT NULL AND ${notUser("w.owner_user_id")}`
  },
  {
    rule: "access_user_missing",
    sql: () => `SELECT a.id AS id FROM resource_accesses a WHERE ${notUser("a.user_id")}`
  },
  {
    // the check's walk probes accesses only where the flag is set (migration 0007)
    rule: "access_on_unflagged_resource",
    sql: () => `SELECT a.id AS id FROM resource_accesses a JOIN resources r ON r.id = a.resource_id WHERE NOT r.may_have_accesses`
  },
  {
    rule: "api_key_user_missing",
    sql: () => `SELECT k.id AS id FROM api_keys k WHERE ${notUser("k.user_id")}`
  },
  {
    rule: "team_without_admin",
    sql: () => `SELECT w.id AS id FROM workspaces w WHERE w.is_personal = 0
          AND NOT EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.role = 'admin')`
  },
  {
    rule: "team_with_owner",
    sql: () => `SELECT w.id AS id FROM workspaces w WHERE w.is_personal = 0 AND w.owner_user_id IS NOT NULL`
  },
  {
    // exactly one member, and that member is the owner as admin
    rule: "personal_members",
    sql: () => `SELECT w.id AS id FROM workspaces w WHERE w.is_personal = 1 AND (
            w.owner_user_id IS NULL
            OR (SELECT COUNT(*) FROM workspace_members m WHERE m.workspace_id = w.id) <> 1
            OR NOT EXISTS (SELECT 1 FROM workspace_members m
                           WHERE m.workspace_id = w.id AND m.user_id = w.owner_user_id AND m.role = 'admin'))`
  },
  {
    rule: "personal_workspace_count",
    sql: () => `SELECT u.id AS id FROM users u
          WHERE (SELECT COUNT(*) FROM workspaces w WHERE w.is_personal = 1 AND w.owner_user_id = u.id) <> 1`
  },
  {
    rule: "root_without_owner",
    sql: () => `SELECT r.id AS id FROM resources r WHERE r.parent_id IS NULL AND r.revoked_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM resource_accesses a WHERE a.resource_id = r.id AND a.role = 'owner')`
  },
  {
    rule: "parent_missing_or_elsewhere",
    sql: () => `SELECT r.id AS id FROM resources r LEFT JOIN resources p ON p.id = r.parent_id
          WHERE r.parent_id IS NOT NULL AND (p.id IS NULL OR p.workspace_id <> r.workspace_id)`
  },
  {
    // walks up from every node, at most one step per stored resource; coming back to itself is a cycle
    rule: "resource_in_cycle",
    sql: () => `WITH RECURSIVE up (id, at, depth) AS (
            SELECT r.id, r.parent_id, 1 FROM resources r WHERE r.parent_id IS NOT NULL
            UNION ALL
            SELECT up.id, p.parent_id, up.depth + 1 FROM up JOIN resources p ON p.id = up.at
            WHERE p.parent_id IS NOT NULL AND up.at <> up.id AND up.depth <= (SELECT COUNT(*) FROM resources)
          )
          SELECT DISTINCT up.id AS id FROM up WHERE up.at = up.id`
  },
  {
    // the hop rule (store-sql resources.ts, "Hops"): NULL, the parent, or under a plain parent the parent's next step
    rule: "hop_skips_a_node",
    sql: () => `SELECT r.id AS id FROM resources r LEFT JOIN resources p ON p.id = r.parent_id
          WHERE r.hop_id IS NOT NULL AND (r.parent_id IS NULL OR (r.hop_id <> r.parent_id AND (
            p.id IS NULL OR p.parent_id IS NULL OR p.revoked_at IS NOT NULL OR p.may_have_accesses OR p.link_reach = 'workspace' OR p.waypoint
            OR r.hop_id <> COALESCE(p.hop_id, p.parent_id))))`
  },
  {
    rule: "resource_workspace_missing",
    sql: () => `SELECT r.id AS id FROM resources r WHERE NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)`
  },
  {
    rule: "pending_invite_target_missing",
    sql: (now) => `SELECT i.id AS id FROM invites i WHERE ${pending(now)} AND (
            (i.resource_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM resources r WHERE r.id = i.resource_id))
            OR (i.workspace_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = i.workspace_id)))`
  },
  {
    rule: "pending_invite_on_revoked_resource",
    sql: (now) => `SELECT i.id AS id FROM invites i JOIN resources r ON r.id = i.resource_id
          WHERE ${pending(now)} AND r.revoked_at IS NOT NULL`
  },
  {
    rule: "share_link_resource_missing",
    sql: () => `SELECT l.id AS id FROM share_links l WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.id = l.resource_id)`
  },
  {
    rule: "active_share_link_on_revoked_resource",
    sql: () => `SELECT l.id AS id FROM share_links l JOIN resources r ON r.id = l.resource_id
          WHERE l.disabled_at IS NULL AND r.revoked_at IS NOT NULL`
  },
  {
    // nothing that refers to a deleted user may still grant anything
    rule: "pending_invite_minter_missing",
    sql: (now) => `SELECT i.id AS id FROM invites i WHERE ${pending(now)} AND i.created_by IS NOT NULL AND ${notUser("i.created_by")}`
  }
]

/** Every row of the store that breaks an invariant now (by the Effect clock), by rule then id; empty when the store is consistent. */
export const storeInvariants: Effect.Effect<ReadonlyArray<Violation>, never, StoreSql> = Effect.gen(function*() {
  const sql = yield* StoreSql
  const now = new Date(yield* Clock.currentTimeMillis).toISOString()
  const lists = yield* Effect.forEach(INVARIANTS, ({ rule, sql: statement }) =>
    Effect.map(sql.rows(statement(now)), (rows) => rows.map((row) => ({ rule, id: String(row["id"]) })).sort(byId)))
  return lists.flat()
})

const byId = (a: Violation, b: Violation) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** The violations in `after` that were not already in `before`. */
export const newViolations = (before: ReadonlyArray<Violation>, after: ReadonlyArray<Violation>) => {
  const known = new Set(before.map((v) => `${v.rule} ${v.id}`))
  return after.filter((v) => !known.has(`${v.rule} ${v.id}`))
}

const TABLES = {
  sqlite: `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
  pg: `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
} as const

const quoteIdent = (name: string) => `"${name.replace(/"/g, "\"\"")}"`

/** Every row of every table, each table's rows as JSON lines in sorted order. */
export const snapshotTables: Effect.Effect<Record<string, ReadonlyArray<string>>, never, StoreSql> = Effect.gen(
  function*() {
    const sql = yield* StoreSql
    const tables = (yield* sql.rows(TABLES[sql.dialect])).map((row) => String(row["name"]))
    const snapshot: Record<string, ReadonlyArray<string>> = {}
    for (const table of tables) {
      const rows = yield* sql.rows(`SELECT * FROM ${quoteIdent(table)}`)
      snapshot[table] = rows.map((row) => JSON.stringify(row, (_, v) => (typeof v === "bigint" ? v.toString() : v))).sort()
    }
    return snapshot
  }
)

/** What changed between two snapshots, per table: the rows only in `before` and the rows only in `after`. */
export const snapshotDiff = (before: Record<string, ReadonlyArray<string>>, after: Record<string, ReadonlyArray<string>>) => {
  const diff: Record<string, { readonly removed: ReadonlyArray<string>; readonly added: ReadonlyArray<string> }> = {}
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = new Set(before[table] ?? [])
    const is = new Set(after[table] ?? [])
    const removed = [...was].filter((row) => !is.has(row))
    const added = [...is].filter((row) => !was.has(row))
    if (removed.length > 0 || added.length > 0) diff[table] = { removed, added }
  }
  return diff
}

/** A SQL string literal. */
export const sqlString = (value: string | null) => (value === null ? "NULL" : `'${value.replace(/'/g, "''")}'`)
