/**
 * The data the check benchmarks run on, written by set-based SQL into an empty, migrated store (seconds, not
 * minutes; no use case, no event). Both stores get exactly the same rows:
 *
 * - `users` active users, each with a personal workspace (they are its admin) holding one chain of 9 resources
 *   (they own its root; its fifth node is shared with the workspace as editor);
 * - one team workspace per 25 users, each holding a chain of 32 resources: its first user is the team's admin
 *   and owns the root, the 24 others are members with a direct `reader` access on the root; in every 50th team
 *   the 16th node is revoked.
 *
 * At 10k users: 10.4k workspaces, 102.8k resources, 20k accesses. Only reads follow; nothing here is a rule
 * a writer would have kept, so the data is for measuring, never for the contract.
 */
import { SqlClient } from "@effect/sql"
import type { ResourceId, UserId } from "@tessera/domain"
import { RECOMPUTE_HOPS } from "@tessera/store-sql"
import { Effect } from "effect"

export const TEAM_SIZE = 25
export const TEAM_DEPTH = 32
export const PERSONAL_DEPTH = 9
/** Every `REVOKED_EVERY`-th team has its node at depth `REVOKED_DEPTH` revoked. */
export const REVOKED_EVERY = 50
export const REVOKED_DEPTH = 16

const pad = (n: number, width: number) => String(n).padStart(width, "0")

export const userId = (i: number) => `usr_${pad(i, 32)}` as UserId
/** The node at `depth` (1 = the root) of team `t`'s chain. */
export const teamResource = (t: number, depth: number) => `res_f${pad(depth, 2)}${pad(t, 29)}` as ResourceId
export const personalResource = (i: number, depth: number) => `res_0${pad(depth, 2)}${pad(i, 29)}` as ResourceId
/** The team user `i` (from 1) belongs to; the first `teams` users are the teams' admins. */
export const teamOf = (i: number, teams: number) => ((i - 1) % teams) + 1

const T = "'2026-01-01T00:00:00.000Z'"
const RES = "id, workspace_id, kind, title, parent_id, position, link_reach, link_role, created_by, created_at, updated_at, revoked_at"

const statements = (users: number, pad: (expr: string, width: number) => string) => {
  const teams = users / TEAM_SIZE
  const usr = (i: string) => `'usr_' || ${pad(i, 32)}`
  const personal = (i: string) => `'ws_0' || ${pad(i, 31)}`
  const team = (t: string) => `'ws_f' || ${pad(t, 31)}`
  const teamRes = (k: string, t: string) => `'res_f' || ${pad(k, 2)} || ${pad(t, 29)}`
  const personalRes = (k: string, i: string) => `'res_0' || ${pad(k, 2)} || ${pad(i, 29)}`
  return [
    "CREATE TABLE bench_n (i INTEGER PRIMARY KEY)",
    `INSERT INTO bench_n (i) WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${users}) SELECT i FROM s`,
    `INSERT INTO users (id, handle, role, status, sign_pub, kex_pub, created_at, revoked_at)
     SELECT ${usr("i")}, 'chk-' || i, 'member', 'active', NULL, NULL, ${T}, NULL FROM bench_n`,
    `INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
     SELECT ${personal("i")}, 'personal', '', '', '[]', 1, ${usr("i")}, ${T}, ${T} FROM bench_n`,
    `INSERT INTO workspace_members (workspace_id, user_id, role) SELECT ${personal("i")}, ${usr("i")}, 'admin' FROM bench_n`,
    `INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
     SELECT ${team("i")}, 'team', '', '', '[]', 0, NULL, ${T}, ${T} FROM bench_n WHERE i <= ${teams}`,
    `INSERT INTO workspace_members (workspace_id, user_id, role)
     SELECT ${team(`((i - 1) % ${teams}) + 1`)}, ${usr("i")}, CASE WHEN i <= ${teams} THEN 'admin' ELSE 'member' END FROM bench_n`,
    // one level per statement, so that every parent exists when its children are written
    ...Array.from({ length: PERSONAL_DEPTH }, (_, d) => {
      const k = d + 1
      return `INSERT INTO resources (${RES})
        SELECT ${personalRes(String(k), "i")}, ${personal("i")}, 'document', 'p${k}', ${k === 1 ? "NULL" : personalRes(String(k - 1), "i")}, 0,
               ${k === 5 ? "'workspace', 'editor'" : "'restricted', 'reader'"}, ${usr("i")}, ${T}, ${T}, NULL FROM bench_n`
    }),
    ...Array.from({ length: TEAM_DEPTH }, (_, d) => {
      const k = d + 1
      return `INSERT INTO resources (${RES})
        SELECT ${teamRes(String(k), "i")}, ${team("i")}, 'document', 't${k}', ${k === 1 ? "NULL" : teamRes(String(k - 1), "i")}, 0,
               'restricted', 'reader', ${usr("i")}, ${T}, ${T},
               ${k === REVOKED_DEPTH ? `CASE WHEN i % ${REVOKED_EVERY} = 0 THEN ${T} ELSE NULL END` : "NULL"}
        FROM bench_n WHERE i <= ${teams}`
    }),
    `INSERT INTO resource_accesses (id, resource_id, user_id, role) SELECT 'acc_0' || ${pad("i", 31)}, ${personalRes("1", "i")}, ${usr("i")}, 'owner' FROM bench_n`,
    `INSERT INTO resource_accesses (id, resource_id, user_id, role)
     SELECT 'acc_f' || ${pad("i", 31)}, ${teamRes("1", "i")}, ${usr("i")}, 'owner' FROM bench_n WHERE i <= ${teams}`,
    `INSERT INTO resource_accesses (id, resource_id, user_id, role)
     SELECT 'acc_e' || ${pad("i", 31)}, ${teamRes("1", `((i - 1) % ${teams}) + 1`)}, ${usr("i")}, 'reader' FROM bench_n WHERE i > ${teams}`,
    "DROP TABLE bench_n"
  ]
}

/** Fills the store in context with `users` users (a multiple of 25); returns how many resources it wrote. */
export const fillCheckData = (users: number) =>
  Effect.gen(function*() {
    if (!Number.isInteger(users) || users <= 0 || users % TEAM_SIZE !== 0) return yield* Effect.dieMessage(`${users} users: not a multiple of ${TEAM_SIZE}`)
    const sql = yield* SqlClient.SqlClient
    const padSql = sql.onDialectOrElse({
      pg: () => (expr: string, width: number) => `lpad((${expr})::text, ${width}, '0')`,
      orElse: () => (expr: string, width: number) => `printf('%0${width}d', ${expr})`
    })
    for (const statement of statements(users, padSql)) yield* sql.unsafe(statement)
    // the check's hops, as the store's own writes keep them (written by hand here, the rows have none)
    yield* sql.unsafe(RECOMPUTE_HOPS)
    // Planner statistics, as a store in use has them (autovacuum on PostgreSQL).
    yield* sql.unsafe(sql.onDialectOrElse({ pg: () => "VACUUM ANALYZE", orElse: () => "ANALYZE" }))
    return users * PERSONAL_DEPTH + (users / TEAM_SIZE) * TEAM_DEPTH
  }).pipe(Effect.orDie)
