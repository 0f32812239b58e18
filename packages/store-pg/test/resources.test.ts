// Runs the resource contract (docs/domain.md#resources, docs/domain.md#moves) on a fresh PostgreSQL database, with the stored sibling positions read back.
import { SqlClient } from "@effect/sql"
import { resourceContract, type SiblingRow } from "@tessera/store-contract/resources"
import { migrateUp } from "@tessera/store-sql"
import { Effect, Layer } from "effect"
import { dialect, layer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

resourceContract(
  "pg",
  freshDatabaseLayer((url) =>
    Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(Layer.provideMerge(layer({ url })), Layer.orDie)
  ),
  {
    positions: (workspaceId) =>
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<SiblingRow>`SELECT id, parent_id, position FROM resources WHERE workspace_id = ${workspaceId}`).pipe(Effect.orDie)
  }
)
