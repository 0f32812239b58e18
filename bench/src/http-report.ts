/**
 * The HTTP part of the report (`report.ts` prints and writes it): the workloads of `http.ts` as a table, and each
 * ratio beside its target. Only formats what was measured.
 */
import type { HttpRow } from "./http.js"

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : "—")

export const httpTables = (rows: ReadonlyArray<HttpRow>) => ({
  rows: rows.map((r) => ({
    store: r.store,
    request: r.endpoint,
    "Tessera req/s": Math.round(r.tessera.rps),
    "Tessera p50 ms": fixed(r.tessera.p50, 1),
    "Tessera p99 ms": fixed(r.tessera.p99, 1),
    "bare req/s": Math.round(r.bare.rps),
    "bare p50 ms": fixed(r.bare.p50, 1),
    "bare p99 ms": fixed(r.bare.p99, 1),
    "Tessera / bare": fixed(r.ratio, 2),
    "Tessera CPU µs/req": Math.round(r.tessera.cpuUs),
    "bare CPU µs/req": Math.round(r.bare.cpuUs),
    "bare CPU / Tessera CPU": fixed(r.cpuRatio, 2)
  })),
  targets: rows.map((r) => ({
    store: r.store,
    ratio: `${r.endpoint}: Tessera's req/s / the bare server's`,
    value: fixed(r.ratio, 2),
    target: r.target === null ? "—" : `≥ ${r.target}`,
    met: r.target === null ? "—" : r.ratio >= r.target ? "yes" : "no",
    "by CPU per request": fixed(r.cpuRatio, 2),
    "met by CPU": r.target === null ? "—" : r.cpuRatio >= r.target ? "yes" : "no"
  }))
})

export const httpSection = (
  rows: ReadonlyArray<HttpRow>,
  markdown: (rows: ReadonlyArray<Record<string, string | number>>) => string
): ReadonlyArray<string> => {
  if (rows.length === 0) return []
  const tables = httpTables(rows)
  return [
    "## HTTP beside a bare `node:http` server",
    "",
    "Tessera's server (`apps/http/dist/src/main.js` with `--conditions=tessera-dist`, as `pnpm start` runs it) and a bare `node:http` server answering the",
    "same requests by hand through the same driver on the same data (the key's owner by Tessera's own statement, a",
    "check by the one-query comparator), each a child process; autocannon with 32 connections from the bench process,",
    "the two servers alternated, the median of the repetitions. `/v1/me` and `/v1/check` are asked with an admin's",
    "API key; the check is a member's `read` at depth 8. The three are Tessera's direct routes (docs/http.md, \"Direct",
    "routes\"): answered on Node's listener with the request log and metrics, their plain success without the runtime. CPU µs/req is",
    "the server process's own CPU time (user + system, from `/proc`) per request: other work on a shared machine",
    "moves req/s far more than it, so the CPU ratio is the steadier reading; it leaves out PostgreSQL's own CPU.",
    "",
    markdown(tables.rows),
    "",
    markdown(tables.targets),
    ""
  ]
}
