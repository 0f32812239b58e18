/**
 * Time spent inside SQLite itself: better-sqlite3 runs every statement synchronously in the calling thread, so
 * the wall time of its statement calls (`all`, `get`, `run`, `iterate` — `BEGIN` and `COMMIT` included, which
 * both Tessera's client and better-sqlite3's own `transaction` run as statements) is SQLite's work: the B-trees,
 * the WAL frames a commit writes, and nothing of Node's or Effect's. `redeem.ts` uses it to show the floor under a
 * redemption — what it would cost with no overhead at all — beside the comparator's. Every connection in the
 * process is timed while a label is set; none is timed otherwise. Measures only; changes no result.
 */
import Database from "better-sqlite3"

const spent = new Map<string, { calls: number; nanos: bigint }>()
let label: string | undefined
let installed = false

const install = () => {
  if (installed) return
  installed = true
  const probe = new Database(":memory:")
  const prototype = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, (...args: Array<unknown>) => unknown>
  probe.close()
  for (const method of ["all", "get", "run", "iterate"]) {
    const original = prototype[method]!
    prototype[method] = function(this: unknown, ...args: Array<unknown>) {
      if (label === undefined) return original.apply(this, args)
      const at = label
      const started = process.hrtime.bigint()
      try {
        return original.apply(this, args)
      } finally {
        const entry = spent.get(at) ?? { calls: 0, nanos: 0n }
        entry.calls++
        entry.nanos += process.hrtime.bigint() - started
        spent.set(at, entry)
      }
    }
  }
}

/** Runs `run` with SQLite's time counted under `name`; returns its result and the µs SQLite spent, and its statements. */
export const insideSqlite = async <A>(name: string, run: () => Promise<A>) => {
  install()
  spent.delete(name)
  label = name
  try {
    const result = await run()
    const entry = spent.get(name) ?? { calls: 0, nanos: 0n }
    return { result, micros: Number(entry.nanos) / 1000, statements: entry.calls }
  } finally {
    label = undefined
  }
}
