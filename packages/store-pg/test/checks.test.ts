// Runs the batch check contract (docs/domain.md#resources, `check`) on a fresh PostgreSQL database, with named statements and without;
// shows the check's statements are named (prepared once per connection) unless that is turned off; and runs the access
// writers contract (raw statements write accesses; the check sees them at once).
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { check, effectiveRoleOf, type ResourceId, SystemActor, type UserId } from "@tessera/domain"
import { AccessWriter, accessWritersContract, checkContract } from "@tessera/store-contract/checks"
import { migrateUp } from "@tessera/store-sql"
import { Effect, Layer } from "effect"
import { dialect, layer as pgLayer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

const store = (preparedStatements: boolean) =>
  freshDatabaseLayer((url) =>
    Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
      Layer.provideMerge(pgLayer({ url, preparedStatements, maxConnections: 1 })),
      Layer.orDie
    )
  )

for (const preparedStatements of [true, false]) {
  checkContract(preparedStatements ? "pg" : "pg (unnamed statements)", store(preparedStatements))

  layer(store(preparedStatements), { timeout: "60 seconds" })(`pg statements (${preparedStatements ? "named" : "unnamed"})`, (it) => {
    describe("the check's walks on the one connection", () => {
      it.effect(preparedStatements ? "are prepared statements of the session, each named once" : "leave no prepared statement behind", () =>
        Effect.gen(function*() {
          const nobody = "usr_0000000000000000000000000000dead" as UserId
          const nothing = "res_0000000000000000000000000000dead" as ResourceId
          for (let i = 0; i < 3; i++) {
            yield* check(SystemActor, [{ user_id: nobody, resource_id: nothing, action: "read" }])
            yield* effectiveRoleOf(nobody, nothing)
          }
          const sql = yield* SqlClient.SqlClient
          const names = (yield* sql<{ name: string }>`SELECT name FROM pg_prepared_statements ORDER BY name`.pipe(Effect.orDie)).map((r) => r.name)
          expect(names.map((n) => n.replace(/_[0-9a-f]+$/, ""))).toEqual(preparedStatements ? ["tessera_check_facts", "tessera_role_facts"] : [])
        }))
    })
  })
}

accessWritersContract(
  "pg",
  Layer.effect(AccessWriter, Effect.map(SqlClient.SqlClient, (sql) => ({ run: (statement: string) => Effect.orDie(sql.unsafe(statement)) }))).pipe(
    Layer.provideMerge(store(true))
  )
)
