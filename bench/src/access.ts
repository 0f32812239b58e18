/**
 * Who has access and what a user can reach (docs/access.md), on both stores, each beside one hand-written SQL
 * query that computes the same answer through the same driver (better-sqlite3; node-postgres with a named
 * statement) on the same data:
 *
 * - `reachable`: a page of 1000 of `listReachable(user, read)` over the check's data (`check-data.ts`, 102.8k
 *   resources at 10k users) for a user given 1k more accesses by set-based SQL, spread over other people's
 *   personal chains at every depth (about 5k resources reachable);
 * - `principals`: a page of 1000 of `listPrincipals` on the deepest node (depth 32) of a team's chain whose root
 *   1k more users hold an access on (1k inherited grants, 1,025 principals in all).
 *
 * The comparator answers only what the page shows (ids in order; users, roles and the accesses that decide them),
 * in one recursive statement written for this data; Tessera answers through its use cases (the port's one
 * statement, the rule decided again in the domain, the grants cited). Before anything is timed, every page of
 * each answer is read both ways and must be equal. tinybench, alternated, median of `reps`. Asserts nothing about
 * speed. `--smoke`: a tenth of the data (100 grants each) and a fraction of the time.
 */
import { SqlClient } from "@effect/sql"
import { listPrincipals, listReachable, type ResourceId, SystemActor, type UserId } from "@tessera/domain"
import { migrateUp } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import { freshDatabase } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import Database from "better-sqlite3"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import pg from "pg"
import { race } from "./race.js"
import { fillCheckData, TEAM_DEPTH, TEAM_SIZE, teamResource, userId } from "./check-data.js"

export interface AccessMeasured {
  /** Pages per second. */
  readonly hz: number
  readonly p50: number
  readonly p99: number
}

export interface AccessRow {
  readonly store: string
  readonly workload: string
  /** Rows in the timed page, and in the whole answer. */
  readonly page: number
  readonly total: number
  readonly tessera: AccessMeasured
  readonly comparator: AccessMeasured
  /** Tessera's median time over the comparator's (> 1: Tessera is slower). */
  readonly ratio: number
}

/** The page both sides read. */
const PAGE = 1000

const RANK = (column: string) =>
  `CASE ${column} WHEN 'reader' THEN 1 WHEN 'commenter' THEN 2 WHEN 'editor' THEN 3 WHEN 'administrator' THEN 4 WHEN 'owner' THEN 5 ELSE 0 END`
const ROLES = ["reader", "commenter", "editor", "administrator", "owner"] as const

type Dialect = "sqlite" | "pg"
const padOf = (dialect: Dialect) => (expr: string, width: number) =>
  dialect === "pg" ? `lpad((${expr})::text, ${width}, '0')` : `printf('%0${width}d', ${expr})`

/** The user whose reach is measured: the last one (a member of the last team, with their own personal chain). */
const reacher = (users: number) => userId(users)
/** The node whose principals are listed: the deepest of team 1's chain. */
const panelResource = teamResource(1, TEAM_DEPTH)

/**
 * `grants` accesses for the reacher on other users' personal chains (user `k·stride − 1`, at depth `1 + k mod 9`,
 * reader, commenter or editor), and `grants` accesses on team 1's root for users outside team 1 (reader to
 * administrator): set-based, one statement each.
 */
const grantStatements = (dialect: Dialect, users: number, grants: number) => {
  const pad = padOf(dialect)
  const teams = users / TEAM_SIZE
  const stride = Math.floor(users / grants)
  const series = (n: number) => `WITH RECURSIVE s (k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < ${n})`
  return [
    `INSERT INTO resource_accesses (id, resource_id, user_id, role)
     ${series(grants)}
     SELECT 'acc_a' || ${pad("k", 31)}, 'res_0' || ${pad(`1 + (k % 9)`, 2)} || ${pad(`k * ${stride} - 1`, 29)}, '${reacher(users)}',
            CASE k % 3 WHEN 0 THEN 'reader' WHEN 1 THEN 'commenter' ELSE 'editor' END
     FROM s`,
    `INSERT INTO resource_accesses (id, resource_id, user_id, role)
     ${series(users)}
     SELECT 'acc_b' || ${pad("k", 31)}, '${teamResource(1, 1)}', 'usr_' || ${pad("k", 32)},
            CASE k % 4 WHEN 0 THEN 'reader' WHEN 1 THEN 'commenter' WHEN 2 THEN 'editor' ELSE 'administrator' END
     FROM s WHERE (k - 1) % ${teams} <> 0 ORDER BY k LIMIT ${grants}`
  ]
}

const fillAccessData = (users: number, grants: number) =>
  Effect.gen(function*() {
    yield* fillCheckData(users)
    const sql = yield* SqlClient.SqlClient
    const dialect = sql.onDialectOrElse({ pg: () => "pg" as const, orElse: () => "sqlite" as const })
    for (const statement of grantStatements(dialect, users, grants)) yield* sql.unsafe(statement)
    yield* sql.unsafe(dialect === "pg" ? "VACUUM ANALYZE resource_accesses" : "ANALYZE")
  }).pipe(Effect.orDie)

/**
 * The comparator for `reachable` with action read (every role allows it): the user's accesses, the roots of
 * the workspaces they administer and the nodes shared with a workspace they belong to are the seeds; seeds with
 * a revoked node at or above them are dropped; the walk goes down, never into a revoked node; one page by id.
 */
const reachableSql = (dialect: Dialect) => {
  const [usr, after, limit] = dialect === "pg" ? ["$1", "$2", "$3"] : ["@usr", "@after", "@limit"]
  return `WITH RECURSIVE
      seed (id) AS (
        SELECT resource_id FROM resource_accesses WHERE user_id = ${usr}
        UNION
        SELECT r.id FROM workspace_members m JOIN resources r ON r.workspace_id = m.workspace_id AND r.parent_id IS NULL
        WHERE m.user_id = ${usr} AND m.role = 'admin'
        UNION
        SELECT r.id FROM workspace_members m JOIN resources r ON r.workspace_id = m.workspace_id AND r.link_reach = 'workspace'
        WHERE m.user_id = ${usr}
      ),
      up (seed, id, revoked) AS (
        SELECT s.id, r.parent_id, r.revoked_at IS NOT NULL FROM seed s JOIN resources r ON r.id = s.id
        UNION ALL
        SELECT u.seed, r.parent_id, r.revoked_at IS NOT NULL FROM up u JOIN resources r ON r.id = u.id
      ),
      down (id) AS (
        SELECT seed FROM up GROUP BY seed HAVING ${dialect === "pg" ? "NOT bool_or(revoked)" : "MAX(revoked) = 0"}
        UNION
        SELECT r.id FROM down d JOIN resources r ON r.parent_id = d.id WHERE r.revoked_at IS NULL
      )
    SELECT r.id, r.workspace_id, r.kind, r.title, r.parent_id, r.position, r.link_reach, r.link_role, r.created_by,
           r.created_at, r.updated_at, r.revoked_at
    FROM down d JOIN resources r ON r.id = d.id
    WHERE EXISTS (SELECT 1 FROM users WHERE id = ${usr} AND status = 'active') AND r.id > ${after}
    ORDER BY r.id
    LIMIT ${limit}`
}

/**
 * The comparator for `principals`: the path up; every user's best candidate (accesses on the path, the
 * workspace's admins, its members where the path is shared with it), active users only, nobody under a
 * revoked node; one page by role then user; for each, the accesses on the path that give the role.
 */
const principalsSql = (dialect: Dialect) => {
  const [res, afterRank, afterUser, limit] = dialect === "pg" ? ["$1", "$2", "$3", "$4"] : ["@res", "@rank", "@usr", "@limit"]
  return `WITH RECURSIVE
      path (id, parent_id, workspace_id, revoked_at, link_reach, link_role, depth) AS (
        SELECT id, parent_id, workspace_id, revoked_at, link_reach, link_role, 0 FROM resources WHERE id = ${res}
        UNION ALL
        SELECT r.id, r.parent_id, r.workspace_id, r.revoked_at, r.link_reach, r.link_role, p.depth + 1
        FROM resources r JOIN path p ON r.id = p.parent_id
      ),
      held (id, resource_id, user_id, rank) AS (
        SELECT a.id, a.resource_id, a.user_id, ${RANK("a.role")} FROM path p JOIN resource_accesses a ON a.resource_id = p.id
      ),
      link (rank) AS (
        SELECT MAX(CASE WHEN link_reach = 'workspace' THEN ${RANK("link_role")} ELSE 0 END) FROM path
      ),
      candidate (user_id, rank) AS (
        SELECT user_id, rank FROM held
        UNION ALL
        SELECT m.user_id, CASE WHEN m.role = 'admin' AND 4 > l.rank THEN 4 ELSE l.rank END
        FROM path p JOIN workspace_members m ON p.depth = 0 AND m.workspace_id = p.workspace_id CROSS JOIN link l
      ),
      ranked (user_id, rank) AS (
        SELECT c.user_id, MAX(c.rank) FROM candidate c JOIN users u ON u.id = c.user_id AND u.status = 'active'
        WHERE NOT EXISTS (SELECT 1 FROM path WHERE revoked_at IS NOT NULL)
        GROUP BY c.user_id HAVING MAX(c.rank) > 0
      ),
      page (user_id, rank) AS (
        SELECT user_id, rank FROM ranked
        WHERE rank < ${afterRank} OR (rank = ${afterRank} AND user_id > ${afterUser})
        ORDER BY rank DESC, user_id LIMIT ${limit}
      )
    SELECT g.user_id, g.rank, h.id AS access_id
    FROM page g LEFT JOIN held h ON h.user_id = g.user_id AND h.rank = g.rank
    ORDER BY g.rank DESC, g.user_id`
}

interface PrincipalLine {
  readonly user_id: string
  readonly role: string
  /** The access ids that decide the role, sorted. */
  readonly accesses: ReadonlyArray<string>
}

interface Comparator {
  readonly reachable: (user: UserId, after: string, limit: number) => Promise<ReadonlyArray<string>>
  readonly principals: (resource: ResourceId, after: { rank: number; user: string }, limit: number) => Promise<ReadonlyArray<PrincipalLine>>
  readonly close: () => Promise<void>
}

interface PrincipalRow {
  readonly user_id: string
  readonly rank: number | string
  readonly access_id: string | null
}

/** The comparator's rows, one per (user, deciding access), as one line per user. */
const linesOf = (rows: ReadonlyArray<PrincipalRow>): ReadonlyArray<PrincipalLine> => {
  const lines: Array<{ user_id: string; role: string; accesses: Array<string> }> = []
  for (const row of rows) {
    let last = lines[lines.length - 1]
    if (last === undefined || last.user_id !== row.user_id) {
      last = { user_id: row.user_id, role: ROLES[Number(row.rank) - 1]!, accesses: [] }
      lines.push(last)
    }
    if (row.access_id !== null) last.accesses.push(row.access_id)
  }
  for (const line of lines) line.accesses.sort()
  return lines
}

const START = { rank: 6, user: "" }

const sqliteComparator = (file: string): Comparator => {
  const db = new Database(file, { readonly: true })
  const reach = db.prepare<{ usr: string; after: string; limit: number }, { id: string }>(reachableSql("sqlite"))
  const panel = db.prepare<{ res: string; rank: number; usr: string; limit: number }, PrincipalRow>(principalsSql("sqlite"))
  return {
    reachable: async (usr, after, limit) => reach.all({ usr, after, limit }).map((r) => r.id),
    principals: async (res, after, limit) => linesOf(panel.all({ res, rank: after.rank, usr: after.user, limit })),
    close: async () => {
      db.close()
    }
  }
}

const pgComparator = async (url: string): Promise<Comparator> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const [reach, panel] = [reachableSql("pg"), principalsSql("pg")]
  return {
    reachable: async (usr, after, limit) =>
      (await client.query<{ id: string }>({ name: "bench_reachable", text: reach, values: [usr, after, limit] })).rows.map((r) => r.id),
    principals: async (res, after, limit) =>
      linesOf((await client.query<PrincipalRow>({ name: "bench_principals", text: panel, values: [res, after.rank, after.user, limit] })).rows),
    close: () => client.end()
  }
}

/** Tessera and the comparator alternated (`race.ts`); the ratio is of their median times. */
const raceAccess = async (options: AccessBenchOptions, tessera: () => Promise<unknown>, comparator: () => Promise<unknown>) => {
  const result = await race(
    { reps: options.reps, bench: { time: options.time, iterations: options.iterations, warmupTime: 0, warmupIterations: 2 } },
    tessera,
    comparator
  )
  return { ...result, ratio: result.tessera.p50 / result.comparator.p50 }
}

export interface AccessBenchOptions {
  readonly users: number
  readonly grants: number
  /** Milliseconds and least iterations per task and repetition. */
  readonly time: number
  readonly iterations: number
  readonly reps: number
}

export const smokeAccess: AccessBenchOptions = { users: 1_000, grants: 100, time: 200, iterations: 3, reps: 1 }
export const fullAccess: AccessBenchOptions = { users: 10_000, grants: 1_000, time: 2_000, iterations: 10, reps: 3 }

const fail = (message: string): never => {
  throw new Error(message)
}

const accessBench = async <E>(
  label: string,
  layer: Layer.Layer<Effect.Effect.Context<ReturnType<typeof listPrincipals> | ReturnType<typeof listReachable>>, E>,
  comparator: Comparator,
  options: AccessBenchOptions
): Promise<ReadonlyArray<AccessRow>> => {
  const runtime = ManagedRuntime.make(layer)
  try {
    const user = reacher(options.users)
    const reach = (after: ResourceId | null, limit: number) =>
      runtime.runPromise(listReachable(SystemActor, user, "read", {}, { after, limit }))
    const panel = (after: { role: (typeof ROLES)[number]; userId: UserId } | null, limit: number) =>
      runtime.runPromise(listPrincipals(SystemActor, panelResource, { after, limit }))

    // Every page both ways, equal, or the comparison means nothing.
    const reached: Array<string> = []
    for (let after: ResourceId | null = null;;) {
      const page = await reach(after, PAGE)
      reached.push(...page.resources.map((r) => r.id))
      if (page.next === null) break
      after = page.next
    }
    const compared = await comparator.reachable(user, "", 1_000_000)
    if (JSON.stringify(reached) !== JSON.stringify(compared)) {
      fail(`${label}: reachable differs: Tessera ${reached.length} resources, the comparator ${compared.length}`)
    }
    const principals: Array<PrincipalLine> = []
    for (let after: { role: (typeof ROLES)[number]; userId: UserId } | null = null;;) {
      const page = await panel(after, PAGE)
      principals.push(...page.principals.map((p) => ({
        user_id: p.user_id,
        role: p.role,
        accesses: p.grants.flatMap((g) => (g.kind === "direct" || g.kind === "inherited" ? [g.access_id] : [])).sort()
      })))
      if (page.next === null) break
      after = page.next
    }
    const panelCompared = await comparator.principals(panelResource, START, 1_000_000)
    if (JSON.stringify(principals) !== JSON.stringify(panelCompared)) {
      fail(`${label}: principals differ: Tessera ${principals.length} users, the comparator ${panelCompared.length}`)
    }
    if (principals.length < options.grants) fail(`${label}: ${principals.length} principals, fewer than the ${options.grants} grants`)

    const rows: Array<AccessRow> = []
    const reachRace = await raceAccess(options, () => reach(null, PAGE), () => comparator.reachable(user, "", PAGE))
    rows.push({
      store: label,
      workload: `reachable: first page, ${options.grants} grants`,
      page: Math.min(PAGE, reached.length),
      total: reached.length,
      ...reachRace
    })
    const panelRace = await raceAccess(options, () => panel(null, PAGE), () => comparator.principals(panelResource, START, PAGE))
    rows.push({
      store: label,
      workload: `principals: first page, ${options.grants} inherited grants`,
      page: Math.min(PAGE, principals.length),
      total: principals.length,
      ...panelRace
    })
    return rows
  } finally {
    await runtime.dispose()
  }
}

/** Both stores, each filled with the same data: SQLite in a temporary file, PostgreSQL in a fresh database. */
export const accessWorkloads = (options: AccessBenchOptions) =>
  Effect.gen(function*() {
    const rows: Array<AccessRow> = []
    const dir = mkdtempSync(join(tmpdir(), "tessera-access-bench-"))
    const file = join(dir, "access.db")
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    yield* Effect.provide(
      Effect.zipRight(migrateUp(Sqlite.migrations(), Sqlite.dialect), fillAccessData(options.users, options.grants)),
      Layer.fresh(Sqlite.layer(file))
    )
    rows.push(...(yield* Effect.promise(async () => {
      const comparator = sqliteComparator(file)
      try {
        return await accessBench("sqlite", Sqlite.layer(file), comparator, options)
      } finally {
        await comparator.close()
      }
    })))

    const url = yield* freshDatabase
    yield* Effect.provide(
      Effect.zipRight(migrateUp(Pg.migrations(), Pg.dialect), fillAccessData(options.users, options.grants)),
      Layer.fresh(Pg.layer({ url }))
    )
    rows.push(...(yield* Effect.promise(async () => {
      const comparator = await pgComparator(Redacted.value(url))
      try {
        return await accessBench("pg", Pg.layer({ url }), comparator, options)
      } finally {
        await comparator.close()
      }
    })))
    return rows
  }).pipe(Effect.scoped, Effect.orDie)

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : "—")

/** The rows as the report prints them. */
export const accessTable = (rows: ReadonlyArray<AccessRow>) =>
  rows.map((r) => ({
    store: r.store,
    workload: r.workload,
    "rows (page / all)": `${r.page} / ${r.total}`,
    "Tessera pages/s": fixed(r.tessera.hz, 1),
    "Tessera p50 ms": fixed(r.tessera.p50, 1),
    "Tessera p99 ms": fixed(r.tessera.p99, 1),
    "comparator pages/s": fixed(r.comparator.hz, 1),
    "comparator p50 ms": fixed(r.comparator.p50, 1),
    "p50 ratio": fixed(r.ratio, 2)
  }))

/** The report's section for these workloads. */
export const accessSection = (
  rows: ReadonlyArray<AccessRow>,
  markdown: (rows: ReadonlyArray<Record<string, string | number>>) => string
): ReadonlyArray<string> => [
  "## Who has access, and what a user can reach",
  "",
  "Tessera: `listReachable` (read) and `listPrincipals` in process, a page of 1000, as the system. Comparator: one",
  "hand-written recursive query per page answering the same (ids in order; users, roles and the deciding accesses),",
  "through the same driver on the same data (`check-data.ts` plus the grants, set-based). The p50 ratio is Tessera's",
  "median time over the comparator's.",
  "",
  markdown(accessTable(rows)),
  ""
]
