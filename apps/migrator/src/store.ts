/**
 * The configured store (SPEC §2), shared by every app's composition root:
 * `TESSERA_STORE` picks the dialect, and nothing else in the apps changes
 * with it. Also carries the dialect's migration files and lock, so the
 * migrator, the server's start-up and `/readyz` all see the same set.
 */
import type { SqlClient } from "@effect/sql"
import type { StorePorts } from "@tessera/store-contract"
import type { Migration, MigrationDialect } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import * as Sqlite from "@tessera/store-sqlite"
import { Config, ConfigError, Context, Effect, Layer, Option } from "effect"

export const StoreConfig = Config.all({
  store: Config.literal("sqlite", "pg")("TESSERA_STORE").pipe(Config.withDefault("sqlite" as const)),
  sqlitePath: Config.nonEmptyString("TESSERA_SQLITE_PATH").pipe(Config.withDefault("./data/tessera.db")),
  databaseUrl: Config.option(Config.redacted("DATABASE_URL"))
})

/** The migration files and lock of the configured dialect. */
export class Migrations extends Context.Tag("Tessera/Migrations")<Migrations, {
  readonly dialect: "sqlite" | "pg"
  readonly files: ReadonlyArray<Migration>
  readonly lock: MigrationDialect
}>() {}

export type ConfiguredStore = StorePorts | SqlClient.SqlClient | Migrations

/** Every port on the configured store, its client, and its migrations. */
export const StoreLive: Layer.Layer<ConfiguredStore, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const config = yield* StoreConfig
    if (config.store === "pg") {
      if (Option.isNone(config.databaseUrl)) {
        return yield* Effect.fail(ConfigError.MissingData(["DATABASE_URL"], "DATABASE_URL is required when TESSERA_STORE=pg"))
      }
      return Layer.merge(
        Pg.layer({ url: config.databaseUrl.value }),
        Layer.succeed(Migrations, { dialect: "pg", files: Pg.migrations(), lock: Pg.dialect })
      )
    }
    return Layer.merge(
      Sqlite.layer(config.sqlitePath),
      Layer.succeed(Migrations, { dialect: "sqlite", files: Sqlite.migrations(), lock: Sqlite.dialect })
    )
  })
)

/** One line naming the variable, for a configuration that cannot be used. */
export const describeConfigError = (error: ConfigError.ConfigError): string =>
  `invalid configuration: ${String(error).replace(/\s+/g, " ").trim()}`
