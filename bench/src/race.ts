/**
 * Tessera beside its comparator with tinybench: the two alternated, `reps`
 * times with the order swapped each time, so that drift in the machine's
 * speed falls on both alike. Throughput is the median over the repetitions
 * (times `perOp`, the answers one operation gives); p50 and p99 are taken
 * over every sample.
 */
import { Bench } from "tinybench"

export interface Measured {
  /** Operations per second, times `perOp`. */
  readonly hz: number
  readonly p50: number
  readonly p99: number
}

export const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** The `p` quantile of unsorted samples. */
export const percentile = (samples: ReadonlyArray<number>, p: number) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
}

export const race = async (
  options: { readonly reps: number; readonly bench: ConstructorParameters<typeof Bench>[0]; readonly perOp?: number },
  tessera: () => unknown,
  comparator: () => unknown
): Promise<{ tessera: Measured; comparator: Measured }> => {
  const perOp = options.perOp ?? 1
  const hz = { tessera: [] as Array<number>, comparator: [] as Array<number> }
  const samples = { tessera: [] as Array<number>, comparator: [] as Array<number> }
  for (let rep = 0; rep < options.reps; rep++) {
    const bench = new Bench(options.bench)
    const order = rep % 2 === 0 ? (["tessera", "comparator"] as const) : (["comparator", "tessera"] as const)
    for (const name of order) bench.add(name, name === "tessera" ? tessera : comparator)
    await bench.warmup()
    await bench.run()
    for (const task of bench.tasks) {
      const name = task.name as "tessera" | "comparator"
      if (task.result === undefined || task.result.error !== undefined) throw new Error(`${name}: ${String(task.result?.error)}`)
      hz[name].push(task.result.hz * perOp)
      samples[name].push(...task.result.samples)
    }
  }
  const measured = (name: "tessera" | "comparator"): Measured => ({
    hz: median(hz[name]),
    p50: percentile(samples[name], 0.5),
    p99: percentile(samples[name], 0.99)
  })
  return { tessera: measured("tessera"), comparator: measured("comparator") }
}
