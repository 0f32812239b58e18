// Runs the access contract (docs/access.md: principals, explain, reachable) on a fresh SQLite file.
import { accessContract } from "@tessera/store-contract/access"
import { migrateUp } from "@tessera/store-sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"

const file = join(mkdtempSync(join(tmpdir(), "tessera-access-")), "tessera.db")

accessContract("sqlite", Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer(file)), Layer.orDie))
