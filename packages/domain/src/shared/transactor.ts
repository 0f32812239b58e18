/**
 * The one transaction port. A use case that writes wraps its whole program
 * — reads, permission checks and writes — in `Transactor.run`: every write
 * it makes through the ports (including its cascades and its events)
 * commits together or not at all. Nested calls join the outer transaction.
 *
 * Every port method that writes requires `InTransaction`, and only
 * `Transactor.run` provides it: a write outside a transaction does not
 * type-check (and, should a cast force it, fails at run time).
 */
import { Context, Effect } from "effect"

/** Evidence that the program runs inside a store transaction. */
export class InTransaction extends Context.Tag("Tessera/InTransaction")<InTransaction, {
  readonly _tag: "InTransaction"
}>() {}

export class Transactor extends Context.Tag("Tessera/Transactor")<Transactor, {
  readonly run: <A, E, R>(program: Effect.Effect<A, E, R>) => Effect.Effect<A, E, Exclude<R, InTransaction>>
}>() {
  static readonly run = <A, E, R>(
    program: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E, Exclude<R, InTransaction> | Transactor> => Effect.flatMap(Transactor, (tx) => tx.run(program))
}

/** For adapters: requires `InTransaction` before running a write. */
export const writing = <A, E, R>(write: Effect.Effect<A, E, R>): Effect.Effect<A, E, R | InTransaction> =>
  Effect.zipRight(InTransaction, write)
