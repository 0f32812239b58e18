/** Row codecs shared by both dialects: text times, integer booleans, JSON text. */
import type { SqlClient } from "@effect/sql"
import { writing } from "@tessera/domain"
import { Effect, Schema } from "effect"

/** An integer column: a number on SQLite, possibly a string (int8) on PostgreSQL. */
export const DbInt = Schema.Union(Schema.Int, Schema.NumberFromString.pipe(Schema.int()))

export const CountRow = Schema.Struct({ n: DbInt })

/**
 * Takes a row lock held to the end of the transaction: `FOR UPDATE` on
 * PostgreSQL; on SQLite a write transaction already holds the database's
 * write lock, so reading the row is enough. Only inside a transaction.
 */
export const lockRow = (sql: SqlClient.SqlClient, table: "users" | "workspaces" | "resources", id: string) =>
  writing(
    sql.onDialectOrElse({
      pg: () => sql`SELECT id FROM ${sql(table)} WHERE id = ${id} FOR UPDATE`,
      orElse: () => sql`SELECT id FROM ${sql(table)} WHERE id = ${id}`
    }).pipe(Effect.asVoid, Effect.orDie)
  )

/** `FOR SHARE` on PostgreSQL (concurrent holders, writers wait); a plain read on SQLite. */
export const shareLock = (sql: SqlClient.SqlClient) =>
  sql.onDialectOrElse({ pg: () => sql` FOR SHARE`, orElse: () => sql`` })

/**
 * Makes the named members of a port refuse to run outside a transaction
 * (the port's types already demand `InTransaction`; this holds at run time
 * too, should a cast get past them).
 */
export const transactional = <S extends object>(service: S, writes: ReadonlyArray<keyof S>): S => {
  const wrapped = { ...service } as Record<PropertyKey, unknown>
  for (const name of writes) {
    const member = service[name] as unknown
    wrapped[name as PropertyKey] = Effect.isEffect(member)
      ? writing(member)
      : (...args: Array<unknown>) => writing((member as (...a: Array<unknown>) => Effect.Effect<unknown>)(...args))
  }
  return wrapped as S
}
