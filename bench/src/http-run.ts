/**
 * The HTTP workloads alone (`http.ts`), without the rest of `pnpm bench`:
 *   tsx src/http-run.ts [--smoke] [--users N] [--reps N] [--seconds S]
 * Prints the table; writes nothing.
 */
import { Effect } from "effect"
import { fullHttp, httpWorkloads, smokeHttp } from "./http.js"

const args = process.argv.slice(2)
const smoke = args.includes("--smoke")
const flag = (name: string, fallback: number) => {
  const at = args.indexOf(name)
  return at < 0 ? fallback : Number(args[at + 1])
}
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
