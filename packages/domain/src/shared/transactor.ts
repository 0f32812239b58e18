/**
 * The one transaction port. A use case that writes wraps its whole program
 * in `Transactor.run`: every write it makes through the ports (including its
 * cascades and its events) commits together or not at all. Nested calls join
 * the outer transaction.
 */
import { Context, Effect } from "effect"

export class Transactor extends Context.Tag("Tessera/Transactor")<Transactor, {
  readonly run: <A, E, R>(program: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}>() {
  static readonly run = <A, E, R>(program: Effect.Effect<A, E, R>): Effect.Effect<A, E, R | Transactor> =>
    Effect.flatMap(Transactor, (tx) => tx.run(program))
}
