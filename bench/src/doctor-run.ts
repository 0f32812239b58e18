/**
 * One doctor run in a process of its own, for `doctor.ts`:
 *   doctor-run.ts sqlite <file> | pg <url>
 * Opens the store, then runs `runDoctor` as the system while sampling the
 * process's resident set every 10 ms, and prints one JSON line: wall time,
 * RSS before the run, the peak sampled during it, the process's lifetime
 * maximum (`maxRSS`, which includes start-up), and the report's totals.
 * It only reads the store.
 */
import { runDoctor, SystemActor } from "@tessera/domain"
import * as Pg from "@tessera/store-pg"
import * as Sqlite from "@tessera/store-sqlite"
import { Effect, Redacted } from "effect"
import { runMeasured } from "./measured.js"

const [kind, location] = process.argv.slice(2)
if ((kind !== "sqlite" && kind !== "pg") || location === undefined) throw new Error("usage: doctor-run.ts sqlite <file> | pg <url>")

const store = kind === "sqlite" ? Sqlite.layer(location) : Pg.layer({ url: Redacted.make(location) })

runMeasured(
  Effect.map(runDoctor(SystemActor), (report) => ({
    ok: report.ok,
    violations: Object.values(report.counts).reduce((sum, n) => sum + (n ?? 0), 0),
    checked: report.checked
  })),
  store
)
