// Runs the access contract (docs/access.md: principals, explain, reachable) on a fresh PostgreSQL database.
import { accessContract } from "@tessera/store-contract/access"
import { migrateUp } from "@tessera/store-sql"
import { Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

accessContract(
  "pg",
  freshDatabaseLayer((url) => Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer({ url })), Layer.orDie))
)
