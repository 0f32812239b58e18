/**
 * What a store's connections are doing, for the server's `/metrics`: each
 * store provides it beside its `SqlClient`. Reading it costs a few field
 * reads; it never touches a connection. And a store's shortcut to its
 * connections for the hottest statement (`DirectStatements`).
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import { Context, Effect, type Fiber, FiberRef, type Option } from "effect"

export interface PoolUsageSnapshot {
  /** Connections the store may open. */
  readonly max: number
  /** Connections open now. */
  readonly open: number
  /** Of those, the ones running a statement or a transaction. */
  readonly inUse: number
  /** Statements or transactions waiting for a connection. */
  readonly waiting: number
}

export class PoolUsage extends Context.Tag("Tessera/PoolUsage")<PoolUsage, { readonly read: () => PoolUsageSnapshot }>() {}

/**
 * A store's own way to run one statement straight on a pooled connection,
 * for the permission check's walk (`hotStatement`). Provided by the
 * PostgreSQL store; without it every statement goes through `SqlClient`.
 */
export class DirectStatements extends Context.Tag("Tessera/DirectStatements")<DirectStatements, {
  readonly run: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError>
  /**
   * The same statement without the runtime (`HotReads`): `done` is called
   * once, with the error or the rows — at once where the driver is
   * synchronous (SQLite), when the answer arrives otherwise.
   */
  readonly runWith: (text: string, params: ReadonlyArray<unknown>, done: DirectDone) => void
}>() {}

/**
 * A connection of the store's own for numbering the event queue after
 * commits (`numberingAfterCommit`, transactor.ts), outside the pool: a
 * writer that has committed never waits behind new work for a pooled
 * connection before it can answer. `run` numbers the queue once
 * (`NUMBERING_TEXT`); interrupted, its statement is abandoned with its
 * connection, and the next run opens another. Provided by the PostgreSQL
 * store; without it the numbering goes through `SqlClient`.
 */
export class NumberingConnection extends Context.Tag("Tessera/NumberingConnection")<NumberingConnection, {
  readonly run: Effect.Effect<void, unknown>
}>() {}

/** How `DirectStatements.runWith` answers: an error, or the rows. */
export type DirectDone = (error: SqlError | undefined, rows: ReadonlyArray<Record<string, unknown>>) => void

/** A store's `DirectStatements` from its `runWith`: `run` is the same statement as an effect. */
export const directStatements = (
  runWith: (text: string, params: ReadonlyArray<unknown>, done: DirectDone) => void
): Context.Tag.Service<DirectStatements> => ({
  runWith,
  run: (text, params) =>
    Effect.async((resume) => runWith(text, params, (error, rows) => resume(error === undefined ? Effect.succeed(rows) : Effect.fail(error))))
})

/**
 * Whether nothing would see a statement of `fiber`'s go around @effect/sql:
 * outside a transaction, with the tracer off and no statement transformer.
 */
export const unobserved = (fiber: Fiber.RuntimeFiber<unknown, unknown>) =>
  !fiber.getFiberRef(FiberRef.currentTracerEnabled) && fiber.getFiberRef(Statement.currentTransformer)._tag === "None" &&
  Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)._tag === "None"

/**
 * Runs `text` with `params` as `sql.unsafe` would, but through the store's
 * `DirectStatements` when nothing would see the difference: outside a
 * transaction (inside one it must run on the transaction's connection),
 * with the tracer off (on, it keeps its `sql.execute` span,
 * docs/operations.md#logs-traces-and-metrics) and no statement transformer
 * (`meterStatements` counts every statement). @effect/sql's own path builds
 * a span, a scope and a connection wrapper per statement even then, which
 * was most of Tessera's time per check beyond the driver's
 * (docs/performance.md#the-check-path).
 */
export const hotStatement = (sql: SqlClient.SqlClient, direct: Option.Option<Context.Tag.Service<DirectStatements>>) =>
  direct._tag === "None"
    ? (text: string, params: ReadonlyArray<unknown>) => sql.unsafe<Record<string, unknown>>(text, params)
    : (text: string, params: ReadonlyArray<unknown>) =>
      Effect.withFiberRuntime<ReadonlyArray<Record<string, unknown>>, SqlError>((fiber) =>
        unobserved(fiber) ? direct.value.run(text, params) : sql.unsafe<Record<string, unknown>>(text, params)
      )
