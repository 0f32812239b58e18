/**
 * The check workloads alone (`checks.ts`), without the rest of `pnpm bench`:
 *   tsx src/checks-run.ts [--smoke] [--users N] [--reps N] [--time MS] [--unnamed] [sqlite] [pg]
 * Both stores unless named. Prints the table; writes nothing.
 */
import { Effect } from "effect"
import { checkWorkloads } from "./checks.js"
import { flag, has, storesNamed } from "./args.js"

const smoke = has("--smoke")

Effect.runPromise(checkWorkloads(flag("--users", smoke ? 1_000 : 10_000), {
  time: flag("--time", smoke ? 500 : 1_500),
  reps: flag("--reps", smoke ? 1 : 3),
  unnamed: has("--unnamed"),
  stores: storesNamed()
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
