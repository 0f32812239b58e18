// Runs the workspace contract (docs/domain.md#workspaces) on a fresh PostgreSQL database.
import { migrateUp } from "@tessera/store-sql"
import { workspaceContract } from "@tessera/store-contract/workspaces"
import { Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

workspaceContract(
  "pg",
  freshDatabaseLayer((url) =>
    Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer({ url })), Layer.orDie)
  )
)
