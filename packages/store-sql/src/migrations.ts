/**
 * Versioned migrations: numbered SQL files per dialect (`0001_name.sql`),
 * applied in order, each in its own transaction, recorded with the SHA-256
 * of the file. An applied file that changed (or vanished) is a hard error:
 * `up` refuses to run and `verify` fails. Each step's transaction first takes
 * the dialect's migration lock and re-reads what is applied, so two migrators
 * started at once apply every step exactly once. A dialect may wrap each step
 * (SQLite turns foreign keys off around a step so a step can rebuild a
 * table, and checks them before commit); the wrapping is always undone, also
 * when the step fails. The runner never edits or skips a step's SQL.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Clock, Effect, Schema } from "effect"
import { DbInt } from "./rows.js"

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
  readonly checksum: string
}

export interface MigrationDialect {
  /** Serialises migrators: a transaction-scoped lock taken first in every step. */
  readonly lock: Effect.Effect<void, SqlError, SqlClient.SqlClient>
  /** Runs before each step's transaction begins, on the connection the step will use. */
  readonly beforeStep: Effect.Effect<void, SqlError, SqlClient.SqlClient>
  /** Runs after each step's transaction has ended, whether it committed, failed or was interrupted. */
  readonly afterStep: Effect.Effect<void, SqlError, SqlClient.SqlClient>
  /**
   * Runs inside a step's transaction after its statements, before commit:
   * every problem it returns fails the step, which is then rolled back.
   */
  readonly check: Effect.Effect<ReadonlyArray<string>, SqlError, SqlClient.SqlClient>
}

export class MigrationError extends Schema.TaggedError<MigrationError>()("MigrationError", {
  message: Schema.String
}) {}

export type MigrationState = "applied" | "pending" | "changed" | "missing_file"

export interface MigrationStatus {
  readonly version: number
  readonly name: string
  readonly state: MigrationState
  readonly applied_at: string | null
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/

export const checksumOf = (text: string) => createHash("sha256").update(text).digest("hex")

/**
 * Reads `NNNN_name.sql` files from a folder, in version order. A `.sql` file
 * that does not follow the pattern, or two files with one version, is an
 * error rather than a step silently skipped.
 */
/**
 * The `migrations` folder of the package a module belongs to: the first
 * folder above the module that holds a `package.json`. The same answer from
 * the TypeScript source (`src/`) and from the compiled output (`dist/src/`).
 */
export const migrationsOf = (moduleUrl: string): string => {
  let dir = dirname(fileURLToPath(moduleUrl))
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`)
    dir = parent
  }
  return join(dir, "migrations")
}

export const loadMigrations = (dir: string): ReadonlyArray<Migration> => {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith(".sql"))
    .map((file) => {
      const match = FILE.exec(file)
      if (match === null) throw new Error(`migration file ${file} is not named NNNN_lowercase_name.sql`)
      const sql = readFileSync(join(dir, file), "utf8")
      return { version: Number(match[1]), name: match[2]!, sql, checksum: checksumOf(sql) }
    })
    .sort((a, b) => a.version - b.version)
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]!.version === m.version) throw new Error(`two migration files have version ${m.version}`)
  })
  return migrations
}

/** Splits a migration into statements: each ends with `;` at the end of a line. */
export const statementsOf = (text: string): ReadonlyArray<string> =>
  text
    .split(/;[ \t]*(?:--[^\n]*)?$/m)
    .map((part) => part.replace(/^\s*--.*$/gm, "").trim())
    .filter((part) => part.length > 0)

const AppliedRow = Schema.Struct({ version: DbInt, name: Schema.String, checksum: Schema.String, applied_at: Schema.String })
const decodeApplied = Schema.decodeUnknown(Schema.Array(AppliedRow))

const ensureTable = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql`CREATE TABLE IF NOT EXISTS tessera_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        checksum TEXT NOT NULL,
        applied_at TEXT NOT NULL
      )`)

const readApplied = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql`SELECT version, name, checksum, applied_at FROM tessera_migrations ORDER BY version`.pipe(
    Effect.flatMap(decodeApplied),
    Effect.orDie
  ))

/** Compares files with what the store recorded (pure). */
export const compare = (
  migrations: ReadonlyArray<Migration>,
  applied: ReadonlyArray<typeof AppliedRow.Type>
): ReadonlyArray<MigrationStatus> => {
  const byVersion = new Map(applied.map((row) => [row.version, row]))
  const files = migrations.map((m): MigrationStatus => {
    const row = byVersion.get(m.version)
    if (row === undefined) return { version: m.version, name: m.name, state: "pending", applied_at: null }
    return {
      version: m.version,
      name: m.name,
      state: row.checksum === m.checksum ? "applied" : "changed",
      applied_at: row.applied_at
    }
  })
  const known = new Set(migrations.map((m) => m.version))
  const orphans = applied
    .filter((row) => !known.has(row.version))
    .map((row): MigrationStatus => ({ version: row.version, name: row.name, state: "missing_file", applied_at: row.applied_at }))
  return [...files, ...orphans].sort((a, b) => a.version - b.version)
}

const fileNameOf = (m: { readonly version: number; readonly name: string }) => `${String(m.version).padStart(4, "0")}_${m.name}`

const problemsOf = (statuses: ReadonlyArray<MigrationStatus>) =>
  statuses
    .filter((s) => s.state === "changed" || s.state === "missing_file")
    .map((s) => `${fileNameOf(s)}: ${s.state === "changed" ? "applied file was changed" : "applied file is missing"}`)

const tableExists = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.onDialectOrElse({
    pg: () => sql`SELECT 1 AS n FROM information_schema.tables WHERE table_name = 'tessera_migrations' AND table_schema = current_schema()`,
    orElse: () => sql`SELECT 1 AS n FROM sqlite_master WHERE type = 'table' AND name = 'tessera_migrations'`
  }).pipe(Effect.map((rows) => rows.length > 0), Effect.orDie))

/** The state of every migration, without writing anything. */
export const migrationStatus = (migrations: ReadonlyArray<Migration>) =>
  Effect.gen(function*() {
    const applied = (yield* tableExists) ? yield* readApplied : []
    return compare(migrations, applied)
  })

/** Fails with the list of changed or missing applied files. */
export const verifyMigrations = (migrations: ReadonlyArray<Migration>) =>
  Effect.gen(function*() {
    const statuses = yield* migrationStatus(migrations)
    const problems = problemsOf(statuses)
    if (problems.length > 0) return yield* new MigrationError({ message: problems.join("; ") })
    return statuses
  })

/** True when every file is applied unchanged. */
export const schemaIsCurrent = (migrations: ReadonlyArray<Migration>) =>
  Effect.map(migrationStatus(migrations), (statuses) => statuses.every((s) => s.state === "applied"))

/** Applies every pending migration in order; returns the versions this call applied. */
export const migrateUp = (migrations: ReadonlyArray<Migration>, dialect: MigrationDialect) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // Refuse before anything when an applied file changed or vanished; each
    // step re-checks under the lock for migrators that run at the same time.
    yield* verifyMigrations(migrations)
    const appliedNow: Array<number> = []
    for (const migration of migrations) {
      const step = sql.withTransaction(Effect.gen(function*() {
        yield* dialect.lock
        yield* ensureTable
        const applied = yield* readApplied
        const problems = problemsOf(compare(migrations, applied))
        if (problems.length > 0) return yield* new MigrationError({ message: problems.join("; ") })
        if (applied.some((row) => row.version === migration.version)) return false
        for (const statement of statementsOf(migration.sql)) yield* sql.unsafe(statement)
        const violations = yield* dialect.check
        if (violations.length > 0) {
          return yield* new MigrationError({ message: `${fileNameOf(migration)}: ${violations.join("; ")}` })
        }
        const at = new Date(yield* Clock.currentTimeMillis).toISOString()
        yield* sql`INSERT INTO tessera_migrations ${sql.insert({
          version: migration.version,
          name: migration.name,
          checksum: migration.checksum,
          applied_at: at
        })}`
        return true
      }))
      // A failed `afterStep` would leave the connection in the step's mode
      // (on SQLite: without foreign keys), so it is a defect, not a failure.
      const didApply = yield* Effect.acquireUseRelease(
        dialect.beforeStep,
        () => step,
        () => Effect.orDie(dialect.afterStep)
      )
      if (didApply) appliedNow.push(migration.version)
    }
    return appliedNow
  }).pipe(Effect.catchTag("SqlError", (e) => Effect.die(e)))
