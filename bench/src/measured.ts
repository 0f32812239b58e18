/**
 * Runs one operation of a child-process workload (`doctor-run.ts`,
 * `maintenance-run.ts`) on a store that has answered once, and measures it:
 * its time, the process's RSS before it and at its peak (sampled every
 * 10 ms), and the kernel's own maximum RSS. Prints the result as one JSON
 * line on stdout; any failure exits 1.
 */
import { SqlClient } from "@effect/sql"
import { performance } from "node:perf_hooks"
import { Effect, type Layer } from "effect"

export const runMeasured = <A extends Record<string, unknown>, E, R>(
  operation: Effect.Effect<A, E, R | SqlClient.SqlClient>,
  store: Layer.Layer<R | SqlClient.SqlClient, unknown>
) => {
  const program = Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`SELECT 1`.pipe(Effect.orDie)
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 10)
    const started = performance.now()
    const result = yield* Effect.ensuring(operation, Effect.sync(() => clearInterval(sampler)))
    const ms = performance.now() - started
    peak = Math.max(peak, process.memoryUsage().rss)
    return { ms, rssBefore: before, rssPeak: peak, maxRss: process.resourceUsage().maxRSS * 1024, ...result }
  })
  Effect.runPromise(program.pipe(Effect.provide(store))).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}
