/**
 * The doctor's time and memory at 10k and 100k users on both stores
 * (`pnpm --filter @tessera/bench bench:doctor`; `DOCTOR_USERS=1000,50000` picks
 * other sizes). Each store is filled by set-based SQL — no use case, so
 * filling takes seconds — with, per user: the user, an API key, a personal
 * workspace with its membership, two roots and a child (the roots owned, the
 * child shared with the next user as editor); per ten users a team workspace
 * with the ten as members (one admin) and an owned root, a pending resource
 * invite, an active share link and a revoked root. The data is consistent:
 * the doctor must report nothing. Each doctor run is a process of its own
 * (`doctor-run.ts`) so its memory is its own. Prints a table; asserts
 * nothing but a clean report.
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

const SIZES = (process.env["DOCTOR_USERS"] ?? "10000,100000").split(",").map(Number)
const benchDir = fileURLToPath(new URL("..", import.meta.url))

const T = "'2026-01-01T00:00:00.000Z'"
const LATER = "'2999-01-01T00:00:00.000Z'"

/** The statements that fill an empty, migrated store with `n` users (a multiple of 10). */
const fill = (n: number, pad: (expr: string, width: number) => string) => {
  const usr = (i = "i") => `'usr_' || ${pad(i, 32)}`
  const personal = `'ws_' || ${pad("i", 32)}`
  const team = (i: string) => `'ws_1' || ${pad(i, 31)}`
  const res = (k: number) => `'res_${k}' || ${pad("i", 31)}`
  const RES_COLUMNS = "id, workspace_id, kind, title, parent_id, position, link_reach, link_role, created_by, created_at, updated_at, revoked_at"
  return [
    "CREATE TABLE bench_n (i INTEGER PRIMARY KEY)",
    `INSERT INTO bench_n (i) WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s`,
    `INSERT INTO users (id, handle, role, status, sign_pub, kex_pub, created_at, revoked_at)
     SELECT ${usr()}, 'user-' || i, 'member', 'active', NULL, NULL, ${T}, NULL FROM bench_n`,
    `INSERT INTO api_keys (id, user_id, digest, created_at) SELECT 'key_' || ${pad("i", 32)}, ${usr()}, 'key-digest-' || i, ${T} FROM bench_n`,
    `INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
     SELECT ${personal}, 'personal', '', '', '[]', 1, ${usr()}, ${T}, ${T} FROM bench_n`,
    `INSERT INTO workspace_members (workspace_id, user_id, role) SELECT ${personal}, ${usr()}, 'admin' FROM bench_n`,
    `INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
     SELECT ${team("i")}, 'team', '', '', '[]', 0, NULL, ${T}, ${T} FROM bench_n WHERE i % 10 = 0`,
    `INSERT INTO workspace_members (workspace_id, user_id, role)
     SELECT ${team("((i + 9) / 10) * 10")}, ${usr()}, CASE WHEN i % 10 = 0 THEN 'admin' ELSE 'member' END FROM bench_n`,
    `INSERT INTO resources (${RES_COLUMNS})
     SELECT ${res(1)}, ${personal}, 'folder', 'notes', NULL, 0, 'restricted', 'reader', ${usr()}, ${T}, ${T}, NULL FROM bench_n`,
    `INSERT INTO resources (${RES_COLUMNS})
     SELECT ${res(2)}, ${personal}, 'document', 'page', ${res(1)}, 0, 'restricted', 'reader', ${usr()}, ${T}, ${T}, NULL FROM bench_n`,
    `INSERT INTO resources (${RES_COLUMNS})
     SELECT ${res(3)}, ${personal}, 'document', 'draft', NULL, 1, 'restricted', 'reader', ${usr()}, ${T}, ${T},
            CASE WHEN i % 10 = 5 THEN ${T} ELSE NULL END FROM bench_n`,
    `INSERT INTO resources (${RES_COLUMNS})
     SELECT ${res(4)}, ${team("i")}, 'folder', 'shared', NULL, 0, 'workspace', 'reader', ${usr()}, ${T}, ${T}, NULL
     FROM bench_n WHERE i % 10 = 0`,
    `INSERT INTO resource_accesses (id, resource_id, user_id, role) SELECT 'acc_1' || ${pad("i", 31)}, ${res(1)}, ${usr()}, 'owner' FROM bench_n`,
    `INSERT INTO resource_accesses (id, resource_id, user_id, role) SELECT 'acc_3' || ${pad("i", 31)}, ${res(3)}, ${usr()}, 'owner' FROM bench_n`,
    `INSERT INTO resource_accesses (id, resource_id, user_id, role)
     SELECT 'acc_2' || ${pad("i", 31)}, ${res(2)}, ${usr(`(i % ${n}) + 1`)}, 'editor' FROM bench_n`,
    `INSERT INTO resource_accesses (id, resource_id, user_id, role)
     SELECT 'acc_4' || ${pad("i", 31)}, ${res(4)}, ${usr()}, 'owner' FROM bench_n WHERE i % 10 = 0`,
    `INSERT INTO invites (id, digest, kind, status, handle, role, workspace_id, workspace_role, resource_id, resource_role,
                          expires_at, created_at, created_by, redeemed_at, redeemed_by, redeemed_sign_pub, redeemed_kex_pub, canceled_at)
     SELECT 'inv_' || ${pad("i", 32)}, 'invite-digest-' || i, 'grant', 'pending', NULL, NULL, NULL, NULL, ${res(1)}, 'reader',
            ${LATER}, ${T}, ${usr()}, NULL, NULL, NULL, NULL, NULL FROM bench_n WHERE i % 10 = 2`,
    `INSERT INTO share_links (id, resource_id, digest, role, created_at, created_by, disabled_at)
     SELECT 'lnk_' || ${pad("i", 32)}, ${res(3)}, 'link-digest-' || i, 'reader', ${T}, ${usr()}, NULL FROM bench_n WHERE i % 10 = 1`,
    "DROP TABLE bench_n"
  ]
}

interface Run {
  readonly ms: number
  readonly rssBefore: number
  readonly rssPeak: number
  readonly maxRss: number
  readonly ok: boolean
  readonly violations: number
  readonly checked: Record<string, number>
}

/** Runs the doctor in a process of its own. */
const doctorProcess = (kind: "sqlite" | "pg", location: string) =>
  Effect.async<Run, Error>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/doctor-run.ts", kind, location], {
      cwd: benchDir,
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk))
    child.on("close", (code) =>
      resume(
        code === 0
          ? Effect.succeed(JSON.parse(out.trim().split("\n").pop()!) as Run)
          : Effect.fail(new Error(`doctor-run exited ${code}: ${out}`))
      ))
  })

const filled = (n: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const pad = sql.onDialectOrElse({
      pg: () => (expr: string, width: number) => `lpad((${expr})::text, ${width}, '0')`,
      orElse: () => (expr: string, width: number) => `printf('%0${width}d', ${expr})`
    })
    const started = performance.now()
    for (const statement of fill(n, pad)) yield* sql.unsafe(statement)
    // Planner statistics (and on PostgreSQL the visibility map), as a store in use has them from autovacuum.
    yield* sql.unsafe(sql.onDialectOrElse({ pg: () => "VACUUM ANALYZE", orElse: () => "ANALYZE" }))
    return performance.now() - started
  }).pipe(Effect.orDie)

const MB = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)

const rows: Array<Record<string, string | number>> = []

const measure = (kind: "sqlite" | "pg", n: number, location: string, fillMs: number) =>
  Effect.gen(function*() {
    const run = yield* doctorProcess(kind, location)
    if (!run.ok) return yield* Effect.dieMessage(`${kind} at ${n} users: the doctor found ${run.violations} violations in consistent data`)
    rows.push({
      store: kind,
      users: n,
      rows: Object.values(run.checked).reduce((a, b) => a + b, 0),
      "fill s": (fillMs / 1000).toFixed(1),
      "doctor s": (run.ms / 1000).toFixed(2),
      "RSS before MB": MB(run.rssBefore),
      "RSS peak MB": MB(run.rssPeak),
      "max RSS MB": MB(run.maxRss)
    })
  })

const sqliteCase = (n: number) =>
  Effect.gen(function*() {
    const dir = mkdtempSync(join(tmpdir(), "tessera-doctor-bench-"))
    const file = join(dir, "doctor.db")
    const fillMs = yield* Effect.provide(
      Effect.zipRight(migrateUp(Sqlite.migrations(), Sqlite.dialect), filled(n)),
      Sqlite.layer(file)
    )
    yield* Effect.ensuring(measure("sqlite", n, file, fillMs), Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  })

const pgCase = (n: number) =>
  Effect.scoped(Effect.gen(function*() {
    const url = yield* freshDatabase
    const fillMs = yield* Effect.provide(
      Effect.zipRight(migrateUp(Pg.migrations(), Pg.dialect), filled(n)),
      Layer.fresh(Pg.layer({ url, maxConnections: 1 }))
    )
    yield* measure("pg", n, Redacted.value(url), fillMs)
  }))

const program = Effect.gen(function*() {
  for (const n of SIZES) {
    if (!Number.isInteger(n) || n <= 0 || n % 10 !== 0) return yield* Effect.dieMessage(`DOCTOR_USERS: ${n} is not a positive multiple of 10`)
    yield* sqliteCase(n)
    yield* pgCase(n)
  }
  console.log(`node ${process.version}, ${new Date().toISOString()}, default page of 1000 rows`)
  console.table(rows)
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
