/**
 * One doctor run in a process of its own, for `doctor.ts`:
 *   doctor-run.ts sqlite <file> | pg <url>
 * Opens the store, then runs `runDoctor` as the system while sampling the
 * process's resident set every 10 ms, and prints one JSON line: wall time,
 * RSS before the run, the peak sampled during it, the process's lifetime
 * maximum (`maxRSS`, which includes start-up), and the report's totals.
 * It only reads the store.
 */
import { SqlClient } from "@effect/sql"
import { runDoctor, SystemActor } from "@tessera/domain"
import * as Pg from "@tessera/store-pg"
import * as Sqlite from "@tessera/store-sqlite"
import { performance } from "node:perf_hooks"
import { Effect, Redacted } from "effect"

const [kind, location] = process.argv.slice(2)
if ((kind !== "sqlite" && kind !== "pg") || location === undefined) throw new Error("usage: doctor-run.ts sqlite <file> | pg <url>")

const store = kind === "sqlite" ? Sqlite.layer(location) : Pg.layer({ url: Redacted.make(location) })

const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`SELECT 1`.pipe(Effect.orDie)
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 10)
  const started = performance.now()
  const report = yield* runDoctor(SystemActor)
  const ms = performance.now() - started
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss)
  return {
    ms,
    rssBefore: before,
    rssPeak: peak,
    maxRss: process.resourceUsage().maxRSS * 1024,
    ok: report.ok,
    violations: Object.values(report.counts).reduce((sum, n) => sum + (n ?? 0), 0),
    checked: report.checked
  }
})

Effect.runPromise(program.pipe(Effect.provide(store))).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
