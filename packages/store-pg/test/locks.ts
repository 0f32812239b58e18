/** Helpers of the PostgreSQL race tests: waiting for what other connections do, and holding a row lock meanwhile. */
import { SqlClient } from "@effect/sql"
import { Clock, Deferred, Effect, Fiber, Schedule } from "effect"

/** Polls (every 20 ms, up to 30 s) until `count` is at least `n`. */
export const until = <R>(count: Effect.Effect<number, never, R>, n: number) =>
  count.pipe(
    Effect.filterOrFail((c) => c >= n),
    Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("30 seconds"))),
    Effect.orDie,
    // the real clock: a test's clock stands still
    Effect.withClock(Clock.make()),
    Effect.asVoid
  )

/** Holds `lock` (a locking statement) in a transaction of its own, locked when this returns; the effect returned commits it. */
export const holding = (lock: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const locked = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const holder = yield* Effect.fork(sql.withTransaction(
      Effect.zipRight(Effect.zipRight(lock(sql), Deferred.succeed(locked, undefined)), Deferred.await(release))
    ).pipe(Effect.orDie))
    yield* Deferred.await(locked)
    return Effect.zipRight(Deferred.succeed(release, undefined), Fiber.join(holder))
  })
