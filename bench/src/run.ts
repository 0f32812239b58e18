/**
 * Benchmarks of the identity hot paths on both stores (`pnpm bench`):
 * token checks (pure), authentication of an API key (one indexed lookup),
 * and registration (one transaction with the invite, user, workspace, key
 * and events). Prints a table of per-operation latencies; asserts nothing.
 */
import { authenticate, bootstrapAdmin, Crypto, type Handle, mintInvite, mintToken, parseToken, register, SystemActor } from "@tessera/domain"
import { publicKeys } from "@tessera/store-contract/fixtures"
import { migrateUp } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import { freshDatabaseLayer } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { Effect, Option, Redacted } from "effect"
import { resourceBench } from "./resources.js"

interface Row {
  readonly name: string
  readonly ops: number
  readonly p50: number
  readonly p99: number
  readonly perSecond: number
}

const rows: Array<Row> = []

const measure = <E, R>(name: string, ops: number, op: (i: number) => Effect.Effect<unknown, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < Math.min(50, ops); i++) yield* op(ops + i) // warm-up, on inputs of its own
    const samples: Array<number> = []
    const started = performance.now()
    for (let i = 0; i < ops; i++) {
      const t = performance.now()
      yield* op(i)
      samples.push(performance.now() - t)
    }
    const total = performance.now() - started
    samples.sort((a, b) => a - b)
    rows.push({
      name,
      ops,
      p50: samples[Math.floor(ops * 0.5)]!,
      p99: samples[Math.min(ops - 1, Math.floor(ops * 0.99))]!,
      perSecond: (ops / total) * 1000
    })
  })

const tokens = Effect.gen(function*() {
  const valid = Redacted.value(yield* mintToken("tsk"))
  const broken = valid.slice(0, -1) + (valid.endsWith("0") ? "1" : "0")
  yield* measure("parseToken (valid)", 100_000, () => Effect.sync(() => parseToken("tsk", valid)))
  yield* measure("parseToken (bad checksum)", 100_000, () => Effect.sync(() => parseToken("tsk", broken)))
}).pipe(Effect.provide(Crypto.Live))

const storeBench = (name: string) =>
  Effect.gen(function*() {
    yield* migrateUp(name === "sqlite" ? Sqlite.migrations() : Pg.migrations(), name === "sqlite" ? Sqlite.dialect : Pg.dialect)
    const { apiKey } = yield* bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.none() })
    yield* measure(`${name}: authenticate (API key → principal)`, 5_000, () => authenticate(apiKey))
    const invites: Array<Redacted.Redacted<string>> = []
    for (let i = 0; i < 550; i++) {
      invites.push((yield* mintInvite(SystemActor, { kind: "registration", handle: `bench-${i}` as Handle })).token)
    }
    const keys = invites.map(() => publicKeys())
    yield* measure(`${name}: register (one transaction)`, 500, (i) => register({ token: invites[i]!, ...keys[i]! }))
    rows.push(...(yield* resourceBench(name)))
  }).pipe(Effect.orDie)

const sqlite = Sqlite.layer(join(mkdtempSync(join(tmpdir(), "tessera-bench-")), "bench.db"))
const pg = freshDatabaseLayer((url) => Pg.layer({ url }))

const program = Effect.gen(function*() {
  yield* tokens
  yield* Effect.provide(storeBench("sqlite"), sqlite)
  yield* Effect.provide(storeBench("pg"), pg)
  console.log(`node ${process.version}, ${new Date().toISOString()}`)
  console.table(rows.map((r) => ({
    benchmark: r.name,
    ops: r.ops,
    "p50 ms": r.p50.toFixed(3),
    "p99 ms": r.p99.toFixed(3),
    "ops/s": Math.round(r.perSecond)
  })))
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exit(1)
})
