import { migrateUp } from "@tessera/store-sql"
import { storeContract } from "@tessera/store-contract"
import { Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

storeContract(
  "pg",
  freshDatabaseLayer((url) =>
    Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer({ url })), Layer.orDie)
  )
)
