/**
 * The moves-under-load section of the report (`report.ts` prints and writes it): per store, the moves' p50, p99
 * and worst time while 16 clients check inside the moving subtree, the checks answered meanwhile, and the target
 * of issue 9 — p99 at most 3× p50. Formats only; measures nothing.
 */
import type { MoveRow } from "./moves.js"

export interface MoveTarget {
  readonly store: string
  readonly what: string
  readonly value: number
  readonly bound: string
  readonly met: boolean
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : "—")

export const moveTargets = (rows: ReadonlyArray<MoveRow>): ReadonlyArray<MoveTarget> =>
  rows.map((r) => ({ store: r.store, what: "move under 16 checking clients: p99 / p50", value: r.ratio, bound: "≤ 3", met: r.ratio <= 3 }))

export const moveTables = (rows: ReadonlyArray<MoveRow>) => ({
  rows: rows.map((r) => ({
    store: r.store,
    moves: r.moves,
    "move p50 ms": fixed(r.p50, 2),
    "move p99 ms": fixed(r.p99, 2),
    "move max ms": fixed(r.max, 2),
    "p99 / p50": fixed(r.ratio, 2),
    "checks/s meanwhile": Math.round(r.checksPerSecond),
    "check p50 ms": fixed(r.checkP50, 3),
    "check p99 ms": fixed(r.checkP99, 3)
  })),
  targets: moveTargets(rows).map((t) => ({ store: t.store, ratio: t.what, value: fixed(t.value, 2), target: t.bound, met: t.met ? "yes" : "no" }))
})

export const moveSection = (
  rows: ReadonlyArray<MoveRow>,
  markdown: (rows: ReadonlyArray<Record<string, string | number>>) => string
): ReadonlyArray<string> => {
  const tables = moveTables(rows)
  return [
    "## Moves under load",
    "",
    "`moveResource` (one transaction) moves a subtree of 1k resources back and forth between two parents in one tree",
    "while 16 clients run `check` on nodes inside it, each as fast as its answers come (every answer verified); a",
    "fresh database per store, PostgreSQL with a pool of 20; at least 400 moves and at least 5 seconds of them.",
    "",
    markdown(tables.rows),
    "",
    markdown(tables.targets),
    ""
  ]
}
