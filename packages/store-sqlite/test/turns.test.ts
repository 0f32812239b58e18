// The one connection's turns: one holder at a time, strictly in arrival order, each release waking exactly the
// next waiter; an interrupted waiter leaves the queue (or passes on a turn it had just been given), so the turn is
// never lost. Through the client: many concurrent transactions on one file all commit.
import { expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { clientLayer } from "../src/index.js"
import { turns } from "../src/transactor.js"

it.effect("200 fibers take their turns one at a time, in the order they asked", () =>
  Effect.gen(function*() {
    const { take } = turns("connection")
    const order: Array<number> = []
    let holders = 0
    let most = 0
    const fibers: Array<Fiber.RuntimeFiber<void>> = []
    for (let i = 0; i < 200; i++) {
      fibers.push(yield* Effect.fork(Effect.scoped(Effect.gen(function*() {
        yield* take
        holders++
        most = Math.max(most, holders)
        order.push(i)
        yield* Effect.yieldNow()
        holders--
      }))))
      if (i === 0) yield* Effect.yieldNow() // the first holds the turn while the rest queue
    }
    yield* Fiber.joinAll(fibers)
    expect(most).toBe(1)
    expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i))
  }))

it.effect("an interrupted waiter leaves the queue; the turn is never lost", () =>
  Effect.gen(function*() {
    const { take } = turns("connection")
    const got: Array<string> = []
    const hold = (name: string) => Effect.scoped(Effect.zipRight(take, Effect.sync(() => void got.push(name))))
    const holder = yield* Effect.fork(Effect.scoped(Effect.zipRight(take, Effect.never)))
    yield* Effect.yieldNow()
    const a = yield* Effect.fork(hold("a"))
    const b = yield* Effect.fork(hold("b"))
    const c = yield* Effect.fork(hold("c"))
    yield* Effect.yieldNow()
    yield* Fiber.interrupt(b)
    yield* Fiber.interrupt(holder)
    yield* Fiber.join(a)
    yield* Fiber.join(c)
    yield* hold("after")
    expect(got).toEqual(["a", "c", "after"])
  }))

it.effect("64 concurrent transactions on one SQLite connection all commit, in order", () =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE turns (n INTEGER NOT NULL)`
    yield* Effect.forEach(
      Array.from({ length: 64 }, (_, i) => i),
      (i) => sql.withTransaction(Effect.zipRight(sql`INSERT INTO turns (n) VALUES (${i})`, Effect.yieldNow())),
      { concurrency: "unbounded", discard: true }
    )
    const rows = yield* sql<{ n: number }>`SELECT n FROM turns ORDER BY rowid`
    expect(rows.map((r) => r.n)).toEqual(Array.from({ length: 64 }, (_, i) => i))
  }).pipe(Effect.provide(Layer.fresh(clientLayer(join(mkdtempSync(join(tmpdir(), "tessera-turns-")), "turns.db")))), Effect.orDie))

it.effect("a synchronous use takes its turn in line with scoped holders and passes it on when it returns or throws", () =>
  Effect.gen(function*() {
    const { during, take } = turns("connection")
    const got: Array<string> = []
    const use = (name: string, fail = false) =>
      during(() => {
        got.push(name)
        if (fail) throw new Error(`${name} failed`)
        return name
      })
    const free = yield* Deferred.make<void>()
    const holder = yield* Effect.fork(Effect.scoped(Effect.zipRight(take, Deferred.await(free))))
    yield* Effect.yieldNow()
    const a = yield* Effect.fork(use("a"))
    const b = yield* Effect.fork(Effect.either(use("b", true)))
    const c = yield* Effect.fork(Effect.scoped(Effect.zipRight(take, Effect.sync(() => void got.push("c:scoped")))))
    yield* Effect.yieldNow()
    // nothing runs while the holder has the turn
    expect(got).toEqual([])
    yield* Deferred.succeed(free, undefined)
    yield* Fiber.join(holder)
    expect(yield* Fiber.join(a)).toBe("a")
    expect((yield* Fiber.join(b))._tag).toBe("Left")
    yield* Fiber.join(c)
    // the thrown use passed the turn on: the next holder got it, in arrival order
    expect(got).toEqual(["a", "b", "c:scoped"])
    expect(yield* use("after")).toBe("after")
  }))
