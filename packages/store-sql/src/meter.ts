/**
 * Measures what a program asks of the database: how many statements it
 * runs and the most parameters any one of them binds (through @effect/sql's
 * statement transformer, so every statement of every port is seen,
 * transactions included). For tests and benchmarks; no store imports it,
 * and it never changes a statement.
 */
import * as Statement from "@effect/sql/Statement"
import { Effect } from "effect"

export interface StatementCounts {
  readonly statements: number
  /** The most parameters one statement bound. */
  readonly maxParams: number
}

/** Runs `program` and returns its result with the statements it ran. */
export const meterStatements = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    let statements = 0
    let maxParams = 0
    return Statement.withTransformer(program, (statement) =>
      Effect.sync(() => {
        statements++
        maxParams = Math.max(maxParams, statement.compile()[1].length)
        return statement
      })).pipe(Effect.map((result) => ({ result, counts: { statements, maxParams } as StatementCounts })))
  })
