// Proves on SQLite that migration 0003 makes the store refuse references to missing users and a second pending registration invite per handle, and that it applies over data the old code left behind: orphans removed, duplicates canceled, team members kept through the table rebuild.
import { describe, expect, it } from "@effect/vitest"
import { MigrationProbe, migrate, migrateFromEmpty, rows, userReferencesContract } from "@tessera/store-contract/userReferences"
import { verifyMigrations } from "@tessera/store-sql"
import { migrationProbe } from "@tessera/store-sql/testing"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { clientLayer, dialect, migrations } from "../src/index.js"

const all = migrations()

/** A fresh file with no migration applied, its client, and the probe. */
const fresh = () =>
  Layer.effect(MigrationProbe, migrationProbe(all, dialect)).pipe(
    Layer.provideMerge(clientLayer(join(mkdtempSync(join(tmpdir(), "tessera-refs-")), "tessera.db")))
  )

const T = "'2024-01-01T00:00:00.000Z'"

const foreignKeysOn = Effect.map(rows("PRAGMA foreign_keys"), (r) => r[0]!["foreign_keys"])

describe("SQLite migration 0003_user_references", () => {
  it.live("an empty store migrates to head, verifies, and keeps foreign keys on", () =>
    Effect.gen(function*() {
      yield* migrateFromEmpty
      expect((yield* verifyMigrations(all)).every((s) => s.state === "applied")).toBe(true)
      expect(yield* foreignKeysOn).toBe(1)
      expect(yield* rows("PRAGMA foreign_key_check")).toEqual([])
      const indexes = (yield* rows("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
        .map((r) => r["name"])
      expect(indexes).toEqual(expect.arrayContaining([
        "invites_one_pending_registration",
        "resource_accesses_user",
        "workspace_members_user",
        "workspaces_one_personal"
      ]))
      expect(yield* rows("SELECT name FROM sqlite_master WHERE name LIKE '%_new'")).toEqual([])
    }).pipe(Effect.provide(fresh())))

  it.live("every membership survives 0003 in a store with no resources, where dropping workspaces with foreign keys on would delete them all", () =>
    Effect.gen(function*() {
      yield* migrate(2)
      yield* rows(`INSERT INTO users (id, handle, role, status, created_at) VALUES
        ('usr_alice', 'alice', 'admin', 'active', ${T}), ('usr_bob', 'bob', 'member', 'active', ${T})`)
      yield* rows(`INSERT INTO workspaces (id, name, is_personal, owner_user_id, created_at, updated_at) VALUES
        ('ws_alice', 'alice', 1, 'usr_alice', ${T}, ${T}), ('ws_team', 'team', 0, NULL, ${T}, ${T})`)
      yield* rows(`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES
        ('ws_alice', 'usr_alice', 'admin'), ('ws_team', 'usr_alice', 'admin'), ('ws_team', 'usr_bob', 'member')`)
      const before = yield* rows("SELECT workspace_id, user_id, role FROM workspace_members ORDER BY workspace_id, user_id")
      yield* migrate()
      expect(yield* rows("SELECT workspace_id, user_id, role FROM workspace_members ORDER BY workspace_id, user_id")).toEqual(before)
      expect(before.length).toBe(3)
    }).pipe(Effect.provide(fresh())))

  userReferencesContract(fresh, {
    foreignKey: "SQLITE_CONSTRAINT_FOREIGNKEY",
    duplicate: { personalWorkspace: "SQLITE_CONSTRAINT_UNIQUE", membership: "SQLITE_CONSTRAINT_PRIMARYKEY", access: "SQLITE_CONSTRAINT_UNIQUE" },
    pendingRegistration: "invites.handle",
    referencesChecked: Effect.gen(function*() {
      expect(yield* foreignKeysOn).toBe(1)
      expect(yield* rows("PRAGMA foreign_key_check")).toEqual([])
    })
  })
})
