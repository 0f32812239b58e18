/**
 * The Transactor port over `SqlClient.withTransaction`. How a transaction
 * begins is the client's business: the SQLite store's client begins
 * `IMMEDIATE`, PostgreSQL's runs READ COMMITTED with guarded writes and row
 * locks. The program runs with `InTransaction` provided — the evidence every
 * port write requires. Database failures inside a transaction are defects;
 * the rollback happens either way.
 *
 * PostgreSQL may still pick a transaction as a deadlock victim (two admins
 * deleting each other, each holding their own row) or fail one on a
 * serialization conflict. The outermost transaction is then rolled back and
 * run again from the start, at most `ATTEMPTS` times: the rerun reads the
 * winner's committed state, so it decides afresh instead of answering 500.
 * Nested calls join the outer transaction and never retry on their own.
 *
 * On PostgreSQL a transaction's appends are queued, not numbered
 * (`events.ts`; docs/events.md): after the outermost transaction that
 * appended commits, it numbers the queue (`newestSeq`) before answering.
 * Commits that land together share numberings (`coalesced.ts`): each waits
 * for one that began after it committed, and a process runs one at a time,
 * so concurrent writers do not queue a numbering each on its lock. It runs
 * on the store's own connection (`NumberingConnection`) where it has one and
 * nothing observes statements, so that it never waits for a pooled
 * connection. A failure there is ignored: the events are committed, and
 * every reader numbers the queue before it reads.
 */
import { SqlClient } from "@effect/sql"
import { InTransaction, Transactor } from "@tessera/domain"
import { Cause, type Context, Effect, Layer, Option, Predicate } from "effect"
import { coalesced } from "./coalesced.js"
import { EventsQueued, newestSeq } from "./events.js"
import { NumberingConnection, unobserved } from "./pool.js"

export const ATTEMPTS = 4

/** How long one numbering after commit may take before its waiters answer without it (readers number anyway). */
const NUMBERING_BOUND = "10 seconds"

const RETRYABLE = new Set(["40P01", "40001"])

/** Whether a defect is a PostgreSQL deadlock or serialization failure. */
export const isRetryable = (defect: unknown): boolean => {
  if (!Predicate.isTagged(defect, "SqlError")) return false
  const cause = (defect as { cause?: { code?: unknown } }).cause
  return typeof cause?.code === "string" && RETRYABLE.has(cause.code)
}

const numberings = new WeakMap<SqlClient.SqlClient, Effect.Effect<void>>()

/**
 * What a writer runs after a commit that queued events, before it answers: on PostgreSQL the numbering of the
 * queue, one at a time per client, serving every commit that came before it began (`coalesced.ts`); nothing on
 * SQLite, whose appends are numbered in their transaction.
 */
export const numberingAfterCommit = (
  sql: SqlClient.SqlClient,
  own: Option.Option<Context.Tag.Service<NumberingConnection>>
): Effect.Effect<void> => {
  // one per client, so that a process runs one numbering at a time: every caller has the same store's services
  const known = numberings.get(sql)
  if (known !== undefined) return known
  // on the store's own connection where it has one and nothing observes statements (a span, a transformer)
  const work = own._tag === "None"
    ? newestSeq(sql)
    : Effect.withFiberRuntime<unknown, unknown>((fiber) => (unobserved(fiber) ? own.value.run : newestSeq(sql)))
  const numbering = sql.onDialectOrElse({ pg: () => coalesced(work, NUMBERING_BOUND), orElse: () => Effect.void })
  numberings.set(sql, numbering)
  return numbering
}

const evidence = InTransaction.of({ _tag: "InTransaction" })

export const TransactorLive = Layer.effect(
  Transactor,
  Effect.map(Effect.all([SqlClient.SqlClient, Effect.serviceOption(NumberingConnection)]), ([sql, own]) => {
    const once = <A, E, R>(program: Effect.Effect<A, E, R>) =>
      sql.withTransaction(Effect.provideService(program, InTransaction, evidence)).pipe(
        Effect.catchIf((e): e is never => Predicate.isTagged(e, "SqlError"), (e) => Effect.die(e))
      ) as Effect.Effect<A, E, Exclude<R, InTransaction>>
    const attempt = <A, E, R>(program: Effect.Effect<A, E, R>, left: number): Effect.Effect<A, E, Exclude<R, InTransaction>> =>
      once(program).pipe(
        Effect.catchAllCause((cause) => {
          const defect = Cause.dieOption(cause)
          return left > 1 && Option.isSome(defect) && isRetryable(defect.value)
            ? Effect.zipRight(Effect.sleep(`${(ATTEMPTS - left + 1) * 5} millis`), attempt(program, left - 1))
            : Effect.failCause(cause)
        })
      )
    const numberQueued = numberingAfterCommit(sql, own)
    const outermost = <A, E, R>(program: Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        const queued = { value: false }
        return attempt(Effect.provideService(program, EventsQueued, queued), ATTEMPTS).pipe(
          Effect.tap(() => (queued.value ? numberQueued : Effect.void))
        )
      })
    return Transactor.of({
      run: <A, E, R>(program: Effect.Effect<A, E, R>) =>
        Effect.serviceOption(InTransaction).pipe(
          Effect.flatMap((outer) =>
            Option.isSome(outer) ? (program as Effect.Effect<A, E, Exclude<R, InTransaction>>) : outermost(program)
          )
        )
    })
  })
)
