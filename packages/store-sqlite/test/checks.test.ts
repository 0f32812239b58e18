// Runs the batch check contract (docs/domain.md#resources, `check`) on a fresh SQLite file, and the access writers
// contract (raw statements write accesses; the check sees them at once).
import { SqlClient } from "@effect/sql"
import { AccessWriter, accessWritersContract, checkContract } from "@tessera/store-contract/checks"
import { migrateUp } from "@tessera/store-sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"

const file = join(mkdtempSync(join(tmpdir(), "tessera-checks-")), "tessera.db")

checkContract("sqlite", Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer(file)), Layer.orDie))

accessWritersContract(
  "sqlite",
  Layer.effect(AccessWriter, Effect.map(SqlClient.SqlClient, (sql) => ({ run: (statement: string) => Effect.orDie(sql.unsafe(statement)) }))).pipe(
    Layer.provideMerge(Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer(join(mkdtempSync(join(tmpdir(), "tessera-writers-")), "tessera.db"))), Layer.orDie))
  )
)
