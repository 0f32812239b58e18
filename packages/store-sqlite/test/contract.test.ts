import { migrateUp } from "@tessera/store-sql"
import { storeContract } from "@tessera/store-contract"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"

export const freshSqliteLayer = () => {
  const file = join(mkdtempSync(join(tmpdir(), "tessera-")), "tessera.db")
  return Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer(file)), Layer.orDie)
}

storeContract("sqlite", freshSqliteLayer())
