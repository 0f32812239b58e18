// Runs the maintenance contract (cleanup and purge in keyset pages, bounded statements, deletion with many grants) on a fresh SQLite file.
import { maintenanceContract, StatementMeter } from "@tessera/store-contract/maintenance"
import { migrateUp } from "@tessera/store-sql"
import { meterStatements } from "@tessera/store-sql/meter"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"

const file = join(mkdtempSync(join(tmpdir(), "tessera-maintenance-")), "tessera.db")
const meter = Layer.succeed(StatementMeter, StatementMeter.of({ measure: meterStatements }))

maintenanceContract(
  "sqlite",
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer(file)), Layer.merge(meter), Layer.orDie)
)
