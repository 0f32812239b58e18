/**
 * Where one redemption's CPU goes, in process: `node --cpu-prof --cpu-prof-dir=DIR --import tsx src/redeem-profile.ts
 * [sqlite|pg] [ops]` redeems `ops` fresh grant invites one after another (tracer off, as the server runs) and exits;
 * read the profile with any CPU-profile viewer. Prints the rate; asserts nothing.
 */
import { redeemInvite } from "@tessera/domain"
import { Effect, Layer, ManagedRuntime } from "effect"
import { prepareStore, storeSetups } from "./redeem.js"

const store = process.argv[2] === "pg" ? "pg" : "sqlite"
const ops = Number(process.argv[3] ?? 3_000)

Effect.runPromise(Effect.scoped(Effect.gen(function*() {
  const [setup] = yield* storeSetups([store])
  yield* Effect.promise(async () => {
    const runtime = ManagedRuntime.make(Layer.merge(setup!.layer as Layer.Layer<any, unknown>, Layer.setTracerEnabled(false)))
    const { take, comparator } = await prepareStore(runtime, setup!, ops + 200)
    for (const r of take(200)) await runtime.runPromise(redeemInvite(r.principal, r.invite))
    const people = take(ops)
    const started = performance.now()
    for (const r of people) await runtime.runPromise(redeemInvite(r.principal, r.invite))
    console.log(`${store}: ${ops} redemptions, ${Math.round((ops * 1000) / (performance.now() - started))}/s`)
    await comparator.close()
    await runtime.dispose()
  })
}))).catch((error) => {
  console.error(error)
  process.exit(1)
})
