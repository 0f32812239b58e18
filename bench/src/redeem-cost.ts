/**
 * What one authentication and one redemption cost Node, on one store at a time: CPU time per operation
 * (`process.cpuUsage`, which other work on a shared machine disturbs far less than wall time) and the statements
 * each runs (`meterStatements`, begin and commit not counted), one client, with the tracer off as the server runs
 * without an exporter. Beside them the same for the guarded-update comparator and the owner lookup's bare
 * statement. Run by `redeem-run.ts`; asserts nothing about speed.
 */
import { authenticate, redeemInvite } from "@tessera/domain"
import { meterStatements } from "@tessera/store-sql/meter"
import { type Effect, Layer, ManagedRuntime } from "effect"
import { type Comparator, prepareStore, type Redeemer, type StoreSetup } from "./redeem.js"

export interface CostRow {
  readonly store: string
  readonly what: string
  readonly ops: number
  /** Node CPU µs per operation (user + system), best of the repetitions. */
  readonly cpuMicros: number
  /** Wall µs per operation, best of the repetitions. */
  readonly wallMicros: number
  /** Statements per operation through `SqlClient` (begin and commit not counted); NaN when not metered. */
  readonly statements: number
}

const timed = async (ops: number, op: (i: number) => Promise<unknown>) => {
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (let i = 0; i < ops; i++) await op(i)
  const used = process.cpuUsage(cpu)
  return { cpuMicros: (used.user + used.system) / ops, wallMicros: ((performance.now() - started) * 1000) / ops }
}

/** Runs `op` in `reps` rounds of `ops`, alternating nothing else; the best round's CPU and wall time. */
const best = async (reps: number, ops: number, op: (rep: number, i: number) => Promise<unknown>) => {
  let cpuMicros = Number.POSITIVE_INFINITY
  let wallMicros = Number.POSITIVE_INFINITY
  for (let rep = 0; rep < reps; rep++) {
    const t = await timed(ops, (i) => op(rep, i))
    cpuMicros = Math.min(cpuMicros, t.cpuMicros)
    wallMicros = Math.min(wallMicros, t.wallMicros)
  }
  return { cpuMicros, wallMicros }
}

export const storeCosts = async <E>(
  store: "sqlite" | "pg",
  setup: StoreSetup<E>,
  options: { readonly ops: number; readonly reps: number }
): Promise<ReadonlyArray<CostRow>> => {
  const runtime = ManagedRuntime.make(Layer.merge(setup.layer as Layer.Layer<any, E>, Layer.setTracerEnabled(false)))
  const rows: Array<CostRow> = []
  try {
    const { take, comparator, ownerStatement } = await prepareStore(runtime, setup, options.ops * options.reps * 2 + 40)
    try {
      const metered = async (program: Effect.Effect<unknown, unknown, any>) =>
        (await runtime.runPromise(meterStatements(program))).counts.statements
      // authentication: the same key again and again, as a client's requests present it
      const key = take(1)[0]!
      for (let i = 0; i < 200; i++) await runtime.runPromise(authenticate(key.apiKey))
      const authStatements = await metered(authenticate(key.apiKey))
      const auth = await best(options.reps, options.ops * 4, () => runtime.runPromise(authenticate(key.apiKey)))
      rows.push({ store, what: "authenticate (API key → principal)", ops: options.ops * 4, ...auth, statements: authStatements })
      for (let i = 0; i < 200; i++) await ownerStatement(key)
      const raw = await best(options.reps, options.ops * 4, () => ownerStatement(key))
      rows.push({ store, what: "the owner lookup's statement, bare driver", ops: options.ops * 4, ...raw, statements: 1 })
      // redemption: a fresh invite per operation, one client
      const warm = take(20)
      for (const r of warm.slice(0, 10)) await runtime.runPromise(redeemInvite(r.principal, r.invite))
      const one = warm[10]!
      const redeemStatements = await metered(redeemInvite(one.principal, one.invite))
      for (const r of warm.slice(11)) await comparator.redeem(r)
      const people: Array<ReadonlyArray<Redeemer>> = []
      const others: Array<ReadonlyArray<Redeemer>> = []
      for (let rep = 0; rep < options.reps; rep++) {
        people.push(take(options.ops))
        others.push(take(options.ops))
      }
      // alternated: Tessera's round, then the comparator's
      let tessera = { cpuMicros: Number.POSITIVE_INFINITY, wallMicros: Number.POSITIVE_INFINITY }
      let guarded = { cpuMicros: Number.POSITIVE_INFINITY, wallMicros: Number.POSITIVE_INFINITY }
      for (let rep = 0; rep < options.reps; rep++) {
        const t = await timed(options.ops, (i) => runtime.runPromise(redeemInvite(people[rep]![i]!.principal, people[rep]![i]!.invite)))
        const c = await timed(options.ops, (i) => comparator.redeem(others[rep]![i]!))
        tessera = { cpuMicros: Math.min(tessera.cpuMicros, t.cpuMicros), wallMicros: Math.min(tessera.wallMicros, t.wallMicros) }
        guarded = { cpuMicros: Math.min(guarded.cpuMicros, c.cpuMicros), wallMicros: Math.min(guarded.wallMicros, c.wallMicros) }
      }
      rows.push({ store, what: "redeem, 1 client", ops: options.ops, ...tessera, statements: redeemStatements })
      rows.push({ store, what: "guarded update (comparator), 1 client", ops: options.ops, ...guarded, statements: 2 })
      return rows
    } finally {
      await (comparator satisfies Comparator).close()
    }
  } finally {
    await runtime.dispose()
  }
}
