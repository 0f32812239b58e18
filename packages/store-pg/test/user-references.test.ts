// Proves on PostgreSQL that migration 0003 makes the store refuse references to missing users and a second pending registration invite per handle, and that it applies over data the old code left behind: orphans removed, duplicates canceled, everything valid kept.
import { describe, expect, it } from "@effect/vitest"
import { MigrationProbe, migrateFromEmpty, rows, userReferencesContract } from "@tessera/store-contract/userReferences"
import { verifyMigrations } from "@tessera/store-sql"
import { migrationProbe } from "@tessera/store-sql/testing"
import { Effect, Layer } from "effect"
import { clientLayer, dialect, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

const all = migrations()

/** A fresh database with no migration applied, its client, and the probe. */
const fresh = () =>
  freshDatabaseLayer((url) =>
    Layer.effect(MigrationProbe, migrationProbe(all, dialect)).pipe(Layer.provideMerge(clientLayer({ url, maxConnections: 2 })))
  )

/** Every foreign key to users, with its ON DELETE action (`a` no action, `c` cascade) and whether it was validated. */
const userReferences = rows(`
  SELECT conrelid::regclass::text AS "table", conname AS name, confdeltype AS on_delete, convalidated AS validated
  FROM pg_constraint WHERE contype = 'f' AND confrelid = 'users'::regclass ORDER BY 1`)

describe("PostgreSQL migration 0003_user_references", () => {
  it.live("an empty store migrates to head and verifies; users are referenced with ON DELETE NO ACTION, API keys still cascade", () =>
    Effect.gen(function*() {
      yield* migrateFromEmpty
      expect((yield* verifyMigrations(all)).every((s) => s.state === "applied")).toBe(true)
      expect(yield* userReferences).toEqual([
        { table: "api_keys", name: "api_keys_user_id_fkey", on_delete: "c", validated: true },
        { table: "resource_accesses", name: "resource_accesses_user_id_fkey", on_delete: "a", validated: true },
        { table: "workspace_members", name: "workspace_members_user_id_fkey", on_delete: "a", validated: true },
        { table: "workspaces", name: "workspaces_owner_user_id_fkey", on_delete: "a", validated: true }
      ])
      const index = yield* rows("SELECT indexdef FROM pg_indexes WHERE indexname = 'invites_one_pending_registration'")
      expect(index.map((r) => r["indexdef"])).toEqual([expect.stringMatching(/UNIQUE INDEX .* ON .*invites .*\(handle\) WHERE/)])
    }).pipe(Effect.provide(fresh())))

  userReferencesContract(fresh, {
    foreignKey: "23503",
    duplicate: { personalWorkspace: "23505", membership: "23505", access: "23505" },
    pendingRegistration: "invites_one_pending_registration",
    referencesChecked: Effect.map(userReferences, (references) => expect(references.every((r) => r["validated"] === true)).toBe(true))
  })
})
