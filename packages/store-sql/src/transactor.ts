/**
 * The Transactor port over `SqlClient.withTransaction`. How a transaction
 * begins is the client's business: the SQLite store's client begins
 * `IMMEDIATE`, PostgreSQL's runs READ COMMITTED with guarded writes.
 * Database failures inside a transaction are defects; the rollback happens
 * either way.
 */
import { SqlClient } from "@effect/sql"
import { Transactor } from "@tessera/domain"
import { Effect, Layer, Predicate } from "effect"

export const TransactorLive = Layer.effect(
  Transactor,
  Effect.map(SqlClient.SqlClient, (sql) =>
    Transactor.of({
      run: <A, E, R>(program: Effect.Effect<A, E, R>) =>
        sql.withTransaction(program).pipe(
          Effect.catchIf((e): e is never => Predicate.isTagged(e, "SqlError"), (e) => Effect.die(e))
        ) as Effect.Effect<A, E, R>
    }))
)
