/**
 * The check workloads alone (`checks.ts`), without the rest of `pnpm bench`:
 *   tsx src/checks-run.ts [--smoke] [--users N] [--reps N] [--time MS] [--unnamed] [sqlite] [pg]
 * Both stores unless named. Prints the table; writes nothing.
 */
import { Effect } from "effect"
import { checkWorkloads } from "./checks.js"

const args = process.argv.slice(2)
const smoke = args.includes("--smoke")
const flag = (name: string, fallback: number) => {
  const at = args.indexOf(name)
  return at < 0 ? fallback : Number(args[at + 1])
}
const named = (["sqlite", "pg"] as const).filter((store) => args.includes(store))

Effect.runPromise(checkWorkloads(flag("--users", smoke ? 1_000 : 10_000), {
  time: flag("--time", smoke ? 500 : 1_500),
  reps: flag("--reps", smoke ? 1 : 3),
  unnamed: args.includes("--unnamed"),
  stores: named.length > 0 ? named : ["sqlite", "pg"]
})).then(
  (rows) =>
    console.table(rows.map((r) => ({
      store: r.store,
      workload: r.workload,
      "Tessera/s": Math.round(r.tessera.hz),
      "Tessera p50": r.tessera.p50.toFixed(3),
      "Tessera p99": r.tessera.p99.toFixed(3),
      "comparator/s": Math.round(r.comparator.hz),
      "comparator p50": r.comparator.p50.toFixed(3),
      "comparator p99": r.comparator.p99.toFixed(3),
      ratio: r.ratio.toFixed(2),
      "p50 ratio": r.ratioP50.toFixed(2)
    }))),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
