// Runs the event feed contract (wake-ups on commit, `newest`, who reads which events) on a fresh PostgreSQL database, and shows
// with real parallel transactions that appenders do not wait for each other and that `seq`s are given at commit: an open
// appender holds no seq, so one that commits after it gets the next seq, and the open one's event comes after it once it
// commits; a reader never sees seq n+1 without seq n (docs/events.md#ordering).
import { describe, expect, layer } from "@effect/vitest"
import { EventLog, Transactor } from "@tessera/domain"
import { eventFeedContract } from "@tessera/store-contract/eventFeed"
import { migrateUp } from "@tessera/store-sql"
import { Deferred, Duration, Effect, Fiber, Layer } from "effect"
import { dialect, layer as pgLayer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

const store = freshDatabaseLayer((url) =>
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(pgLayer({ url, maxConnections: 4 })), Layer.orDie)
)

eventFeedContract("pg", store)

const at = () => new Date().toISOString() as never

layer(store, { timeout: "60 seconds", excludeTestServices: true })("pg event log ordering", (it) => {
  describe("two appenders in parallel transactions", () => {
    it.effect("the second commits while the first is open and gets the next seq; the first's comes after it; a reader only ever sees a gap-free prefix", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const base = (yield* log.list({ after: 0, limit: 1000 })).at(-1)?.seq ?? 0
        const seen: Array<ReadonlyArray<number>> = []
        let finished = false
        // a reader on its own connection, reading throughout
        const reader = yield* Effect.fork(
          log.list({ after: base, limit: 1000 }).pipe(
            Effect.tap((events) => Effect.sync(() => seen.push(events.map((e) => e.seq)))),
            Effect.zipRight(Effect.sleep(Duration.millis(10))),
            Effect.repeat({ until: () => finished && seen.at(-1)?.length === 2 })
          )
        )
        const commits: Array<string> = []
        const firstAppended = yield* Deferred.make<void>()
        const releaseFirst = yield* Deferred.make<void>()
        // the first appends and holds its transaction open
        const first = yield* Effect.fork(Transactor.run(Effect.gen(function*() {
          yield* log.append(at(), [{ type: "test.first", actor: "system", data: {} }])
          yield* Deferred.succeed(firstAppended, undefined)
          yield* Deferred.await(releaseFirst)
        })).pipe(Effect.ensuring(Effect.sync(() => commits.push("first")))))
        yield* Deferred.await(firstAppended)
        // the second appends and commits at once: no lock of the first's is in its way
        const secondAppended = yield* Deferred.make<void>()
        const second = yield* Effect.fork(Transactor.run(Effect.gen(function*() {
          yield* log.append(at(), [{ type: "test.second", actor: "system", data: {} }])
          yield* Deferred.succeed(secondAppended, undefined)
        })).pipe(Effect.ensuring(Effect.sync(() => commits.push("second")))))
        yield* Fiber.join(second)
        const secondWaited = !(yield* Deferred.isDone(secondAppended))
        const whileOpen = (yield* log.list({ after: base, limit: 1000 })).map((e) => [e.seq - base, e.type])
        yield* Deferred.succeed(releaseFirst, undefined)
        yield* Fiber.join(first)
        finished = true
        yield* Fiber.join(reader)

        const appended = yield* log.list({ after: base, limit: 1000 })
        expect({
          secondWaited,
          whileOpen,
          commits,
          appended: appended.map((e) => [e.seq - base, e.type]),
          // every read was a prefix of the final log: base+1 alone, or base+1 and base+2, never base+2 alone
          reads: [...new Set(seen.map((s) => s.map((n) => n - base).join(",")))].filter((s) => !["", "1", "1,2"].includes(s))
        }).toEqual({
          secondWaited: false,
          whileOpen: [[1, "test.second"]],
          commits: ["second", "first"],
          appended: [[1, "test.second"], [2, "test.first"]],
          reads: []
        })
      }))
  })
})
