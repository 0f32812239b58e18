/**
 * `pnpm bench`: the permission check on both stores beside its one-query
 * comparator (`checks.ts`, on 10k users and 102.8k resources), then the
 * identity and resource hot paths (token checks, authentication of an API
 * key, registration, moves). Prints the tables and writes them, with the
 * ratios and their targets, to `results/latest.json` and `results/latest.md`.
 * `--smoke` runs every workload for about a second on a tenth of the data and
 * writes `results/smoke.*` instead. Asserts nothing about speed.
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
import { accessWorkloads, fullAccess, smokeAccess } from "./access.js"
import { checkWorkloads } from "./checks.js"
import { fullHttp, httpWorkloads, smokeHttp } from "./http.js"
import { moveWorkloads } from "./moves.js"
import { redeemWorkloads } from "./redeem.js"
import { writeReport } from "./report.js"
import { resourceBench } from "./resources.js"

const smoke = process.argv.includes("--smoke")
/** Fewer operations for the smoke run. */
const scaled = (n: number) => (smoke ? Math.max(20, Math.ceil(n / 20)) : n)

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
  yield* measure("parseToken (valid)", scaled(100_000), () => Effect.sync(() => parseToken("tsk", valid)))
  yield* measure("parseToken (bad checksum)", scaled(100_000), () => Effect.sync(() => parseToken("tsk", broken)))
}).pipe(Effect.provide(Crypto.Live))

const storeBench = (name: string) =>
  Effect.gen(function*() {
    yield* migrateUp(name === "sqlite" ? Sqlite.migrations() : Pg.migrations(), name === "sqlite" ? Sqlite.dialect : Pg.dialect)
    const { apiKey } = yield* bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.none() })
    yield* measure(`${name}: authenticate (API key → principal)`, scaled(5_000), () => authenticate(apiKey))
    const invites: Array<Redacted.Redacted<string>> = []
    for (let i = 0; i < scaled(500) + 50; i++) {
      invites.push((yield* mintInvite(SystemActor, { kind: "registration", handle: `bench-${i}` as Handle })).token)
    }
    const keys = invites.map(() => publicKeys())
    yield* measure(`${name}: register (one transaction)`, scaled(500), (i) => register({ token: invites[i]!, ...keys[i]! }))
    rows.push(...(yield* resourceBench(name, smoke)))
  }).pipe(Effect.orDie)

const sqlite = Sqlite.layer(join(mkdtempSync(join(tmpdir(), "tessera-bench-")), "bench.db"))
const pg = freshDatabaseLayer((url) => Pg.layer({ url }))

const program = Effect.gen(function*() {
  const started = performance.now()
  const users = smoke ? 1_000 : 10_000
  const checks = yield* checkWorkloads(users, smoke ? { time: 500, reps: 1, unnamed: false } : { time: 1_500, reps: 3, unnamed: true })
  const http = yield* httpWorkloads(users, smoke ? smokeHttp : fullHttp)
  yield* tokens
  yield* Effect.provide(storeBench("sqlite"), sqlite)
  yield* Effect.provide(storeBench("pg"), pg)
  const moves = yield* moveWorkloads(smoke)
  const redeem = yield* redeemWorkloads(smoke)
  const access = yield* accessWorkloads(smoke ? smokeAccess : fullAccess)
  yield* writeReport({ smoke, users, checks, others: rows, http, redeem, moves, access, seconds: (performance.now() - started) / 1000 })
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exit(1)
})
