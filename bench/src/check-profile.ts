/**
 * Where one permission check's CPU goes, in process: `node --cpu-prof --cpu-prof-dir=DIR --import tsx
 * src/check-profile.ts [sqlite|pg] [depth] [ops]` fills a store as `checks.ts` does (1,000 users) and runs `ops`
 * single checks at `depth` one after another (tracer off, as the server runs), then exits. Prints the rate.
 */
import { check, SystemActor } from "@tessera/domain"
import { migrateUp } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import { freshDatabase } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, ManagedRuntime } from "effect"
import { fillCheckData, teamOf, teamResource, TEAM_SIZE, userId } from "./check-data.js"

const store = process.argv[2] === "pg" ? "pg" : "sqlite"
const depth = Number(process.argv[3] ?? 1)
const ops = Number(process.argv[4] ?? 20_000)
const users = 1_000

Effect.runPromise(Effect.scoped(Effect.gen(function*() {
  const layer = store === "pg"
    ? Pg.layer({ url: yield* freshDatabase })
    : Sqlite.layer(join(mkdtempSync(join(tmpdir(), "tessera-check-profile-")), "checks.db"))
  yield* Effect.provide(Effect.zipRight(migrateUp(store === "pg" ? Pg.migrations() : Sqlite.migrations(), store === "pg" ? Pg.dialect : Sqlite.dialect), fillCheckData(users)), layer)
  yield* Effect.promise(async () => {
    const runtime = ManagedRuntime.make(Layer.merge(layer as Layer.Layer<any, unknown>, Layer.setTracerEnabled(false)))
    const teams = users / TEAM_SIZE
    const pairs = Array.from({ length: 100 }, (_, j) => {
      const i = teams + 1 + ((j * 7919) % (users - teams))
      return { user_id: userId(i), resource_id: teamResource(teamOf(i, teams), depth), action: "read" as const }
    })
    for (let i = 0; i < 500; i++) await runtime.runPromise(check(SystemActor, [pairs[i % pairs.length]!]))
    const started = performance.now()
    const cpu = process.cpuUsage()
    for (let i = 0; i < ops; i++) await runtime.runPromise(check(SystemActor, [pairs[i % pairs.length]!]))
    const used = process.cpuUsage(cpu)
    const ms = performance.now() - started
    console.log(`${store} depth ${depth}: ${Math.round((ops * 1000) / ms)} checks/s, ${Math.round((used.user + used.system) / ops)} µs CPU a check`)
    await runtime.dispose()
  })
}))).catch((error) => {
  console.error(error)
  process.exit(1)
})
