/**
 * Migration 0003_user_references on every store: afterwards the store
 * refuses a membership, access or personal workspace of a missing user,
 * and a second pending registration invite for one handle; and it applies
 * over the data the code before it could leave behind — the rows of
 * deleted users removed, duplicate pending registrations canceled,
 * everything valid kept.
 *
 * It works beneath the ports, on a store no migration has touched yet:
 * it applies the store's migrations and runs raw statements through
 * `MigrationProbe`, which the store's tests supply, and takes what the
 * dialects answer differently as `UserReferencesDialect`. It never runs a
 * use case: what it checks lies under all of them.
 */
import { expect, it } from "@effect/vitest"
import { Context, Effect, type Layer } from "effect"

/** What the driver said when it refused a statement: its code and, for a unique violation, what it names. */
export interface Refusal {
  readonly code: string
  readonly unique: string | undefined
}

/** Raw SQL and the migrations of one store, on which nothing is applied until the test asks. */
export class MigrationProbe extends Context.Tag("StoreContract/MigrationProbe")<MigrationProbe, {
  /** The versions of the store's migrations, in order. */
  readonly versions: ReadonlyArray<number>
  /** Applies the migrations up to `version` (every one when omitted); returns the versions this call applied. */
  readonly migrate: (version?: number) => Effect.Effect<ReadonlyArray<number>>
  /** Runs one statement and returns its rows; a statement the store refuses fails with the refusal. */
  readonly run: (statement: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, Refusal>
}>() {}

/** What a store's dialect answers where the two differ. */
export interface UserReferencesDialect {
  /** The driver's code for a reference to a missing row. */
  readonly foreignKey: string
  /** The driver's codes for a second personal workspace of one user, a second membership and a second access of one pair. */
  readonly duplicate: { readonly personalWorkspace: string; readonly membership: string; readonly access: string }
  /** What the refusal of a second pending registration invite for one handle names. */
  readonly pendingRegistration: string
  /** Asserts that the store, migrated over legacy data, checks every reference to a user. */
  readonly referencesChecked: Effect.Effect<void, never, MigrationProbe>
}

/** Applies the store's migrations up to `version`, every one when omitted; returns the versions applied. */
export const migrate = (version?: number) => Effect.flatMap(MigrationProbe, (probe) => probe.migrate(version))

const run = (statement: string) => Effect.flatMap(MigrationProbe, (probe) => probe.run(statement))

/** Migrates an empty store to head in one call, 0003 among the steps. */
export const migrateFromEmpty = Effect.gen(function*() {
  const { versions } = yield* MigrationProbe
  expect(yield* migrate()).toEqual(versions)
  expect(versions).toContain(3)
})

/** The rows of a statement the store must accept. */
export const rows = (statement: string) => Effect.orDie(run(statement))

/** The driver's code for a statement that must be refused. */
const refusal = (statement: string) => Effect.map(Effect.flip(run(statement)), (refused) => refused.code)

const T = "'2024-01-01T00:00:00.000Z'"

/** Data as the code before 0003 could leave it: rows of the deleted users usr_ghost and usr_gone, duplicate pending registrations. */
const legacyData = [
  `INSERT INTO users (id, handle, role, status, created_at) VALUES
     ('usr_alice', 'alice', 'admin', 'active', ${T}), ('usr_bob', 'bob', 'member', 'active', ${T})`,
  `INSERT INTO workspaces (id, name, is_personal, owner_user_id, created_at, updated_at) VALUES
     ('ws_alice', 'alice', 1, 'usr_alice', ${T}, ${T}), ('ws_bob', 'bob', 1, 'usr_bob', ${T}, ${T}),
     ('ws_ghost', 'ghost', 1, 'usr_ghost', ${T}, ${T}), ('ws_team', 'team', 0, NULL, ${T}, ${T}),
     ('ws_stray', 'stray', 0, 'usr_gone', ${T}, ${T})`,
  `INSERT INTO workspace_members (workspace_id, user_id, role) VALUES
     ('ws_alice', 'usr_alice', 'admin'), ('ws_bob', 'usr_bob', 'admin'),
     ('ws_ghost', 'usr_ghost', 'admin'), ('ws_ghost', 'usr_bob', 'member'),
     ('ws_team', 'usr_alice', 'admin'), ('ws_team', 'usr_bob', 'member'), ('ws_team', 'usr_ghost', 'member'),
     ('ws_stray', 'usr_alice', 'admin'), ('ws_stray', 'usr_gone', 'member')`,
  `INSERT INTO resources (id, workspace_id, kind, title, parent_id, position, link_reach, link_role, created_by, created_at, updated_at) VALUES
     ('res_g_root', 'ws_ghost', 'folder', 'g', NULL, 0, 'restricted', 'reader', 'usr_ghost', ${T}, ${T}),
     ('res_g_child', 'ws_ghost', 'folder', 'g1', 'res_g_root', 0, 'restricted', 'reader', 'usr_ghost', ${T}, ${T}),
     ('res_g_leaf', 'ws_ghost', 'document', 'g2', 'res_g_child', 0, 'restricted', 'reader', 'usr_ghost', ${T}, ${T}),
     ('res_t_root', 'ws_team', 'folder', 't', NULL, 0, 'restricted', 'reader', 'usr_ghost', ${T}, ${T}),
     ('res_t_doc', 'ws_team', 'document', 't1', 'res_t_root', 0, 'restricted', 'reader', 'usr_ghost', ${T}, ${T})`,
  `INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES
     ('acc_1', 'res_g_root', 'usr_ghost', 'owner'), ('acc_2', 'res_g_child', 'usr_bob', 'reader'),
     ('acc_3', 'res_t_root', 'usr_alice', 'owner'), ('acc_4', 'res_t_root', 'usr_ghost', 'editor'),
     ('acc_5', 'res_t_root', 'usr_bob', 'reader'), ('acc_6', 'res_t_doc', 'usr_gone', 'commenter')`,
  `INSERT INTO invites (id, digest, kind, status, handle, role, workspace_id, workspace_role, expires_at, created_at, created_by, redeemed_by) VALUES
     ('inv_c1', 'd_c1', 'registration', 'pending', 'carol', 'member', NULL, NULL, '2099-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', 'usr_ghost', NULL),
     ('inv_c2', 'd_c2', 'registration', 'pending', 'carol', 'member', NULL, NULL, '2099-01-01T00:00:00.000Z', '2024-01-03T00:00:00.000Z', 'usr_alice', NULL),
     ('inv_c3', 'd_c3', 'registration', 'pending', 'carol', 'member', NULL, NULL, '2099-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z', 'usr_alice', NULL),
     ('inv_d1', 'd_d1', 'registration', 'pending', 'dave', 'member', NULL, NULL, '2099-01-01T00:00:00.000Z', '2024-01-05T00:00:00.000Z', 'usr_alice', NULL),
     ('inv_d2', 'd_d2', 'registration', 'pending', 'dave', 'member', NULL, NULL, '2099-01-01T00:00:00.000Z', '2024-01-05T00:00:00.000Z', 'usr_alice', NULL),
     ('inv_e1', 'd_e1', 'registration', 'pending', 'erin', 'member', NULL, NULL, '2099-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', 'usr_alice', NULL),
     ('inv_c0', 'd_c0', 'registration', 'redeemed', 'carol', 'member', NULL, NULL, '2099-01-01T00:00:00.000Z', '2023-12-01T00:00:00.000Z', 'usr_alice', 'usr_ghost'),
     ('inv_cx', 'd_cx', 'registration', 'canceled', 'carol', 'member', NULL, NULL, '2099-01-01T00:00:00.000Z', '2023-12-02T00:00:00.000Z', 'usr_alice', NULL),
     ('inv_g1', 'd_g1', 'grant', 'pending', NULL, NULL, 'ws_team', 'member', '2099-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', 'usr_ghost', NULL)`
]

/** Every row that refers to a user who does not exist, from the columns that make a user a member, owner or grantee. */
const orphans = rows(`
  SELECT 'member' AS kind, workspace_id AS id FROM workspace_members WHERE user_id NOT IN (SELECT id FROM users)
  UNION ALL SELECT 'owner', id FROM workspaces WHERE owner_user_id IS NOT NULL AND owner_user_id NOT IN (SELECT id FROM users)
  UNION ALL SELECT 'grantee', id FROM resource_accesses WHERE user_id NOT IN (SELECT id FROM users)
  ORDER BY kind, id`)

/**
 * The cases every store shares, each on a store of its own from `fresh`;
 * call inside the store's `describe`, beside its own cases.
 */
export const userReferencesContract = (fresh: () => Layer.Layer<MigrationProbe>, dialect: UserReferencesDialect) => {
  const withStore = <A, E>(test: Effect.Effect<A, E, MigrationProbe>) => Effect.provide(test, fresh())
  const { duplicate, foreignKey } = dialect

  it.live("a store left with orphans and duplicate pending registrations by the old code migrates to head and keeps what is valid", () =>
    withStore(Effect.gen(function*() {
      const { versions } = yield* MigrationProbe
      expect(yield* migrate(2)).toEqual([1, 2])
      for (const statement of legacyData) yield* rows(statement)
      expect((yield* orphans).map((r) => `${r["kind"]} ${r["id"]}`)).toEqual([
        "grantee acc_1", "grantee acc_4", "grantee acc_6",
        "member ws_ghost", "member ws_stray", "member ws_team",
        "owner ws_ghost", "owner ws_stray"
      ])

      expect(yield* migrate()).toEqual(versions.filter((v) => v > 2))
      expect(yield* orphans).toEqual([])
      yield* dialect.referencesChecked

      // The personal workspace of the deleted user went with everything in it; the stray team owner is cleared.
      expect(yield* rows("SELECT id, owner_user_id FROM workspaces ORDER BY id")).toEqual([
        { id: "ws_alice", owner_user_id: "usr_alice" },
        { id: "ws_bob", owner_user_id: "usr_bob" },
        { id: "ws_stray", owner_user_id: null },
        { id: "ws_team", owner_user_id: null }
      ])
      // Members of existing users stay, on SQLite through the rebuild of workspaces (which they reference ON DELETE CASCADE).
      expect(yield* rows("SELECT workspace_id, user_id, role FROM workspace_members ORDER BY workspace_id, user_id")).toEqual([
        { workspace_id: "ws_alice", user_id: "usr_alice", role: "admin" },
        { workspace_id: "ws_bob", user_id: "usr_bob", role: "admin" },
        { workspace_id: "ws_stray", user_id: "usr_alice", role: "admin" },
        { workspace_id: "ws_team", user_id: "usr_alice", role: "admin" },
        { workspace_id: "ws_team", user_id: "usr_bob", role: "member" }
      ])
      // Audit columns keep the deleted user's id.
      expect(yield* rows("SELECT id, parent_id, created_by FROM resources ORDER BY id")).toEqual([
        { id: "res_t_doc", parent_id: "res_t_root", created_by: "usr_ghost" },
        { id: "res_t_root", parent_id: null, created_by: "usr_ghost" }
      ])
      expect(yield* rows("SELECT id, user_id, role FROM resource_accesses ORDER BY id")).toEqual([
        { id: "acc_3", user_id: "usr_alice", role: "owner" },
        { id: "acc_5", user_id: "usr_bob", role: "reader" }
      ])

      // One pending registration per handle: the newest (then the greatest id); the others canceled, with a time.
      expect(yield* rows("SELECT handle, id FROM invites WHERE kind = 'registration' AND status = 'pending' ORDER BY handle")).toEqual([
        { handle: "carol", id: "inv_c2" },
        { handle: "dave", id: "inv_d2" },
        { handle: "erin", id: "inv_e1" }
      ])
      const canceled = yield* rows("SELECT id, canceled_at FROM invites WHERE status = 'canceled' ORDER BY id")
      expect(canceled.map((r) => r["id"])).toEqual(["inv_c1", "inv_c3", "inv_cx", "inv_d1"])
      for (const row of canceled.filter((r) => r["id"] !== "inv_cx")) {
        expect(row["canceled_at"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      }
      expect(yield* rows("SELECT id, status, created_by, redeemed_by FROM invites WHERE id IN ('inv_c0', 'inv_g1') ORDER BY id")).toEqual([
        { id: "inv_c0", status: "redeemed", created_by: "usr_alice", redeemed_by: "usr_ghost" },
        { id: "inv_g1", status: "pending", created_by: "usr_ghost", redeemed_by: null }
      ])

      // The other constraints hold as before (on SQLite, the rebuilt tables keep theirs): one personal workspace
      // per user, one membership per pair, one access per pair, and members still go with their workspace.
      expect(yield* refusal(`INSERT INTO workspaces (id, name, is_personal, owner_user_id, created_at, updated_at)
        VALUES ('ws_alice2', 'again', 1, 'usr_alice', ${T}, ${T})`)).toBe(duplicate.personalWorkspace)
      expect(yield* refusal("INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ('ws_team', 'usr_bob', 'admin')"))
        .toBe(duplicate.membership)
      expect(yield* refusal("INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES ('acc_9', 'res_t_root', 'usr_bob', 'editor')"))
        .toBe(duplicate.access)
      expect(yield* refusal("INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES ('acc_9', 'res_none', 'usr_bob', 'editor')"))
        .toBe(foreignKey)
      yield* rows("DELETE FROM workspaces WHERE id = 'ws_stray'")
      expect(yield* rows("SELECT user_id FROM workspace_members WHERE workspace_id = 'ws_stray'")).toEqual([])
      expect(yield* refusal("DELETE FROM workspaces WHERE id = 'ws_team'")).toBe(foreignKey) // it still has resources
    })))

  it.live("after 0003 a membership, access or personal workspace of a missing user is refused, and so is deleting a user who still has one", () =>
    withStore(Effect.gen(function*() {
      yield* migrate()
      yield* rows(`INSERT INTO users (id, handle, role, status, created_at) VALUES
        ('usr_alice', 'alice', 'admin', 'active', ${T}), ('usr_bob', 'bob', 'member', 'active', ${T}),
        ('usr_cleo', 'cleo', 'member', 'active', ${T}), ('usr_dana', 'dana', 'member', 'active', ${T})`)
      yield* rows(`INSERT INTO workspaces (id, name, is_personal, owner_user_id, created_at, updated_at) VALUES
        ('ws_alice', 'alice', 1, 'usr_alice', ${T}, ${T}), ('ws_team', 'team', 0, NULL, ${T}, ${T}),
        ('ws_dana', 'dana', 1, 'usr_dana', ${T}, ${T})`)
      yield* rows(`INSERT INTO resources (id, workspace_id, kind, title, parent_id, position, link_reach, link_role, created_by, created_at, updated_at)
        VALUES ('res_t', 'ws_team', 'document', 't', NULL, 0, 'restricted', 'reader', 'usr_alice', ${T}, ${T})`)

      expect(yield* refusal("INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ('ws_team', 'usr_ghost', 'member')"))
        .toBe(foreignKey)
      expect(yield* refusal("INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES ('acc_g', 'res_t', 'usr_ghost', 'reader')"))
        .toBe(foreignKey)
      expect(yield* refusal(`INSERT INTO workspaces (id, name, is_personal, owner_user_id, created_at, updated_at)
        VALUES ('ws_ghost', 'ghost', 1, 'usr_ghost', ${T}, ${T})`)).toBe(foreignKey)

      yield* rows(`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES
        ('ws_alice', 'usr_alice', 'admin'), ('ws_team', 'usr_alice', 'admin'), ('ws_team', 'usr_bob', 'member')`)
      yield* rows("INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES ('acc_c', 'res_t', 'usr_cleo', 'reader')")
      yield* rows(`INSERT INTO api_keys (id, user_id, digest, created_at) VALUES ('key_b', 'usr_bob', 'digest_b', ${T})`)
      expect(yield* refusal("DELETE FROM users WHERE id = 'usr_bob'")).toBe(foreignKey) // a membership
      expect(yield* refusal("DELETE FROM users WHERE id = 'usr_cleo'")).toBe(foreignKey) // a direct access
      expect(yield* refusal("DELETE FROM users WHERE id = 'usr_dana'")).toBe(foreignKey) // a personal workspace (no member row)
      expect((yield* rows("SELECT id FROM users ORDER BY id")).map((r) => r["id"])).toEqual(["usr_alice", "usr_bob", "usr_cleo", "usr_dana"])

      // Once the domain has removed what refers to them, the user goes, and their API keys with them.
      yield* rows("DELETE FROM workspace_members WHERE user_id = 'usr_bob'")
      yield* rows("DELETE FROM users WHERE id = 'usr_bob'")
      expect(yield* rows("SELECT id FROM api_keys")).toEqual([])
    })))

  it.live("after 0003 a second pending registration invite for one handle is refused by invites_one_pending_registration", () =>
    withStore(Effect.gen(function*() {
      yield* migrate()
      const invite = (id: string, kind: string, status: string, handle: string | null) =>
        run(`INSERT INTO invites (id, digest, kind, status, handle, role, workspace_id, workspace_role, expires_at, created_at)
          VALUES ('${id}', 'digest_${id}', '${kind}', '${status}', ${handle === null ? "NULL" : `'${handle}'`},
            ${kind === "registration" ? "'member'" : "NULL"}, ${kind === "grant" ? "'ws_x'" : "NULL"},
            ${kind === "grant" ? "'member'" : "NULL"}, '2099-01-01T00:00:00.000Z', ${T})`)
      yield* invite("inv_1", "registration", "pending", "frank")
      const refused = yield* Effect.flip(invite("inv_2", "registration", "pending", "frank"))
      expect(refused.unique).toContain(dialect.pendingRegistration)

      // Only pending registrations count: other handles, other states and grant invites are unaffected.
      yield* invite("inv_3", "registration", "pending", "grace")
      yield* invite("inv_4", "registration", "redeemed", "frank")
      yield* invite("inv_5", "registration", "canceled", "frank")
      yield* invite("inv_6", "grant", "pending", null)
      yield* invite("inv_7", "grant", "pending", null)
      // A stored-pending invite marked expired no longer blocks a new one.
      yield* rows("UPDATE invites SET status = 'expired' WHERE id = 'inv_1'")
      yield* invite("inv_8", "registration", "pending", "frank")
      expect((yield* rows("SELECT id FROM invites WHERE handle = 'frank' AND status = 'pending'")).map((r) => r["id"])).toEqual(["inv_8"])
    })))
}
