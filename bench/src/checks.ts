/**
 * The permission check against the one-query comparator, on one store (run by `run.ts` for each): Tessera's
 * `check` use case in process (one check at depth 1, 8 and 32; a batch of 100 mixed checks), with the tracer off
 * as the server has it unless an exporter is set, beside one hand-written recursive-CTE query that answers the
 * same question — is the user active, and what is their role on the resource — through the same driver
 * (better-sqlite3; node-postgres through a pool as large as Tessera's, with a named statement) on the same data
 * (`check-data.ts`). Each workload runs with tinybench, Tessera and the comparator alternated, `reps` times;
 * the median throughput is kept. Before anything is timed, every pair is asked both ways and the answers must be
 * equal. Returns rows for the report; asserts nothing about speed.
 */
import { type Action, check, type CheckRequest, type ResourceRole, type ResourceStore, SystemActor, type UserStore } from "@tessera/domain"
import { migrateUp } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import { freshDatabase } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import Database from "better-sqlite3"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import pg from "pg"
import { fillCheckData, PERSONAL_DEPTH, personalResource, REVOKED_EVERY, TEAM_SIZE, teamOf, teamResource, userId } from "./check-data.js"
import { type ComparatorRow, comparatorRole, comparatorSql } from "./comparator.js"
import { type Measured, race } from "./race.js"

export type { Measured } from "./race.js"

export interface CheckRow {
  readonly store: string
  readonly workload: string
  readonly tessera: Measured
  readonly comparator: Measured
  /** Tessera's time per check over the comparator's, from throughput (> 1: Tessera is slower). */
  readonly ratio: number
  /** The same from the median latencies, which a loaded machine's stalls disturb less. */
  readonly ratioP50: number
}

export interface BenchOptions {
  /** Milliseconds each task runs per repetition. */
  readonly time: number
  readonly reps: number
  /** Also run PostgreSQL's workloads with unnamed statements (how every statement was sent before). */
  readonly unnamed: boolean
  /** The stores to run on; both unless given. */
  readonly stores?: ReadonlyArray<"sqlite" | "pg">
}

/** What the comparator answers in one statement: status, revocation on the path and the best of each grant kind. */
/** One hand-written query per check through the store's own driver: synchronous where the driver is (better-sqlite3). */
export interface Comparator {
  readonly sync: boolean
  readonly role: (c: CheckRequest) => ResourceRole | null | Promise<ResourceRole | null>
  readonly close: () => Promise<void>
}

export const sqliteComparator = (file: string): Comparator => {
  const db = new Database(file, { readonly: true })
  const statement = db.prepare<{ res: string; usr: string }, ComparatorRow>(comparatorSql("sqlite"))
  return {
    sync: true,
    role: (c) => comparatorRole(statement.get({ res: c.resource_id, usr: c.user_id })),
    close: async () => {
      db.close()
    }
  }
}

/**
 * The comparator on PostgreSQL runs as Tessera's store does: through a node-postgres pool of the same size
 * (`connections`, Tessera's default), a connection checked out and returned per query, the statement named so
 * that each connection parses and plans it once.
 */
export const pgComparator = async (url: string, connections: number): Promise<Comparator> => {
  const pool = new pg.Pool({ connectionString: url, max: connections })
  await pool.query("SELECT 1")
  const text = comparatorSql("pg")
  return {
    sync: false,
    role: async (c) =>
      comparatorRole((await pool.query<ComparatorRow>({ name: "bench_comparator", text, values: [c.resource_id, c.user_id] })).rows[0]),
    close: () => pool.end()
  }
}

/** Checks of members (a direct `reader` on their team's root) at `depth`, spread over the teams, none revoked. */
const pairsAt = (users: number, depth: number, count: number): ReadonlyArray<CheckRequest> => {
  const teams = users / TEAM_SIZE
  const pairs: Array<CheckRequest> = []
  for (let j = 0; pairs.length < count; j++) {
    const i = teams + 1 + ((j * 7919) % (users - teams))
    if (teamOf(i, teams) % REVOKED_EVERY === 0) continue
    pairs.push({ user_id: userId(i), resource_id: teamResource(teamOf(i, teams), depth), action: "read" })
  }
  return pairs
}

const ACTIONS: ReadonlyArray<Action> = ["read", "comment", "edit", "administer"]

/**
 * A batch of 100 checks as a caller asks them: depths 1 to 32 in teams (some under a revoked node), personal
 * chains (the user administers their workspace), other people's personal chains (no access), several actions.
 */
const batchOf = (users: number, seed: number): ReadonlyArray<CheckRequest> => {
  const teams = users / TEAM_SIZE
  return Array.from({ length: 100 }, (_, j) => {
    const i = teams + 1 + (((seed * 100 + j) * 7919) % (users - teams))
    const action = ACTIONS[j % ACTIONS.length]!
    switch (j % 5) {
      case 0:
        return { user_id: userId(i), resource_id: personalResource(i, 1 + (j % PERSONAL_DEPTH)), action }
      case 1:
        return { user_id: userId(i), resource_id: personalResource((i % users) + 1, PERSONAL_DEPTH), action }
      default:
        return { user_id: userId(i), resource_id: teamResource(teamOf(i, teams), 1 + (j % 32)), action }
    }
  })
}

const ratios = (r: { tessera: Measured; comparator: Measured }) => ({
  ratio: r.comparator.hz / r.tessera.hz,
  ratioP50: r.tessera.p50 / r.comparator.p50
})

/** Tessera and the comparator alternated (`race.ts`) with this workload's tinybench settings. */
const raceChecks = (options: BenchOptions, perOp: number, tessera: () => Promise<unknown>, comparator: () => unknown) =>
  race({ reps: options.reps, perOp, bench: { time: options.time, warmupTime: Math.min(200, options.time / 4), warmupIterations: 5 } }, tessera, comparator)

/**
 * The check workloads on the store `layer` provides (filled with `users` users by `check-data.ts`), against
 * `comparator`; `label` names the store in the rows.
 */
export const checkBench = async <E>(
  label: string,
  layer: Layer.Layer<UserStore | ResourceStore, E>,
  comparator: Comparator,
  users: number,
  options: BenchOptions
): Promise<ReadonlyArray<CheckRow>> => {
  // the tracer off for the whole runtime, as the server runs without an exporter (docs/operations.md#logs-traces-and-metrics)
  const runtime = ManagedRuntime.make(Layer.merge(layer, Layer.setTracerEnabled(false)))
  try {
    const ask = (checks: ReadonlyArray<CheckRequest>) => runtime.runPromise(check(SystemActor, checks))
    const rows: Array<CheckRow> = []
    const singles = new Map([1, 8, 32].map((depth) => [depth, pairsAt(users, depth, 256)]))
    const batches = Array.from({ length: 8 }, (_, seed) => batchOf(users, seed))

    // The same answers both ways, or the comparison means nothing.
    for (const pairs of [...singles.values(), ...batches]) {
      const answers = await ask(pairs)
      for (const [k, c] of pairs.entries()) {
        const expected = await comparator.role(c)
        if (answers[k]!.role !== expected) throw new Error(`${label}: ${c.user_id} on ${c.resource_id}: Tessera ${answers[k]!.role}, comparator ${expected}`)
      }
    }

    for (const [depth, pairs] of singles) {
      let a = 0
      let b = 0
      const result = await raceChecks(
        options,
        1,
        () => ask([pairs[a++ % pairs.length]!]),
        () => comparator.role(pairs[b++ % pairs.length]!)
      )
      rows.push({ store: label, workload: `check, depth ${depth}`, ...result, ...ratios(result) })
    }
    let a = 0
    let b = 0
    const batch = await raceChecks(
      options,
      100,
      () => ask(batches[a++ % batches.length]!),
      comparator.sync
        ? () => {
          for (const c of batches[b++ % batches.length]!) comparator.role(c)
        }
        : async () => {
          for (const c of batches[b++ % batches.length]!) await comparator.role(c)
        }
    )
    rows.push({ store: label, workload: "batch of 100 checks (per check)", ...batch, ...ratios(batch) })
    return rows
  } finally {
    await runtime.dispose()
  }
}

/** SQLite in a temporary file filled with `users` users. */
const sqliteChecks = (users: number, options: BenchOptions) =>
  Effect.gen(function*() {
    const dir = mkdtempSync(join(tmpdir(), "tessera-check-bench-"))
    const file = join(dir, "checks.db")
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    yield* Effect.provide(Effect.zipRight(migrateUp(Sqlite.migrations(), Sqlite.dialect), fillCheckData(users)), Layer.fresh(Sqlite.layer(file)))
    return yield* Effect.promise(async () => {
      const comparator = sqliteComparator(file)
      try {
        return await checkBench("sqlite", Sqlite.layer(file), comparator, users, options)
      } finally {
        await comparator.close()
      }
    })
  })

/** Connections in Tessera's pool and the comparator's alike: the store's default. */
const PG_CONNECTIONS = 10

/** PostgreSQL in a fresh database filled with `users` users, named statements and (with `unnamed`) unnamed. */
const pgChecks = (users: number, options: BenchOptions) =>
  Effect.gen(function*() {
    const rows: Array<CheckRow> = []
    const url = yield* freshDatabase
    yield* Effect.provide(Effect.zipRight(migrateUp(Pg.migrations(), Pg.dialect), fillCheckData(users)), Layer.fresh(Pg.layer({ url })))
    // with the store's named statements, then (unless `named` only) as every statement went before: unnamed
    for (const preparedStatements of options.unnamed ? [true, false] : [true]) {
      rows.push(...(yield* Effect.promise(async () => {
        const comparator = await pgComparator(Redacted.value(url), PG_CONNECTIONS)
        try {
          const label = preparedStatements ? "pg" : "pg, unnamed statements"
          return await checkBench(label, Pg.layer({ url, preparedStatements, maxConnections: PG_CONNECTIONS }), comparator, users, options)
        } finally {
          await comparator.close()
        }
      })))
    }
    return rows
  })

/** Both stores (or those `options.stores` names), each filled with the same `users` users. */
export const checkWorkloads = (users: number, options: BenchOptions) =>
  Effect.gen(function*() {
    const rows: Array<CheckRow> = []
    const stores = options.stores ?? ["sqlite", "pg"]
    if (stores.includes("sqlite")) rows.push(...(yield* sqliteChecks(users, options)))
    if (stores.includes("pg")) rows.push(...(yield* pgChecks(users, options)))
    return rows
  }).pipe(Effect.scoped, Effect.orDie)
