/**
 * The report of one `pnpm bench` run: prints the tables and writes them to `results/latest.json` and
 * `results/latest.md` (`results/smoke.*` for a smoke run), each ratio beside its target (issue 9). Only formats
 * what was measured; never measures or judges anything itself beyond comparing a ratio with its bound.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { type AccessRow, accessSection, accessTable } from "./access.js"
import type { CheckRow } from "./checks.js"
import type { HttpRow } from "./http.js"
import { httpSection, httpTables } from "./http-report.js"
import { moveSection, moveTables, moveTargets } from "./moves-report.js"
import type { MoveRow } from "./moves.js"
import type { RedeemResults } from "./redeem.js"
import { redeemSection, redeemTables, redeemTargets } from "./redeem-report.js"
import type { BenchRow } from "./resources.js"

export interface Report {
  readonly smoke: boolean
  readonly users: number
  readonly checks: ReadonlyArray<CheckRow>
  readonly others: ReadonlyArray<BenchRow>
  readonly seconds: number
  readonly http?: ReadonlyArray<HttpRow> | undefined
  readonly moves?: ReadonlyArray<MoveRow> | undefined
  readonly redeem?: RedeemResults | undefined
  readonly access?: ReadonlyArray<AccessRow> | undefined
}

interface Target {
  readonly store: string
  readonly what: string
  readonly value: number
  readonly bound: string
  /** `null`: shown for reference, no target. */
  readonly met: boolean | null
}

const resultsDir = fileURLToPath(new URL("../results", import.meta.url))

const targetsOf = (checks: ReadonlyArray<CheckRow>): ReadonlyArray<Target> =>
  // the targets are the stores' as they run; a variant (`pg, unnamed statements`) is for comparison only
  [...new Set(checks.map((r) => r.store))].filter((store) => !store.includes(",")).flatMap((store) => {
    const rows = checks.filter((r) => r.store === store)
    const at = (depth: number) => rows.find((r) => r.workload === `check, depth ${depth}`)
    const batch = rows.find((r) => r.workload.startsWith("batch"))
    const targets: Array<Target> = []
    for (const depth of [1, 8, 32]) {
      const row = at(depth)
      if (row !== undefined) {
        targets.push({ store, what: `check at depth ${depth}: Tessera's time / the comparator's`, value: row.ratio, bound: "≤ 1.3", met: row.ratio <= 1.3 })
      }
    }
    const [one, deep] = [at(1), at(32)]
    if (one !== undefined && deep !== undefined) {
      const value = one.tessera.hz / deep.tessera.hz
      targets.push({ store, what: "Tessera's check: time at depth 32 / at depth 1", value, bound: "≤ 1.5", met: value <= 1.5 })
      const own = one.comparator.hz / deep.comparator.hz
      targets.push({ store, what: "(the comparator's own: time at depth 32 / at depth 1)", value: own, bound: "—", met: null })
    }
    if (batch !== undefined) {
      const value = batch.tessera.hz / batch.comparator.hz
      targets.push({ store, what: "batch of 100: Tessera's checks/s / the comparator's", value, bound: "≥ 0.8", met: value >= 0.8 })
    }
    return targets
  })

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : "—")

export const writeReport = (report: Report) =>
  Effect.sync(() => {
    const targets = targetsOf(report.checks)
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}`
    const header = `node ${process.version}, ${machine}, ${new Date().toISOString()}, ${report.smoke ? "smoke run" : "full run"}, ` +
      `${report.users} users, ${report.seconds.toFixed(0)} s, load average ${loadavg().map((l) => l.toFixed(1)).join(" / ")}`
    const checkTable = report.checks.map((r) => ({
      store: r.store,
      workload: r.workload,
      "Tessera checks/s": Math.round(r.tessera.hz),
      "Tessera p50 ms": fixed(r.tessera.p50, 3),
      "Tessera p99 ms": fixed(r.tessera.p99, 3),
      "comparator checks/s": Math.round(r.comparator.hz),
      "comparator p50 ms": fixed(r.comparator.p50, 3),
      "time ratio": fixed(r.ratio, 2),
      "p50 ratio": fixed(r.ratioP50, 2)
    }))
    const targetTable = targets.map((t) => ({ store: t.store, ratio: t.what, value: fixed(t.value, 2), target: t.bound, met: t.met === null ? "—" : t.met ? "yes" : "no" }))
    const named = report.checks.filter((r) => r.store === "pg")
    const namedTable = report.checks.filter((r) => r.store === "pg, unnamed statements").flatMap((unnamed) => {
      const row = named.find((r) => r.workload === unnamed.workload)
      return row === undefined ? [] : [{
        workload: unnamed.workload,
        "unnamed checks/s": Math.round(unnamed.tessera.hz),
        "unnamed p50 ms": fixed(unnamed.tessera.p50, 3),
        "named checks/s": Math.round(row.tessera.hz),
        "named p50 ms": fixed(row.tessera.p50, 3),
        "speed-up": fixed(row.tessera.hz / unnamed.tessera.hz, 2)
      }]
    })
    const otherTable = report.others.map((r) => ({
      benchmark: r.name,
      ops: r.ops,
      "p50 ms": fixed(r.p50, 3),
      "p99 ms": fixed(r.p99, 3),
      "ops/s": Math.round(r.perSecond)
    }))
    console.log(header)
    console.table(checkTable)
    console.table(targetTable)
    if (namedTable.length > 0) console.table(namedTable)
    console.table(otherTable)
    if (report.http !== undefined) {
      const http = httpTables(report.http)
      console.table(http.rows)
      console.table(http.targets)
    }
    if (report.moves !== undefined) {
      const moves = moveTables(report.moves)
      console.table(moves.rows)
      console.table(moves.targets)
    }
    if (report.redeem !== undefined) {
      const redeem = redeemTables(report.redeem)
      console.table(redeem.rows)
      console.table(redeem.targets)
      if (redeem.floor.length > 0) console.table(redeem.floor)
    }
    if (report.access !== undefined) console.table(accessTable(report.access))

    const markdown = (rows: ReadonlyArray<Record<string, string | number>>) => {
      if (rows.length === 0) return ""
      const keys = Object.keys(rows[0]!)
      return [`| ${keys.join(" | ")} |`, `|${keys.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${keys.map((k) => r[k]).join(" | ")} |`)].join("\n")
    }
    const name = report.smoke ? "smoke" : "latest"
    mkdirSync(resultsDir, { recursive: true })
    writeFileSync(
      join(resultsDir, `${name}.json`),
      JSON.stringify({
        node: process.version,
        machine,
        at: new Date().toISOString(),
        ...report,
        targets,
        ...(report.moves !== undefined ? { moveTargets: moveTargets(report.moves) } : {}),
        ...(report.redeem !== undefined ? { redeemTargets: redeemTargets(report.redeem) } : {})
      }, null, 2) + "\n"
    )
    writeFileSync(
      join(resultsDir, `${name}.md`),
      [
        "# `pnpm bench` results",
        "",
        header,
        "",
        "## The permission check beside the one-query comparator",
        "",
        "Tessera: the `check` use case in process (system actor; one check, or a batch of 100 mixed checks). Comparator: one",
        "hand-written recursive-CTE query per check answering the same question (user active, role on the resource),",
        "through the same driver (better-sqlite3; node-postgres with a named statement) on the same data. Medians of",
        "alternated runs (tinybench); the time ratio is Tessera's time per check over the comparator's from throughput,",
        "the p50 ratio the same from median latencies (steadier when other work shares the machine).",
        "",
        markdown(checkTable),
        "",
        "## Targets",
        "",
        markdown(targetTable),
        "",
        ...(namedTable.length > 0
          ? [
            "## Named statements on PostgreSQL",
            "",
            "Tessera's check on the same database with the hot statement sent unnamed (parsed and planned on every call,",
            "as every statement was before) and named (parsed and planned once per connection).",
            "",
            markdown(namedTable),
            ""
          ]
          : []),
        ...(report.moves !== undefined ? moveSection(report.moves, markdown) : []),
        ...(report.http !== undefined ? httpSection(report.http, markdown) : []),
        "## Other hot paths",
        "",
        markdown(otherTable),
        "",
        ...(report.redeem !== undefined ? redeemSection(report.redeem, markdown) : []),
        ...(report.access !== undefined ? accessSection(report.access, markdown) : [])
      ].join("\n")
    )
    console.log(`wrote results/${name}.json and results/${name}.md`)
  })
