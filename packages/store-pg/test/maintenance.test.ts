// Runs the maintenance contract (cleanup and purge in keyset pages, bounded statements, deletion with many grants) on a fresh PostgreSQL database.
import { maintenanceContract, StatementMeter } from "@tessera/store-contract/maintenance"
import { migrateUp } from "@tessera/store-sql"
import { meterStatements } from "@tessera/store-sql/meter"
import { Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

const meter = Layer.succeed(StatementMeter, StatementMeter.of({ measure: meterStatements }))

maintenanceContract(
  "pg",
  freshDatabaseLayer((url) =>
    Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer({ url })), Layer.merge(meter), Layer.orDie)
  )
)
