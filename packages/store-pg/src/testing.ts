/**
 * Test support: a fresh PostgreSQL database per suite on the server named by
 * `TESSERA_TEST_PG_URL` (default the local `test` database), dropped after.
 * An unreachable server fails the suite; it is never skipped silently.
 *
 * With `TESSERA_TEST_PG_SYNCHRONOUS_COMMIT=off` (the vitest settings set it,
 * docs/testing.md) a test database commits without waiting for the disk:
 * what a transaction sees and when it conflicts are unchanged, only a crash
 * of the server could lose the last commits of data dropped after the suite.
 * Unset (the benchmarks), a database is durable as in production.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Redacted } from "effect"
import { clientLayer } from "./index.js"

export const adminUrl = process.env["TESSERA_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/test"

const withDatabaseName = (url: string, name: string) => {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/** Creates an empty database and returns its URL; drops it when the scope closes. */
export const freshDatabase = Effect.gen(function*() {
  const name = `tessera_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = clientLayer({ url: Redacted.make(adminUrl), maxConnections: 1 })
  const run = (...statements: ReadonlyArray<string>) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.forEach(statements, (statement) => sql.unsafe(statement))).pipe(
      Effect.provide(admin),
      Effect.orDie
    )
  const durability = process.env["TESSERA_TEST_PG_SYNCHRONOUS_COMMIT"] === "off"
    ? [`ALTER DATABASE ${name} SET synchronous_commit = off`]
    : []
  yield* Effect.acquireRelease(
    run(`CREATE DATABASE ${name}`, ...durability),
    () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  )
  return Redacted.make(withDatabaseName(adminUrl, name))
})

/** A layer providing the URL of a fresh database for the layer's lifetime. */
export const freshDatabaseLayer = <I, S>(use: (url: Redacted.Redacted<string>) => Layer.Layer<I, never, S>) =>
  Layer.unwrapScoped(Effect.map(freshDatabase, use))
