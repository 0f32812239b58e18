/**
 * @tessera/migrator — applies and verifies the configured store's
 * migrations, and owns the configured store for the other apps.
 */
import { migrateUp, migrationStatus, schemaIsCurrent, verifyMigrations } from "@tessera/store-sql"
import { Effect } from "effect"
import { Migrations } from "./store.js"

export * from "./store.js"

export const up = Effect.flatMap(Migrations, (m) => migrateUp(m.files, m.lock))
export const status = Effect.flatMap(Migrations, (m) => migrationStatus(m.files))
export const verify = Effect.flatMap(Migrations, (m) => verifyMigrations(m.files))
export const isCurrent = Effect.flatMap(Migrations, (m) => schemaIsCurrent(m.files))
