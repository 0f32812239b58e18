/**
 * The HTTP workloads alone (`http.ts`), without the rest of `pnpm bench`:
 *   tsx src/http-run.ts [--smoke] [--users N] [--reps N] [--seconds S]
 * Prints the table; writes nothing.
 */
import { Effect } from "effect"
import { fullHttp, httpWorkloads, smokeHttp } from "./http.js"
import { flag, has } from "./args.js"

const smoke = has("--smoke")
const base = smoke ? smokeHttp : fullHttp

Effect.runPromise(httpWorkloads(flag("--users", smoke ? 1_000 : 10_000), {
  ...base,
  reps: flag("--reps", base.reps),
  seconds: flag("--seconds", base.seconds)
})).then(
  (rows) =>
    console.table(rows.map((r) => ({
      store: r.store,
      endpoint: r.endpoint,
      "Tessera/s": Math.round(r.tessera.rps),
      "bare/s": Math.round(r.bare.rps),
      ratio: r.ratio.toFixed(2),
      "Tessera CPU µs": Math.round(r.tessera.cpuUs),
      "bare CPU µs": Math.round(r.bare.cpuUs),
      "CPU ratio": r.cpuRatio.toFixed(2),
      target: r.target
    }))),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
