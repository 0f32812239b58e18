/**
 * Wake-ups for live readers of the event log (the `EventWakeups` port;
 * docs/events.md). One source per process, shared by all its readers, runs
 * only while someone subscribes (and `KEEP_OPEN` after the last one leaves,
 * so readers that come and go do not reopen it each time).
 *
 * - PostgreSQL: the `pg_notify` of each move that numbers queued events
 *   (`newestSeq`, `events.ts`) is delivered at its commit, when those events
 *   become visible, to every session listening on `EVENTS_CHANNEL`; the process holds one
 *   dedicated listening connection (the client's `listen`). Before the first
 *   subscriber is answered, the listener proves it is live by hearing a
 *   notification of its own, so a reader that reads the log after
 *   subscribing cannot miss a later commit. Should that proof fail, the
 *   process polls as SQLite does.
 * - SQLite: no notifications cross processes; the newest `seq`
 *   (`newestSeq`, events.ts) is read every `POLL_INTERVAL` while someone
 *   subscribes, and each change wakes the readers.
 *
 * A wake-up never carries an event: it only says "read the log", so one that
 * is lost or doubled costs latency, never an event.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { EventWakeups } from "@tessera/domain"
import { Deferred, Duration, Effect, Layer, PubSub, RcRef, Schedule, type Scope, Stream } from "effect"
import { EVENTS_CHANNEL, newestSeq } from "./events.js"


/** How often the newest `seq` is read while a reader waits, when nothing notifies. */
export const POLL_INTERVAL = Duration.millis(100)

/** How long the source stays up after its last subscriber leaves. */
const KEEP_OPEN = Duration.seconds(30)

/** How long the listener may take to hear its own notification before the process falls back to polling. */
const LISTEN_PROOF = Duration.seconds(5)

/** What `@effect/sql-pg`'s client adds to `SqlClient`: a stream of one channel's payloads on a dedicated connection. */
interface Listening {
  readonly listen: (channel: string) => Stream.Stream<string, SqlError>
}

const canListen = (sql: SqlClient.SqlClient): sql is SqlClient.SqlClient & Listening =>
  typeof (sql as Partial<Listening>).listen === "function"

const READY = "ready:"

/** Reads the counter every `POLL_INTERVAL`, waking on each change (and on the first read, which is harmless). */
const polling = (sql: SqlClient.SqlClient, wake: Effect.Effect<unknown>): Effect.Effect<void, never, Scope.Scope> => {
  let seen: number | undefined
  const poll = newestSeq(sql).pipe(
    Effect.flatMap((now) => {
      const changed = now !== seen
      seen = now
      return changed ? wake : Effect.void
    }),
    // a failed read (the store briefly away) is simply tried again on the next tick
    Effect.ignore
  )
  return Effect.asVoid(Effect.forkScoped(Effect.repeat(poll, Schedule.spaced(POLL_INTERVAL))))
}

/** Listens on `EVENTS_CHANNEL`, returning once a notification of its own has come back through it. */
const listening = (
  sql: SqlClient.SqlClient & Listening,
  wake: Effect.Effect<unknown>
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    const nonce = `${READY}${Math.random().toString(36).slice(2)}`
    const heard = yield* Deferred.make<void>()
    yield* sql.listen(EVENTS_CHANNEL).pipe(
      Stream.runForEach((payload) =>
        payload === nonce ? Deferred.succeed(heard, undefined) : payload.startsWith(READY) ? Effect.void : wake
      ),
      Effect.catchAllCause((cause) => Effect.logWarning("the event listener stopped; live readers wake on heartbeats", cause)),
      Effect.forkScoped
    )
    // LISTEN is sent by the forked stream: notify until our own notification comes back through it
    const proved = yield* sql`SELECT pg_notify(${EVENTS_CHANNEL}, ${nonce})`.pipe(
      Effect.ignore,
      Effect.zipRight(Deferred.await(heard).pipe(Effect.timeout(Duration.millis(100)))),
      Effect.retry(Schedule.recurUpTo(LISTEN_PROOF)),
      Effect.isSuccess
    )
    if (!proved) {
      yield* Effect.logWarning("no notification came back on the event channel; polling the event log instead")
      yield* polling(sql, wake)
    }
  })

export const EventWakeupsLive = Layer.scoped(
  EventWakeups,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // one pending wake-up per subscriber is enough: it makes the reader read everything committed so far
    const hub = yield* PubSub.sliding<void>(1)
    const wake = PubSub.publish(hub, undefined)
    const source = sql.onDialectOrElse({
      pg: () => (canListen(sql) ? listening(sql, wake) : polling(sql, wake)),
      orElse: () => polling(sql, wake)
    })
    const running = yield* RcRef.make({ acquire: source, idleTimeToLive: KEEP_OPEN })
    return EventWakeups.of({
      subscribe: Effect.gen(function*() {
        const queue = yield* PubSub.subscribe(hub)
        yield* RcRef.get(running)
        return queue
      }),
      newest: Effect.orDie(newestSeq(sql))
    })
  })
)
