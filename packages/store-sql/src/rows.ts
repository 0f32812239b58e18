/** Row codecs shared by both dialects: text times, integer booleans, JSON text. */
import type { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"

/** An integer column: a number on SQLite, possibly a string (int8) on PostgreSQL. */
export const DbInt = Schema.Union(Schema.Int, Schema.NumberFromString.pipe(Schema.int()))

export const CountRow = Schema.Struct({ n: DbInt })

/**
 * Takes a row lock held to the end of the transaction: `FOR UPDATE` on
 * PostgreSQL; on SQLite a write transaction already holds the database's
 * write lock, so reading the row is enough.
 */
export const lockRow = (sql: SqlClient.SqlClient, table: "users" | "workspaces" | "resources", id: string) =>
  sql.onDialectOrElse({
    pg: () => sql`SELECT id FROM ${sql(table)} WHERE id = ${id} FOR UPDATE`,
    orElse: () => sql`SELECT id FROM ${sql(table)} WHERE id = ${id}`
  }).pipe(Effect.asVoid, Effect.orDie)
