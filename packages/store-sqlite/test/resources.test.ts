// Runs the resource contract (docs/domain.md#resources, docs/domain.md#moves) on a fresh SQLite file, with the stored sibling positions read back.
import { SqlClient } from "@effect/sql"
import { resourceContract, type SiblingRow } from "@tessera/store-contract/resources"
import { migrateUp } from "@tessera/store-sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"

const file = join(mkdtempSync(join(tmpdir(), "tessera-res-")), "tessera.db")

resourceContract(
  "sqlite",
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer(file)), Layer.orDie),
  {
    positions: (workspaceId) =>
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<SiblingRow>`SELECT id, parent_id, position FROM resources WHERE workspace_id = ${workspaceId}`).pipe(Effect.orDie)
  }
)
