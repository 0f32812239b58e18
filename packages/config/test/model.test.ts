/**
 * One reference model, both stores (docs/model.md): random command
 * sequences run against the pure model, a fresh SQLite store and a fresh
 * PostgreSQL database side by side. After every step each store must have
 * answered exactly as the model did (value or failure), must show the same
 * observable snapshot, and its doctor must find nothing.
 *
 * CI runs a fixed budget; `TESSERA_MODEL_RUNS` and `TESSERA_MODEL_STEPS`
 * run it longer, `TESSERA_MODEL_SEED` replays a reported seed.
 */
import { describe, it } from "@effect/vitest"
import {
  Bindings,
  bootstrap,
  type Command,
  commandSequence,
  doctorViolations,
  execute,
  initialModel,
  type ModelPorts,
  type ModelStore,
  observe,
  type RawCommand,
  resolve,
  snapshot,
  snapshotDifferences,
  step
} from "@tessera/store-contract/model/index"
import { migrateUp } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import { freshDatabaseLayer } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import { SqlClient } from "@effect/sql"
import { type Context, Effect, FastCheck as fc, Layer, type Scope } from "effect"

const envInt = (name: string, fallback: number) => {
  const raw = process.env[name]
  const value = raw === undefined ? NaN : Number.parseInt(raw, 10)
  return Number.isFinite(value) && value > 0 ? value : fallback
}

const RUNS = envInt("TESSERA_MODEL_RUNS", 25)
const STEPS = envInt("TESSERA_MODEL_STEPS", 30)
const SEED = process.env["TESSERA_MODEL_SEED"] === undefined ? undefined : Number(process.env["TESSERA_MODEL_SEED"])
/** Also print how often each command got each answer: how much of the kernel the sequences reached. */
const VERBOSE = process.env["TESSERA_MODEL_VERBOSE"] !== undefined

const sqliteLayer = () =>
  Layer.effectDiscard(migrateUp(Sqlite.migrations(), Sqlite.dialect)).pipe(Layer.provideMerge(Sqlite.layer(":memory:")), Layer.orDie)

/** One fresh database for the whole test, emptied between runs (`emptyPg`): creating one per run costs a second each. */
const pgLayer = () =>
  freshDatabaseLayer((url) =>
    Layer.effectDiscard(migrateUp(Pg.migrations(), Pg.dialect)).pipe(Layer.provideMerge(Pg.layer({ url, maxConnections: 2 })), Layer.orDie)
  )

/** Empties every table but the migrations' record and the event counter's one row. */
const emptyPg = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const tables = yield* sql<{ tablename: string }>`SELECT tablename FROM pg_tables
    WHERE schemaname = current_schema() AND tablename NOT IN ('tessera_migrations', 'event_counter')`
  yield* sql.unsafe(`TRUNCATE ${tables.map((t) => `"${t.tablename}"`).join(", ")}`)
}).pipe(Effect.orDie)

type Opened = { readonly store: ModelStore; readonly context: Context.Context<ModelPorts | SqlClient.SqlClient> }

/** Builds a store's layer for the enclosing scope and runs programs against its context. */
const openStore = (name: string, layer: Layer.Layer<ModelPorts | SqlClient.SqlClient>): Effect.Effect<Opened, never, Scope.Scope> =>
  Effect.map(Layer.build(layer), (context) => ({
    context,
    store: { name, run: <A, E>(program: Effect.Effect<A, E, ModelPorts>) => Effect.provide(program, context) }
  }))

let stepsRun = 0
const outcomes = { ok: 0, refused: 0 }
const answerCounts = new Map<string, number>()

/** The history a failure is reported with: each resolved command and what the model answered. */
const describeStep = (k: number, command: Command, outcome: unknown) =>
  `  ${String(k).padStart(3)}. ${JSON.stringify(command)} → ${JSON.stringify(outcome)}`

/** Every store, at once: they share nothing. */
const onEach = <A>(stores: ReadonlyArray<ModelStore>, f: (store: ModelStore, k: number) => Effect.Effect<A>) =>
  Effect.forEach(stores, f, { concurrency: "unbounded" })

const runSequence = (pg: Opened, raws: ReadonlyArray<RawCommand>) =>
  Effect.scoped(Effect.gen(function*() {
    yield* Effect.provide(emptyPg, pg.context)
    const stores = [(yield* openStore("sqlite", sqliteLayer())).store, pg.store]
    const bindings = stores.map(() => new Bindings())
    yield* onEach(stores, (store, k) => bootstrap(store, bindings[k]!))
    let model = initialModel()
    const history: Array<string> = []
    const fail = (message: string) => {
      throw new Error(`${message}\nsteps so far (command → the model's answer):\n${history.join("\n")}`)
    }
    for (const raw of raws) {
      const command = resolve(model, raw)
      if (command === undefined) continue
      const result = step(model, command)
      history.push(describeStep(history.length, command, result.outcome))
      const seenAnswers = yield* onEach(stores, (store, k) => execute(store, bindings[k]!, command, result.created))
      for (const [k, seen] of seenAnswers.entries()) {
        if (JSON.stringify(seen) !== JSON.stringify(result.outcome)) {
          fail(`${stores[k]!.name} answered ${JSON.stringify(seen)} where the model answered ${JSON.stringify(result.outcome)}`)
        }
      }
      model = result.model
      const expected = snapshot(model)
      const states = yield* onEach(stores, (store, k) =>
        Effect.all({ seen: observe(store, bindings[k]!, expected), violations: doctorViolations(store) }))
      for (const [k, { seen, violations }] of states.entries()) {
        const name = stores[k]!.name
        const differences = snapshotDifferences(expected, seen, name)
        if (differences.length > 0) fail(`${name}'s observable state differs from the model's after the last step:\n${differences.join("\n")}`)
        if (violations.length > 0) fail(`the doctor found violations on ${name} after the last step:\n${JSON.stringify(violations, null, 2)}`)
      }
      stepsRun++
      outcomes["ok" in result.outcome ? "ok" : "refused"]++
      const answer = `${command._tag} → ${"ok" in result.outcome ? "ok" : result.outcome.error}`
      answerCounts.set(answer, (answerCounts.get(answer) ?? 0) + 1)
    }
  }))

describe("the reference model and both stores", () => {
  it(
    `agree after every step of ${RUNS} random sequences of ${STEPS} commands, with a clean doctor`,
    async () => {
      const started = Date.now()
      await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        const pg = yield* openStore("pg", pgLayer())
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(commandSequence(STEPS), (raws) => Effect.runPromise(runSequence(pg, raws))),
            { numRuns: RUNS, endOnFailure: true, ...(SEED === undefined ? {} : { seed: SEED }) }
          )
        )
      })))
      const seconds = (Date.now() - started) / 1000
      console.log(
        `model-based test: ${stepsRun} steps (${outcomes.ok} succeeded, ${outcomes.refused} refused) in ${RUNS} runs of ${STEPS} ` +
          `commands on the model, SQLite and PostgreSQL, ${seconds.toFixed(1)} s` +
          (VERBOSE ? `\n${[...answerCounts].sort().map(([answer, n]) => `  ${String(n).padStart(5)}  ${answer}`).join("\n")}` : "")
      )
    },
    // about a second per run on a loaded machine; bounded, and scaled with the budget
    Math.max(180_000, RUNS * STEPS * 400)
  )
})
