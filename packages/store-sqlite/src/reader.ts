/**
 * The SQLite store's `DirectStatements` (store-sql's `hotStatement`): the
 * hottest reads — the permission check's walk, the API key's owner — on a
 * second connection to the same file, run synchronously by better-sqlite3
 * without @effect/sql's span, scope, statement cache and connection turn.
 *
 * `hotStatement` takes this path only outside a transaction, with the
 * tracer off and no statement transformer; the statement is then an
 * autocommit read, and a second connection reads exactly what it would
 * have read on the first once its turn came: everything committed when it
 * runs (WAL mode: a reader sees every commit made before it starts, and no
 * writer's uncommitted rows). It does not wait for the turn of the store's
 * one connection either, so a check is no longer queued behind a write
 * transaction that is waiting on something else; readers do not block
 * writers in WAL mode. The connection is `query_only`: it can never write.
 *
 * Not for `:memory:`, where a second connection would open another,
 * empty database.
 */
import { SqlError } from "@effect/sql/SqlError"
import { DirectStatements, directStatements } from "@tessera/store-sql"
import Database from "better-sqlite3"
import { Effect, Layer } from "effect"
import { preparedOn } from "./prepared.js"

export const readerLayer = (filename: string, busyTimeoutMs: number): Layer.Layer<DirectStatements> =>
  Layer.scoped(
    DirectStatements,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => {
          const db = new Database(filename)
          db.pragma(`busy_timeout = ${busyTimeoutMs}`)
          db.pragma("query_only = ON")
          return db
        }),
        (db) => Effect.sync(() => db.close())
      ),
      (db) => {
        const statementOf = preparedOn(db)
        // synchronous: `done` is called before `runWith` returns
        return directStatements((text, params, done) => {
          let rows: ReadonlyArray<Record<string, unknown>>
          try {
            rows = statementOf(text).all(...params) as ReadonlyArray<Record<string, unknown>>
          } catch (cause) {
            return done(new SqlError({ cause, message: "Failed to execute statement" }), [])
          }
          done(undefined, rows)
        })
      }
    )
  ).pipe(Layer.orDie)
