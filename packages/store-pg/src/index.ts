/**
 * @tessera/store-pg — the ports on PostgreSQL.
 *
 * Transactions run READ COMMITTED. Single-use and last-seat rules are
 * guarded writes (`UPDATE … WHERE status = 'pending' RETURNING`): a
 * concurrent writer blocks on the row lock, re-checks the guard after the
 * winner commits, and sees that it lost. Migrators serialise on a
 * transaction-scoped advisory lock.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { loadMigrations, type MigrationDialect, PortsLive } from "@tessera/store-sql"
import { fileURLToPath } from "node:url"
import { Effect, Layer, type Redacted } from "effect"

export const migrationsDir = fileURLToPath(new URL("../migrations", import.meta.url))
export const migrations = () => loadMigrations(migrationsDir)

/** An arbitrary constant naming Tessera's migration lock. */
const MIGRATION_LOCK_KEY = 7_350_001

/** PostgreSQL changes constraints in place (`ALTER TABLE … ADD CONSTRAINT`), so a step needs no wrapping. */
export const dialect: MigrationDialect = {
  lock: Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`).pipe(
    Effect.asVoid
  ),
  beforeStep: Effect.void,
  afterStep: Effect.void,
  check: Effect.succeed([])
}

export interface PgOptions {
  readonly url: Redacted.Redacted<string>
  readonly maxConnections?: number
}

/** A `SqlClient` on the PostgreSQL database at `url`. */
export const clientLayer = (options: PgOptions): Layer.Layer<SqlClient.SqlClient> =>
  PgClient.layer({ url: options.url, maxConnections: options.maxConnections ?? 10 }).pipe(Layer.orDie)

/** Every port on PostgreSQL, plus its `SqlClient`. */
export const layer = (options: PgOptions) => PortsLive.pipe(Layer.provideMerge(clientLayer(options)))
