// WAL checkpoints off the commit path (src/checkpoints.ts): the client's connection checkpoints on commit only past
// a bound that writes with pauses never reach; a worker does the copying, so the WAL is copied into the database file
// and starts again instead of growing without bound, even under writes that never pause; a worker that cannot run is
// reported. Live clock: the worker runs on real time.
import { expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { mkdtempSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SyncWriter } from "@tessera/store-sql"
import { Effect, Layer, Option } from "effect"
import { checkpointer, WAL_BOUND_FRAMES } from "../src/checkpoints.js"
import { clientLayer } from "../src/index.js"

const fresh = (name: string) => join(mkdtempSync(join(tmpdir(), "tessera-checkpoints-")), name)

const PAGE = 4096

/** Polls `done` every 20 ms, for at most 30 s (the machine may be loaded); fails with `what` if it never holds. */
const eventually = (what: string, done: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1_500; i++) {
      if (done()) return
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.dieMessage(`never happened: ${what}`)
  })

it.effect("the client's connection checkpoints on commit only past the bound, far above SQLite's 1,000 frames", () =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`
    expect(row?.wal_autocheckpoint).toBe(WAL_BOUND_FRAMES)
    // and so does the connection lent for one-call writes
    const writer = Option.getOrThrow(yield* Effect.serviceOption(SyncWriter))
    expect(yield* writer.lend((connection) => connection.all("PRAGMA wal_autocheckpoint", []))).toEqual([{ wal_autocheckpoint: WAL_BOUND_FRAMES }])
    const [mode] = yield* sql<{ journal_mode: string }>`PRAGMA journal_mode`
    expect(mode?.journal_mode).toBe("wal")
  }).pipe(Effect.provide(Layer.fresh(clientLayer(fresh("mode.db")))), Effect.orDie))

/** The client on a fresh file `name` with a table `filler`: `insert(n)` commits one row of nearly a page. */
const withFiller = <A>(
  name: string,
  body: (file: string, insert: (n: number) => Effect.Effect<unknown, unknown>, sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>
) => {
  const file = fresh(name)
  return Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE filler (n INTEGER NOT NULL, body BLOB NOT NULL)`
    const blob = new Uint8Array(PAGE - 200)
    return yield* body(file, (n) => sql.withTransaction(sql`INSERT INTO filler (n, body) VALUES (${n}, ${blob})`), sql)
  }).pipe(Effect.provide(Layer.fresh(clientLayer(file))), Effect.orDie)
}

it.live("the worker copies the client's commits into the database file", () =>
  withFiller("copied.db", (file, insert) =>
    Effect.gen(function*() {
      for (let round = 1; round <= 3; round++) {
        for (let i = 0; i < 300; i++) yield* insert(round * 300 + i)
        // the round's pages reach the database file, though no commit checkpoints
        yield* eventually(`round ${round} checkpointed`, () => statSync(file).size >= round * 300 * (PAGE - 200))
      }
    })))

it.scopedLive("the WAL starts again after a complete checkpoint instead of growing", () =>
  Effect.gen(function*() {
    const file = fresh("bounded.db")
    const sql = yield* SqliteClient.make({ filename: file }) // WAL mode
    yield* sql.unsafe("PRAGMA wal_autocheckpoint = 0")
    yield* sql`CREATE TABLE t (n INTEGER)`
    const checkpoints = yield* checkpointer(file, () => {}, 10)
    const ROUNDS = 10
    const PER_ROUND = 200
    const walSizes: Array<number> = []
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < PER_ROUND; i++) yield* sql`INSERT INTO t (n) VALUES (${round * PER_ROUND + i})` // a commit, a frame or more
      walSizes.push(statSync(`${file}-wal`).size)
      // a checkpoint that began after the round's last commit, and found nothing left to copy
      yield* Effect.sleep("50 millis") // messages of checkpoints already under way arrive first
      const seen = checkpoints.read().runs
      yield* eventually(`round ${round} checkpointed`, () => {
        const { last, runs } = checkpoints.read()
        return runs >= seen + 2 && last !== undefined && last.checkpointed === last.log
      })
    }
    // without checkpoints the WAL would hold all 2,000 commits (a frame each at least: over 8 MB); the first write
    // after a complete checkpoint starts it again, so it holds one round (at most two frames a commit)
    expect(Math.max(...walSizes)).toBeLessThan(2 * PER_ROUND * (PAGE + 24) + 32)
    expect(yield* sql`SELECT count(*) AS n FROM t`).toEqual([{ n: ROUNDS * PER_ROUND }])
  }).pipe(Effect.provide(Reactivity.layer)))

it.scopedLive("a checkpoint reports the WAL's frames, all copied when nothing else reads", () =>
  Effect.gen(function*() {
    const file = fresh("direct.db")
    const sql = yield* SqliteClient.make({ filename: file })
    yield* sql.unsafe("PRAGMA wal_autocheckpoint = 0")
    yield* sql`CREATE TABLE t (n INTEGER)`
    for (let i = 0; i < 50; i++) yield* sql`INSERT INTO t (n) VALUES (${i})`
    const failures: Array<string> = []
    const checkpoints = yield* checkpointer(file, (reason) => void failures.push(reason), 10)
    yield* eventually("a checkpoint", () => checkpoints.read().runs > 0)
    const { last, error } = checkpoints.read()
    expect(error).toBeUndefined()
    expect(failures).toEqual([])
    expect(last?.busy).toBe(false)
    expect(last?.log).toBeGreaterThanOrEqual(50)
    expect(last?.checkpointed).toBe(last?.log)
  }).pipe(Effect.provide(Reactivity.layer)))

it.scopedLive("a worker that cannot open the file is reported, so the caller can checkpoint otherwise", () =>
  Effect.gen(function*() {
    const failures: Array<string> = []
    yield* checkpointer(fresh("missing.db"), (reason) => void failures.push(reason), 10)
    yield* eventually("the failure reported", () => failures.length > 0)
    expect(failures[0]).toMatch(/unable to open|does not exist|SQLITE_CANTOPEN/i)
  }))

it.live("under writes that never pause, the WAL still starts again: it stays bounded however long they go on", () =>
  withFiller("sustained.db", (file, insert, sql) =>
    Effect.gen(function*() {
      // back to back, each commit at least a page, for well past the bound: without a pause no passive checkpoint can
      // finish before the next commit, so the WAL could never start again on its own
      const COMMITS = 6 * WAL_BOUND_FRAMES
      let largest = 0
      for (let i = 0; i < COMMITS; i++) {
        yield* insert(i)
        if (i % 500 === 0) largest = Math.max(largest, statSync(`${file}-wal`).size)
      }
      largest = Math.max(largest, statSync(`${file}-wal`).size)
      expect(yield* sql`SELECT count(*) AS n FROM filler`).toEqual([{ n: COMMITS }])
      // it held over 6 bounds' worth of frames in all; at most the bound plus what commits while a checkpoint is due
      expect(largest).toBeLessThan(3 * WAL_BOUND_FRAMES * (PAGE + 24))
    })), 120_000)
