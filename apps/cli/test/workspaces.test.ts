/**
 * `tessera workspaces` and `tessera cleanup personal-workspace-members` on
 * SQLite and PostgreSQL: a personal workspace given three admins by direct
 * SQL is repaired by --apply only, once; one with no owner fails the command
 * and stays untouched while the others are still repaired.
 */
import { publicKeys } from "@tessera/store-contract/fixtures"
import { authenticate, createWorkspace, register } from "@tessera/domain"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Env, execute, jsonOf, onStore, pgStore, snapshot, sqliteStore, tessera, type TestStore } from "./support.js"

const stores = [["SQLite", sqliteStore], ["PostgreSQL", pgStore]] as const

describe.each(stores)("workspaces and cleanup on %s", (_, makeStore) => {
  let store: TestStore
  let env: Env
  const cli = (...args: Array<string>) => tessera(env, ...args)
  const users: Record<string, { id: string; personal: string; apiKey: string }> = {}
  const ghost = "ws_" + "0".repeat(31) + "9"

  beforeAll(async () => {
    store = await makeStore()
    env = store.env
    jsonOf(await cli("admin", "bootstrap", "--json"))
    const handles = ["alice", "bob", "carol"]
    const minted = await Promise.all(handles.map((handle) => cli("invites", "mint", "--kind", "registration", "--handle", handle, "--json")))
    for (const [i, handle] of handles.entries()) {
      const { token } = jsonOf(minted[i]!)
      const r = await onStore(env, register({ token: Redacted.make(token), ...publicKeys() }))
      users[handle] = { id: r.user.id, personal: r.personalWorkspace.id, apiKey: Redacted.value(r.apiKey) }
    }
  })
  afterAll(() => store?.drop())

  it("workspaces list and show read every workspace as the operator", async () => {
    const team = await onStore(env, Effect.flatMap(
      authenticate(Redacted.make(users["alice"]!.apiKey)),
      (alice) => createWorkspace(alice, { name: "design" })
    ))
    const [listRun, shownRun, human, missing] = await Promise.all([
      cli("workspaces", "list", "--json"),
      cli("workspaces", "show", team.id, "--json"),
      cli("workspaces", "show", team.id),
      cli("workspaces", "show", "ws_" + "f".repeat(32))
    ])
    const listed = jsonOf(listRun).workspaces as Array<{ id: string }>
    expect(listed.map((w) => w.id)).toEqual(expect.arrayContaining([users["alice"]!.personal, users["bob"]!.personal, team.id]))
    const shown = jsonOf(shownRun)
    expect(shown).toMatchObject({ id: team.id, name: "design", is_personal: false, members: [{ user_id: users["alice"]!.id, role: "admin" }] })
    expect(human.code).toBe(0)
    expect(human.stdout).toContain(`members: ${users["alice"]!.id}:admin`)
    expect(missing.code).not.toBe(0)
  })

  it("repairs three admins by --apply only, once; a workspace with no owner fails the run and stays untouched", async () => {
    const alice = users["alice"]!
    await execute(env, (sql) => sql`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES
      (${alice.personal}, ${users["bob"]!.id}, 'admin'), (${alice.personal}, ${users["carol"]!.id}, 'admin')`)
    await execute(env, (sql) => sql`INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
      VALUES (${ghost}, 'ghost', '', '', '[]', 1, NULL, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`)
    await execute(env, (sql) => sql`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (${ghost}, ${users["bob"]!.id}, 'member')`)

    const before = await snapshot(env)
    const dry = await cli("cleanup", "personal-workspace-members", "--json")
    expect(dry.code).not.toBe(0)
    expect(JSON.parse(dry.stderr)).toMatchObject({ error: "missing_owner", message: expect.stringMatching(/no owner/) })
    const dryReport = JSON.parse(dry.stdout)
    expect(dryReport.dry_run).toBe(true)
    expect(dryReport.workspaces).toEqual(expect.arrayContaining([
      expect.objectContaining({ workspace_id: alice.personal, status: "would_repair", after: [{ user_id: alice.id, role: "admin" }] }),
      expect.objectContaining({ workspace_id: ghost, status: "missing_owner" })
    ]))
    expect(dryReport.workspaces.find((w: { workspace_id: string }) => w.workspace_id === alice.personal).before).toHaveLength(3)
    expect(await snapshot(env)).toBe(before)

    const applied = await cli("cleanup", "personal-workspace-members", "--apply", "--json")
    expect(applied.code).not.toBe(0)
    const report = JSON.parse(applied.stdout)
    expect(report.workspaces).toEqual(expect.arrayContaining([
      expect.objectContaining({ workspace_id: alice.personal, status: "repaired" }),
      expect.objectContaining({ workspace_id: ghost, status: "missing_owner" })
    ]))
    const [repairedRun, untouchedRun] = await Promise.all([
      cli("workspaces", "show", alice.personal, "--json"),
      cli("workspaces", "show", ghost, "--json")
    ])
    const repaired = jsonOf(repairedRun)
    expect(repaired.members).toEqual([{ user_id: alice.id, role: "admin" }])
    const untouched = jsonOf(untouchedRun)
    expect(untouched).toMatchObject({ owner_user_id: null, members: [{ user_id: users["bob"]!.id, role: "member" }] })

    const afterFirst = await snapshot(env)
    const again = await cli("cleanup", "personal-workspace-members", "--apply", "--json")
    expect(again.code).not.toBe(0)
    expect(JSON.parse(again.stdout).workspaces.map((w: { status: string }) => w.status)).toEqual(["missing_owner"])
    expect(await snapshot(env)).toBe(afterFirst)

    await execute(env, (sql) => sql`DELETE FROM workspace_members WHERE workspace_id = ${ghost}`)
    await execute(env, (sql) => sql`DELETE FROM workspaces WHERE id = ${ghost}`)
    const clean = await cli("cleanup", "personal-workspace-members", "--apply")
    expect(clean.code).toBe(0)
    expect(clean.stdout).toContain("0 repaired, 0 errors")
  })
})
