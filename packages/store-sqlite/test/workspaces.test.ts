// Runs the workspace contract (docs/domain.md#workspaces) on a fresh SQLite file.
import { migrateUp } from "@tessera/store-sql"
import { workspaceContract } from "@tessera/store-contract/workspaces"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"

const file = join(mkdtempSync(join(tmpdir(), "tessera-ws-")), "tessera.db")

workspaceContract("sqlite", Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer(file)), Layer.orDie))
