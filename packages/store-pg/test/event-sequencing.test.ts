// The event log's sequencing under real concurrency on PostgreSQL (docs/events.md#ordering): writers on many connections
// append at once, some holding their transaction open a while and some rolling back, while readers on other connections page
// through the log from where they last stopped. Every reader's seqs are consecutive (no gap it has passed is ever filled
// behind it) and, at the end, the whole log; every committed append is in the log once, its events consecutive and in order;
// no rolled-back event is.
import { describe, expect, layer } from "@effect/vitest"
import { EventLog, Transactor } from "@tessera/domain"
import { SqlClient } from "@effect/sql"
import { migrateUp } from "@tessera/store-sql"
import { Deferred, Duration, Effect, Layer } from "effect"
import { dialect, layer as pgLayer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

const store = freshDatabaseLayer((url) =>
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(pgLayer({ url, maxConnections: 16 })), Layer.orDie)
)

const WRITERS = 12
const APPENDS = 25
/** Two readers at the head of the log (everything visible each read) and one paging behind it. */
const READ_LIMITS = [1000, 1000, 7]
const at = () => new Date().toISOString() as never

class RolledBack {
  readonly _tag = "RolledBack"
}

layer(store, { timeout: "180 seconds", excludeTestServices: true })("pg event sequencing under concurrency", (it) => {
  describe("many writers and paging readers at once", () => {
    it.effect("readers see consecutive seqs and finally the whole log; every committed append once, in order; no rolled-back one", () =>
      Effect.gen(function*() {
        const log = yield* EventLog
        const base = (yield* log.list({ after: 0, limit: 10_000 })).at(-1)?.seq ?? 0
        let writing = WRITERS
        const committed: Array<string> = []
        const writer = (w: number) =>
          Effect.forEach(Array.from({ length: APPENDS }, (_, i) => i), (i) => {
            const id = `${w}.${i}`
            const size = 1 + ((w + i) % 3)
            const rollback = (w * APPENDS + i) % 7 === 3
            return Transactor.run(Effect.gen(function*() {
              yield* log.append(at(), Array.from({ length: size }, (_, k) => ({ type: "test.seq", actor: "system", data: { id, k, size } })))
              // some hold their transaction open while others commit around them
              if (i % 4 === w % 4) yield* Effect.sleep(Duration.millis(5 + (i % 3) * 10))
              if (rollback) return yield* Effect.fail(new RolledBack())
            })).pipe(
              Effect.tap(() => Effect.sync(() => committed.push(id))),
              Effect.catchTag("RolledBack", () => Effect.void)
            )
          }).pipe(Effect.ensuring(Effect.sync(() => writing--)))
        const reader = (limit: number) => Effect.gen(function*() {
          const seen: Array<number> = []
          let after = base
          // until a read that began after every writer finished finds nothing more
          while (true) {
            const done = writing === 0
            const page = yield* log.list({ after, limit })
            seen.push(...page.map((e) => e.seq))
            if (page.length > 0) after = page.at(-1)!.seq
            else if (done) return seen
            else yield* Effect.yieldNow()
          }
        })
        const [, reads] = yield* Effect.all([
          Effect.all(Array.from({ length: WRITERS }, (_, w) => writer(w)), { concurrency: "unbounded" }),
          Effect.all(READ_LIMITS.map(reader), { concurrency: "unbounded" })
        ], { concurrency: "unbounded" })

        const all = yield* log.list({ after: base, limit: 10_000 });
        const seqs = all.map((e) => e.seq)
        const consecutive = (xs: ReadonlyArray<number>) => xs.every((x, i) => x === base + 1 + i)
        const runs = new Map<string, Array<{ seq: number; k: number; size: number }>>()
        for (const e of all) {
          const { id, k, size } = e.data as { id: string; k: number; size: number }
          runs.set(id, [...(runs.get(id) ?? []), { seq: e.seq, k, size }])
        }
        const inOrder = [...runs.values()].every((run) =>
          run.length === run[0]!.size && run.every((r, k) => r.k === k && r.seq === run[0]!.seq + k)
        )
        expect({
          logConsecutive: consecutive(seqs),
          readersConsecutive: reads.map(consecutive),
          readersSawAll: reads.map((r) => r.length === seqs.length),
          appends: [...runs.keys()].sort(),
          inOrder
        }).toEqual({
          logConsecutive: true,
          readersConsecutive: reads.map(() => true),
          readersSawAll: reads.map(() => true),
          appends: [...committed].sort(),
          inOrder: true
        })
        expect(committed.length).toBeLessThan(WRITERS * APPENDS)
        expect(committed.length).toBeGreaterThan(0)
      }))
  })
})

// Within one numbering move the log follows commit order where commit order is visible: a transaction that appends after
// another has committed comes after it, even when it took its transaction id first (an id is assigned at a transaction's
// first write, not at its commit).
layer(store, { timeout: "60 seconds", excludeTestServices: true })("pg event numbering within one move", (it) => {
  it.effect("an append made after another transaction committed is numbered after it, whatever the transaction ids", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const log = yield* EventLog
      const base = (yield* log.list({ after: 0, limit: 10_000 })).at(-1)?.seq ?? 0
      const queue = (name: string) =>
        sql`INSERT INTO event_queue (type, at, actor, data) VALUES ('test.order', ${at()}, 'system', ${JSON.stringify({ name })})`
      const earlyIdTaken = yield* Deferred.make<void>()
      const laterCommitted = yield* Deferred.make<void>()
      // the first transaction takes its id (pg_current_xact_id gives it one, as a first write would), waits for the
      // second to commit, then appends and commits
      const first = sql.withTransaction(Effect.gen(function*() {
        yield* sql`SELECT pg_current_xact_id()`
        yield* Deferred.succeed(earlyIdTaken, undefined)
        yield* Deferred.await(laterCommitted)
        yield* queue("appended last")
      }))
      const second = Effect.gen(function*() {
        yield* Deferred.await(earlyIdTaken)
        yield* sql.withTransaction(queue("committed first"))
        yield* Deferred.succeed(laterCommitted, undefined)
      })
      // neither transaction numbers: one move after both takes them together
      yield* Effect.all([first, second], { concurrency: "unbounded" })
      const events = yield* log.list({ after: base, limit: 10 })
      expect(events.map((e) => e.data["name"])).toEqual(["committed first", "appended last"])
    }))
})

// Writers that commit together share the numbering after their commits (coalesced.ts), yet each answers only once its
// own events are numbered: read straight from `events`, without the numbering every reader runs first, they are there.
layer(store, { timeout: "120 seconds", excludeTestServices: true })("pg numbering after concurrent commits", (it) => {
  it.effect("each of 48 concurrent writers finds its events numbered in the log the moment it answers", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const log = yield* EventLog
      const numbered = (id: string) =>
        Effect.map(sql<{ n: unknown }>`SELECT count(*) AS n FROM events WHERE type = 'test.shared' AND data::jsonb ->> 'id' = ${id}`,
          (rows) => Number(rows[0]!.n))
      const counts = yield* Effect.forEach(Array.from({ length: 48 }, (_, i) => `w${i}`), (id) =>
        Effect.gen(function*() {
          yield* Transactor.run(log.append(at(), [{ type: "test.shared", actor: "system", data: { id } }, { type: "test.shared", actor: "system", data: { id } }]))
          return yield* numbered(id)
        }), { concurrency: "unbounded" })
      expect(counts).toEqual(Array.from({ length: 48 }, () => 2))
      const numberings = yield* sql<{ n: unknown }>`SELECT count(*) AS n FROM event_queue`
      expect(Number(numberings[0]!.n)).toBe(0)
    }))
})
