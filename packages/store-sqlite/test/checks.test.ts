// Runs the batch check contract (docs/domain.md#resources, `check`) on a fresh SQLite file.
import { checkContract } from "@tessera/store-contract/checks"
import { migrateUp } from "@tessera/store-sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"

const file = join(mkdtempSync(join(tmpdir(), "tessera-checks-")), "tessera.db")

checkContract("sqlite", Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer(file)), Layer.orDie))
