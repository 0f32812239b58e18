/**
 * A move under load, on one store at a time (run by `run.ts` for both): a subtree of 1k resources moves back and
 * forth between two parents in one tree (`moveResource`, the use case, one transaction each) while 16 clients
 * check permissions on nodes inside it (`check`, one at a time each, as fast as they can). Reports the moves'
 * p50 and p99 and their ratio (the target: p99 ≤ 3× p50), and the checks answered meanwhile. Every answer is
 * verified — a check inside the moving subtree must find the reader's role at the top of the tree wherever the
 * subtree hangs — so a move that let a check see a broken path would fail the run, not just slow it. A full run
 * times at least 400 moves and at least 5 seconds of them: 400 SQLite moves take under a second, and a p99 read
 * off one second is whatever passing hiccup the machine had then.
 *
 * The data is written through the raw `ResourceStore.insert` port in one transaction (the use case would check
 * permissions and append an event per node); everything measured goes through the use cases. Each store runs on
 * a fresh database of its own (PostgreSQL with a pool large enough for every client at once: 16 checkers and
 * the mover never wait on the pool, only on each other). Asserts nothing about speed.
 */
import {
  check,
  createResource,
  createWorkspace,
  grantAccess,
  moveResource,
  SystemActor,
  type UserId
} from "@tessera/domain"
import { migrateUp } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import { freshDatabase } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { Effect, Fiber, Layer } from "effect"
import { bulkSubtree, newUser } from "./setup.js"

const STEM = "move-bench"

export const CHECKERS = 16
export const SUBTREE = 1_000

export interface MoveRow {
  readonly store: string
  readonly moves: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  /** p99 over p50; the target is ≤ 3. */
  readonly ratio: number
  /** Checks answered per second by the 16 clients while the moves ran. */
  readonly checksPerSecond: number
  readonly checkP50: number
  readonly checkP99: number
}

/** One turn of the event loop (`setImmediate`: after pending I/O and timers, without a timer's 1 ms floor). */
const nextTurn = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN

/**
 * The workload on the store the environment provides: a root holding two parents, the subtree under the first;
 * each checker a reader of the root. `moves` timed moves after `warmup` untimed ones.
 */
export const moveUnderLoad = (store: string, moves: number, warmup: number, minSeconds = 0) =>
  Effect.gen(function*() {
    const owner = yield* newUser(STEM)
    const checkers: Array<UserId> = []
    for (let i = 0; i < CHECKERS; i++) checkers.push((yield* newUser(STEM)).user.id)
    const space = (yield* createWorkspace(owner, { name: "bench moves under load" })).id
    const root = yield* createResource(owner, space, { title: "root" })
    const parents = [
      (yield* createResource(owner, space, { title: "parent a", parent_id: root.id })).id,
      (yield* createResource(owner, space, { title: "parent b", parent_id: root.id })).id
    ] as const
    const moving = (yield* createResource(owner, space, { title: "moving subtree", parent_id: parents[0] })).id
    const nodes = [moving, ...(yield* bulkSubtree(space, moving, SUBTREE - 1))]
    for (const user of checkers) yield* grantAccess(owner, root.id, user, "reader")

    let running = true
    let checks = 0
    const checkSamples: Array<number> = []
    const checker = (k: number) =>
      Effect.gen(function*() {
        let i = k * 7919
        while (running) {
          const resource = nodes[(i = (i + 104729) % nodes.length)]!
          const started = performance.now()
          const [answer] = yield* check(SystemActor, [{ user_id: checkers[k]!, resource_id: resource, action: "read" }])
          if (checkSamples.length < 200_000) checkSamples.push(performance.now() - started)
          checks++
          if (answer?.role !== "reader") return yield* Effect.dieMessage(`${store}: ${checkers[k]} on ${resource} during a move: ${answer?.role ?? "no role"}`)
          // each client waits a turn of the event loop before asking again, as one over the network would
          // (better-sqlite3 answers synchronously: without it the checks would run as one endless task)
          yield* nextTurn
        }
      })
    const load = yield* Effect.fork(Effect.forEach(checkers, (_, k) => checker(k), { concurrency: "unbounded", discard: true }))
    while (checks < CHECKERS) yield* Effect.sleep("1 millis") // every client under way before the first move

    const samples: Array<number> = []
    let turn = 0
    const move = () => moveResource(owner, moving, { targetId: parents[++turn % 2]!, position: "last-child", dryRun: false })
    for (let i = 0; i < warmup; i++) yield* Effect.zipRight(Effect.sleep("1 millis"), move())
    const checksBefore = checks
    const started = performance.now()
    // at least `moves`, and at least `minSeconds` of them: a p99 read off a second of moves is one passing hiccup
    for (let i = 0; i < moves || performance.now() - started < minSeconds * 1000; i++) {
      // a moment between moves, as a client's next request would leave (and the event loop turns for the checks)
      yield* Effect.sleep("1 millis")
      const t = performance.now()
      const report = yield* move()
      samples.push(performance.now() - t)
      if (report.scope_changed) return yield* Effect.dieMessage("the bench's moves stay in one tree")
    }
    const seconds = (performance.now() - started) / 1000
    const answered = checks - checksBefore
    running = false
    yield* Fiber.join(load)

    samples.sort((a, b) => a - b)
    checkSamples.sort((a, b) => a - b)
    const p50 = percentile(samples, 0.5)
    const p99 = percentile(samples, 0.99)
    return {
      store,
      moves: samples.length,
      p50,
      p99,
      max: samples[samples.length - 1]!,
      ratio: p99 / p50,
      checksPerSecond: answered / seconds,
      checkP50: percentile(checkSamples, 0.5),
      checkP99: percentile(checkSamples, 0.99)
    } satisfies MoveRow
  }).pipe(Effect.orDie)

/** Both stores, each on a fresh database of its own; `smoke`: a few dozen moves. */
export const moveWorkloads = (smoke: boolean) =>
  Effect.gen(function*() {
    const [moves, warmup, minSeconds] = smoke ? [30, 5, 0] : [400, 30, 5]
    const rows: Array<MoveRow> = []
    const dir = mkdtempSync(join(tmpdir(), "tessera-move-bench-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    const sqlite = Sqlite.layer(join(dir, "moves.db"))
    rows.push(yield* Effect.provide(Effect.zipRight(migrateUp(Sqlite.migrations(), Sqlite.dialect), moveUnderLoad("sqlite", moves, warmup, minSeconds)), Layer.fresh(sqlite)))
    const url = yield* freshDatabase
    const pg = Pg.layer({ url, maxConnections: CHECKERS + 4 })
    rows.push(yield* Effect.provide(Effect.zipRight(migrateUp(Pg.migrations(), Pg.dialect), moveUnderLoad("pg", moves, warmup, minSeconds)), Layer.fresh(pg)))
    return rows
  }).pipe(Effect.scoped, Effect.orDie)
