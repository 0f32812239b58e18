/**
 * The redemption workloads alone (`redeem.ts`), without the rest of `pnpm bench`, and what one authentication
 * and one redemption cost Node (`redeem-cost.ts`):
 *   tsx src/redeem-run.ts [--smoke] [--serial N] [--concurrent N] [--burst N] [--rounds N] [--cost-only] [--ops N] [--reps N] [sqlite] [pg]
 * Both stores unless named. Prints the tables; writes nothing.
 */
import { Effect } from "effect"
import { storeCosts } from "./redeem-cost.js"
import { redeemOptions, redeemWorkloads, storeSetups } from "./redeem.js"
import { flag, has, storesNamed } from "./args.js"

const smoke = has("--smoke")
const stores = storesNamed()
const defaults = redeemOptions(smoke)

const program = Effect.gen(function*() {
  const costs = []
  for (const setup of yield* storeSetups(stores)) {
    costs.push(...(yield* Effect.promise(() => storeCosts(setup.store, setup, { ops: flag("--ops", smoke ? 50 : 300), reps: flag("--reps", 3) }))))
  }
  console.table(costs.map((r) => ({
    store: r.store,
    what: r.what,
    ops: r.ops,
    "CPU µs/op": Math.round(r.cpuMicros),
    "wall µs/op": Math.round(r.wallMicros),
    statements: r.statements
  })))
  if (has("--cost-only")) return
  const { floor, races, rows } = yield* redeemWorkloads({
    serial: flag("--serial", defaults.serial),
    concurrent: flag("--concurrent", defaults.concurrent),
    burst: flag("--burst", defaults.burst),
    rounds: flag("--rounds", defaults.rounds)
  }, stores)
  console.table(rows.map((r) => ({
    store: r.store,
    workload: r.workload,
    "Tessera/s": Math.round(r.tessera.perSecond),
    "Tessera p50": r.tessera.p50.toFixed(1),
    peer: r.peerName,
    "peer/s": Math.round(r.peer.perSecond),
    "peer p50": r.peer.p50.toFixed(1),
    ratio: (r.tessera.perSecond / r.peer.perSecond).toFixed(2)
  })))
  console.table(races)
  if (floor !== undefined) console.table([floor])
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
