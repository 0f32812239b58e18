/**
 * The configured store (docs/configuration.md), shared by every app's composition root:
 * `TESSERA_STORE` picks the dialect, and nothing else in the apps changes
 * with it. Also carries the dialect's migration files and lock, so the
 * migrator, the server's start-up and `/readyz` all see the same set.
 *
 * A store that cannot be reached or opened is one `StoreUnavailable` naming
 * the variable and where it points; its message must never carry a password
 * or the PostgreSQL URL.
 */
import type { SqlClient } from "@effect/sql"
import type { Migration, MigrationDialect, PortsLive } from "@tessera/store-sql"
import { migrateUp, migrationStatus, schemaIsCurrent, verifyMigrations } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import * as Sqlite from "@tessera/store-sqlite"
import { Cause, type ConfigError, Context, Data, Effect, Layer, Redacted } from "effect"
import { StoreConfig, type StoreSettings } from "./settings.js"

/** The migration files and lock of the configured dialect. */
export class Migrations extends Context.Tag("Tessera/Migrations")<Migrations, {
  readonly dialect: "sqlite" | "pg"
  readonly files: ReadonlyArray<Migration>
  readonly lock: MigrationDialect
}>() {}

export type ConfiguredStore = Layer.Layer.Success<typeof PortsLive> | SqlClient.SqlClient | Migrations

/** The configured store cannot be reached or opened; `message` names the variable and is safe to print. */
export class StoreUnavailable extends Data.TaggedError("StoreUnavailable")<{ readonly message: string }> {}

const isSqlError = (error: unknown): error is { readonly cause: unknown } =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "SqlError"

/** A system error (`ENOENT`, `ECONNREFUSED`, `SQLITE_CANTOPEN`…) rather than a bug. */
const isSystemError = (error: unknown): error is Error & { readonly code: string } =>
  error instanceof Error && typeof (error as { code?: unknown }).code === "string"

/** The reason a driver gave, without the error class: `connect ECONNREFUSED 127.0.0.1:5432`. */
const reasonOf = (error: unknown): string => {
  if (isSqlError(error)) return error.cause === undefined ? String((error as { message?: unknown }).message) : reasonOf(error.cause)
  // Node reports a host that resolved to several addresses as an AggregateError with an empty message.
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0])
  if (error instanceof Error) return error.message || (isSystemError(error) ? error.code : error.name)
  return String(error)
}

/**
 * Turns a failure to build `layer` into `StoreUnavailable` when `isUnreachable`
 * recognises it (the client's own connection or open error); anything else,
 * a bug or an interruption, goes on as it was.
 */
const reportingUnavailable = (
  isUnreachable: (error: unknown) => boolean,
  describe: (reason: string) => string
) =>
<A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E | StoreUnavailable, R> =>
  Layer.catchAllCause(layer, (cause): Layer.Layer<A, E | StoreUnavailable, R> => {
    if (Cause.isInterruptedOnly(cause)) return Layer.failCause(cause)
    const error = Cause.squash(cause)
    return isUnreachable(error) ? Layer.fail(new StoreUnavailable({ message: describe(reasonOf(error)) })) : Layer.failCause(cause)
  })

/** Removes every occurrence of the URL and of its password, raw or decoded, from a driver's message. */
const scrubbed = (url: Redacted.Redacted<string>) => (text: string): string => {
  const raw = Redacted.value(url)
  const password = URL.canParse(raw) ? new URL(raw).password : ""
  let decoded = password
  try {
    decoded = decodeURIComponent(password)
  } catch {
    // a malformed escape: the raw form is the only one a driver could print
  }
  return [raw, password, decoded].filter((secret) => secret !== "").reduce(
    (scrubbing, secret) => scrubbing.split(secret).join("***"),
    text
  )
}

/** Every port on the store `settings` describe, its client, and its migrations; nothing is read from the environment. */
export const storeLayer = (settings: StoreSettings): Layer.Layer<ConfiguredStore, StoreUnavailable> => {
  if (settings.dialect === "pg") {
    const scrub = scrubbed(settings.url)
    return Layer.merge(
      Pg.layer({ url: settings.url }).pipe(
        reportingUnavailable(
          isSqlError,
          (reason) => `cannot connect to PostgreSQL at ${settings.address} (DATABASE_URL): ${scrub(reason)}`
        )
      ),
      Layer.succeed(Migrations, { dialect: "pg", files: Pg.migrations(), lock: Pg.dialect })
    )
  }
  return Layer.merge(
    Sqlite.layer(settings.path).pipe(
      reportingUnavailable(
        (error) => isSqlError(error) || isSystemError(error),
        (reason) => `cannot open SQLite database ${JSON.stringify(settings.path)} (TESSERA_SQLITE_PATH): ${reason}`
      )
    ),
    Layer.succeed(Migrations, { dialect: "sqlite", files: Sqlite.migrations(), lock: Sqlite.dialect })
  )
}

/** The store the environment configures (`StoreConfig`), for a program that needs nothing else from it. */
export const StoreLive: Layer.Layer<ConfiguredStore, ConfigError.ConfigError | StoreUnavailable> = Layer.unwrapEffect(
  Effect.map(StoreConfig, storeLayer)
)

export const up = Effect.flatMap(Migrations, (m) => migrateUp(m.files, m.lock))
export const status = Effect.flatMap(Migrations, (m) => migrationStatus(m.files))
export const verify = Effect.flatMap(Migrations, (m) => verifyMigrations(m.files))
export const isCurrent = Effect.flatMap(Migrations, (m) => schemaIsCurrent(m.files))

/** A store whose schema is not the one this version of Tessera expects. */
export class SchemaNotCurrent extends Data.TaggedError("SchemaNotCurrent")<{ readonly message: string }> {}

/**
 * Stops a program, writing nothing, unless every migration is applied
 * unchanged: a command that is not a migration never migrates.
 */
export const requireCurrentSchema = Effect.flatMap(status, (statuses) => {
  const pending = statuses.filter((s) => s.state === "pending").length
  const broken = statuses.some((s) => s.state !== "applied" && s.state !== "pending")
  return broken
    ? new SchemaNotCurrent({ message: "the store's applied migrations differ from this version's files: run `pnpm migrate verify`" })
    : pending > 0
    ? new SchemaNotCurrent({
      message: `the store's schema is behind (${pending} migration${pending === 1 ? "" : "s"} pending): run \`pnpm migrate up\``
    })
    : Effect.void
})

