/**
 * Maintenance at scale on both stores (`pnpm --filter @tessera/bench
 * maintenance`; `-- --full` adds 1M; `MAINTENANCE_SIZES=10000,50000` picks
 * other sizes, each a multiple of 100 and at least 10,000).
 *
 * Each store is filled by set-based SQL (a numbers table from
 * `generate_series` on PostgreSQL, a recursive CTE on SQLite; no use case,
 * so a million rows take a minute, not hours) with `n` users, each with a
 * personal workspace; 1% of those have an extra member (to repair); one
 * user in ten has minted a workspace invite, half of them long expired. One
 * more user holds 10,000 grants — owner of 5,000 roots in a team (shared
 * with another owner) and editor of a child under each — has minted 1,000
 * pending invites, and is deleted last.
 *
 * Measured, each in a process of its own (`maintenance-run.ts`, the way the
 * CLI runs it: the report encoded page by page): cleanup personal-workspace-
 * members dry run and apply, invites purge-expired dry run and apply, and
 * the deletion; plus the CLI itself end to end (`cleanup … --json` under
 * `/usr/bin/time`, start-up included). Prints the table; asserts that each
 * report counts what was filled.
 */
import { SqlClient } from "@effect/sql"
import { migrateUp } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import { freshDatabase } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { performance } from "node:perf_hooks"
import { Effect, Layer, Redacted } from "effect"

const FULL = process.argv.includes("--full")
const SIZES = (process.env["MAINTENANCE_SIZES"] ?? (FULL ? "10000,100000,1000000" : "10000,100000")).split(",").map(Number)
const STORES = (process.env["MAINTENANCE_STORES"] ?? "sqlite,pg").split(",") as Array<"sqlite" | "pg">
const benchDir = fileURLToPath(new URL("..", import.meta.url))
const repoDir = fileURLToPath(new URL("../..", import.meta.url))

const T = "'2026-01-01T00:00:00.000Z'"
const PAST = "'2000-01-01T00:00:00.000Z'"
const LATER = "'2999-01-01T00:00:00.000Z'"

/** The user with many grants, and their personal workspace and team. */
const VICTIM = `usr_${"f".repeat(32)}`
const VICTIM_PERSONAL = `ws_${"f".repeat(32)}`
const GRANTED_TEAM = `ws_${"e".repeat(32)}`
const ROOTS = 5000
const MINTED = 1000

/** The statements that fill an empty, migrated store. */
const fill = (n: number, dialect: "sqlite" | "pg") => {
  const pad = dialect === "pg"
    ? (expr: string, width: number) => `lpad((${expr})::text, ${width}, '0')`
    : (expr: string, width: number) => `printf('%0${width}d', ${expr})`
  const usr = (i = "i") => `'usr_' || ${pad(i, 32)}`
  const ws = (i = "i") => `'ws_' || ${pad(i, 32)}`
  const res = (k: string, i = "i") => `'res_${k}' || ${pad(i, 31)}`
  const RES_COLUMNS = "id, workspace_id, kind, title, parent_id, position, link_reach, link_role, created_by, created_at, updated_at, revoked_at"
  const INVITE_COLUMNS = `id, digest, kind, status, handle, role, workspace_id, workspace_role, resource_id, resource_role,
                          expires_at, created_at, created_by, redeemed_at, redeemed_by, redeemed_sign_pub, redeemed_kex_pub, canceled_at`
  return [
    "CREATE TABLE bench_n (i INTEGER PRIMARY KEY)",
    dialect === "pg"
      ? `INSERT INTO bench_n (i) SELECT generate_series(1, ${n})`
      : `INSERT INTO bench_n (i) WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s`,
    `INSERT INTO users (id, handle, role, status, sign_pub, kex_pub, created_at, revoked_at)
     SELECT ${usr()}, 'user-' || i, 'member', 'active', NULL, NULL, ${T}, NULL FROM bench_n`,
    `INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
     SELECT ${ws()}, 'user-' || i, '', '', '[]', 1, ${usr()}, ${T}, ${T} FROM bench_n`,
    `INSERT INTO workspace_members (workspace_id, user_id, role) SELECT ${ws()}, ${usr()}, 'admin' FROM bench_n`,
    // 1% broken: someone else is a member too
    `INSERT INTO workspace_members (workspace_id, user_id, role) SELECT ${ws()}, ${usr(`(i % ${n}) + 1`)}, 'member' FROM bench_n WHERE i % 100 = 7`,
    // one user in ten minted an invite into their workspace; half of those expired long ago
    `INSERT INTO invites (${INVITE_COLUMNS})
     SELECT 'inv_' || ${pad("i", 32)}, 'digest-' || i, 'grant', 'pending', NULL, NULL, ${ws()}, 'member', NULL, NULL,
            CASE WHEN i % 20 = 3 THEN ${PAST} ELSE ${LATER} END, ${T}, ${usr()}, NULL, NULL, NULL, NULL, NULL
     FROM bench_n WHERE i % 10 = 3`,
    // the user with many grants
    `INSERT INTO users (id, handle, role, status, sign_pub, kex_pub, created_at, revoked_at)
     VALUES ('${VICTIM}', 'many-grants', 'member', 'active', NULL, NULL, ${T}, NULL)`,
    `INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
     VALUES ('${VICTIM_PERSONAL}', 'many-grants', '', '', '[]', 1, '${VICTIM}', ${T}, ${T}),
            ('${GRANTED_TEAM}', 'granted', '', '', '[]', 0, NULL, ${T}, ${T})`,
    `INSERT INTO workspace_members (workspace_id, user_id, role)
     VALUES ('${VICTIM_PERSONAL}', '${VICTIM}', 'admin'), ('${GRANTED_TEAM}', ${usr("1")}, 'admin'), ('${GRANTED_TEAM}', '${VICTIM}', 'member')`,
    `INSERT INTO resources (${RES_COLUMNS})
     SELECT ${res("a")}, '${GRANTED_TEAM}', 'folder', 'root', NULL, i - 1, 'restricted', 'reader', ${usr("1")}, ${T}, ${T}, NULL
     FROM bench_n WHERE i <= ${ROOTS}`,
    `INSERT INTO resources (${RES_COLUMNS})
     SELECT ${res("b")}, '${GRANTED_TEAM}', 'document', 'child', ${res("a")}, 0, 'restricted', 'reader', ${usr("1")}, ${T}, ${T}, NULL
     FROM bench_n WHERE i <= ${ROOTS}`,
    `INSERT INTO resource_accesses (id, resource_id, user_id, role) SELECT 'acc_a' || ${pad("i", 31)}, ${res("a")}, ${usr("1")}, 'owner' FROM bench_n WHERE i <= ${ROOTS}`,
    `INSERT INTO resource_accesses (id, resource_id, user_id, role) SELECT 'acc_b' || ${pad("i", 31)}, ${res("a")}, '${VICTIM}', 'owner' FROM bench_n WHERE i <= ${ROOTS}`,
    `INSERT INTO resource_accesses (id, resource_id, user_id, role) SELECT 'acc_c' || ${pad("i", 31)}, ${res("b")}, '${VICTIM}', 'editor' FROM bench_n WHERE i <= ${ROOTS}`,
    `INSERT INTO invites (${INVITE_COLUMNS})
     SELECT 'inv_f' || ${pad("i", 31)}, 'victim-digest-' || i, 'grant', 'pending', NULL, NULL, NULL, NULL, ${res("b")}, 'reader',
            ${LATER}, ${T}, '${VICTIM}', NULL, NULL, NULL, NULL, NULL
     FROM bench_n WHERE i <= ${MINTED}`,
    "DROP TABLE bench_n"
  ]
}

interface Run {
  readonly ms: number
  readonly rssBefore: number
  readonly rssPeak: number
  readonly maxRss: number
  readonly statements: number
  readonly maxParams: number
  readonly result: Record<string, number>
}

const child = (command: string, args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) =>
  Effect.async<{ readonly stdout: string; readonly stderr: string }, Error>((resume) => {
    const proc = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    proc.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    proc.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    proc.on("close", (code) =>
      resume(code === 0 ? Effect.succeed({ stdout, stderr }) : Effect.fail(new Error(`${args.join(" ")} exited ${code}: ${stderr}`))))
  })

/** Runs one operation in a process of its own. */
const runOp = (kind: "sqlite" | "pg", location: string, ...op: Array<string>) =>
  Effect.map(
    child(process.execPath, ["--import", "tsx", "src/maintenance-run.ts", kind, location, ...op], benchDir),
    ({ stdout }) => JSON.parse(stdout.trim().split("\n").pop()!) as Run
  )

/** The CLI end to end under `/usr/bin/time`: wall time and maximum RSS, start-up included; the JSON it printed, parsed. */
const runCli = (env: Record<string, string>, ...args: Array<string>) =>
  Effect.map(
    child("/usr/bin/time", ["-f", "TIME %e %M", join(repoDir, "node_modules/.bin/tsx"), "apps/cli/src/bin.ts", ...args], repoDir, env),
    ({ stderr, stdout }) => {
      const [, seconds, kb] = /TIME (\S+) (\d+)/.exec(stderr)!
      return { ms: Number(seconds) * 1000, maxRss: Number(kb) * 1024, report: JSON.parse(stdout) as { workspaces: Array<unknown> } }
    }
  )

const filled = (n: number, dialect: "sqlite" | "pg") =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const started = performance.now()
    for (const statement of fill(n, dialect)) yield* sql.unsafe(statement)
    // Planner statistics (and on PostgreSQL the visibility map), as a store in use has them from autovacuum.
    yield* sql.unsafe(dialect === "pg" ? "VACUUM ANALYZE" : "ANALYZE")
    return performance.now() - started
  }).pipe(Effect.orDie)

const MB = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
const seconds = (ms: number) => (ms / 1000).toFixed(2)

const rows: Array<Record<string, string | number>> = []

const expect = (what: string, actual: unknown, expected: unknown) =>
  actual === expected ? Effect.void : Effect.dieMessage(`${what}: ${String(actual)}, expected ${String(expected)}`)

const measure = (kind: "sqlite" | "pg", n: number, location: string, cliEnv: Record<string, string>, fillMs: number) =>
  Effect.gen(function*() {
    const row = (operation: string, run: Run, reported: number) =>
      rows.push({
        store: kind,
        "personal workspaces": n,
        operation,
        reported,
        "time s": seconds(run.ms),
        "RSS before MB": MB(run.rssBefore),
        "RSS peak MB": MB(run.rssPeak),
        "max RSS MB": MB(run.maxRss),
        statements: run.statements,
        "max params": run.maxParams
      })
    const broken = n / 100
    const expired = n / 20
    rows.push({ store: kind, "personal workspaces": n, operation: "fill (SQL)", "time s": seconds(fillMs) })
    const cleanupDry = yield* runOp(kind, location, "cleanup")
    yield* expect(`${kind} ${n}: cleanup dry run`, cleanupDry.result["rows"], broken)
    row("cleanup dry run", cleanupDry, cleanupDry.result["rows"]!)
    const cli = yield* runCli(cliEnv, "cleanup", "personal-workspace-members", "--json")
    yield* expect(`${kind} ${n}: CLI cleanup dry run`, cli.report.workspaces.length, broken)
    rows.push({
      store: kind,
      "personal workspaces": n,
      operation: "CLI cleanup --json (start-up included)",
      reported: cli.report.workspaces.length,
      "time s": seconds(cli.ms),
      "max RSS MB": MB(cli.maxRss)
    })
    const cleanupApply = yield* runOp(kind, location, "cleanup", "--apply")
    yield* expect(`${kind} ${n}: cleanup apply`, cleanupApply.result["rows"], broken)
    row("cleanup --apply", cleanupApply, cleanupApply.result["rows"]!)
    const purgeDry = yield* runOp(kind, location, "purge")
    yield* expect(`${kind} ${n}: purge dry run`, purgeDry.result["rows"], expired)
    row("purge-expired dry run", purgeDry, purgeDry.result["rows"]!)
    const purgeApply = yield* runOp(kind, location, "purge", "--apply")
    yield* expect(`${kind} ${n}: purge apply`, purgeApply.result["rows"], expired)
    row("purge-expired --apply", purgeApply, purgeApply.result["rows"]!)
    const deletion = yield* runOp(kind, location, "delete-user", VICTIM)
    yield* expect(`${kind} ${n}: deletion`, deletion.result["accesses_removed"], 2 * ROOTS)
    yield* expect(`${kind} ${n}: deletion`, deletion.result["invites_canceled"], MINTED)
    row("delete user with 10k grants", deletion, deletion.result["accesses_removed"]!)
  })

const sqliteCase = (n: number) =>
  Effect.gen(function*() {
    const dir = mkdtempSync(join(tmpdir(), "tessera-maintenance-bench-"))
    const file = join(dir, "maintenance.db")
    const fillMs = yield* Effect.provide(Effect.zipRight(migrateUp(Sqlite.migrations(), Sqlite.dialect), filled(n, "sqlite")), Sqlite.layer(file))
    yield* Effect.ensuring(
      measure("sqlite", n, file, { TESSERA_STORE: "sqlite", TESSERA_SQLITE_PATH: file }, fillMs),
      Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
  })

const pgCase = (n: number) =>
  Effect.scoped(Effect.gen(function*() {
    const url = yield* freshDatabase
    const fillMs = yield* Effect.provide(
      Effect.zipRight(migrateUp(Pg.migrations(), Pg.dialect), filled(n, "pg")),
      Layer.fresh(Pg.layer({ url, maxConnections: 1 }))
    )
    yield* measure("pg", n, Redacted.value(url), { TESSERA_STORE: "pg", DATABASE_URL: Redacted.value(url) }, fillMs)
  }))

const program = Effect.gen(function*() {
  for (const n of SIZES) {
    if (!Number.isInteger(n) || n < 10_000 || n % 100 !== 0) {
      return yield* Effect.dieMessage(`MAINTENANCE_SIZES: ${n} is not a multiple of 100 of at least 10,000`)
    }
    for (const store of STORES) {
      yield* store === "sqlite" ? sqliteCase(n) : pgCase(n)
      console.error(`done: ${store} at ${n}`)
    }
  }
  console.log(`node ${process.version}, ${new Date().toISOString()}, default page of 500 rows`)
  console.table(rows)
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
