/**
 * `tessera cleanup personal-workspace-members` and `tessera invites
 * purge-expired` on SQLite and PostgreSQL with more rows than one page:
 * the JSON written page by page is one document listing every row once, the
 * human repair report one line per workspace, and the human purge report
 * its count with the first hundred.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Env, execute, jsonOf, pgStore, sqliteStore, tessera, tesseraOnTerminal, textOf, type TestStore } from "./support.js"

const stores = [["SQLite", sqliteStore], ["PostgreSQL", pgStore]] as const

const BROKEN = 1203
const EXPIRED = 1107
const T = "2026-01-01T00:00:00.000Z"
const hex = (prefix: string, i: number) => `${prefix}_${i.toString(16).padStart(32, "0")}`

/** Inserts `rows` a hundred at a time. */
const insertAll = (env: Env, table: string, rows: ReadonlyArray<Record<string, unknown>>) =>
  execute(env, (sql) =>
    Effect.forEach(
      Array.from({ length: Math.ceil(rows.length / 100) }, (_, k) => rows.slice(k * 100, k * 100 + 100)),
      (chunk) => sql`INSERT INTO ${sql(table)} ${sql.insert(chunk as Array<Record<string, unknown>>)}`,
      { discard: true }
    ))

describe.each(stores)("maintenance over many pages on %s", (_, makeStore) => {
  let store: TestStore
  let env: Env
  const cli = (...args: Array<string>) => tessera(env, ...args)

  beforeAll(async () => {
    store = await makeStore()
    env = store.env
    jsonOf(await cli("admin", "bootstrap", "--json"))
    const users = Array.from({ length: BROKEN + 1 }, (_, i) => ({
      id: hex("usr", i + 1),
      handle: `bulk-${i + 1}`,
      role: "member",
      status: "active",
      sign_pub: null,
      kex_pub: null,
      created_at: T,
      revoked_at: null
    }))
    await insertAll(env, "users", users)
    const bystander = users[BROKEN]!.id
    await insertAll(env, "workspaces", users.slice(0, BROKEN).map((u, i) => ({
      id: hex("ws", i + 1),
      name: u.handle,
      about: "",
      custom_instructions: "",
      bundles: "[]",
      is_personal: 1,
      owner_user_id: u.id,
      created_at: T,
      updated_at: T
    })))
    // each personal workspace has its owner as admin and the bystander as a second member
    await insertAll(env, "workspace_members", users.slice(0, BROKEN).flatMap((u, i) => [
      { workspace_id: hex("ws", i + 1), user_id: u.id, role: "admin" },
      { workspace_id: hex("ws", i + 1), user_id: bystander, role: "member" }
    ]))
    await insertAll(env, "invites", Array.from({ length: EXPIRED }, (_, i) => ({
      id: hex("inv", i + 1),
      digest: `bulk-digest-${i}`,
      kind: "grant",
      status: "pending",
      handle: null,
      role: null,
      workspace_id: hex("ws", i + 1),
      workspace_role: "member",
      resource_id: null,
      resource_role: null,
      expires_at: "2001-01-01T00:00:00.000Z",
      created_at: T,
      created_by: users[i]!.id,
      redeemed_at: null,
      redeemed_by: null,
      redeemed_sign_pub: null,
      redeemed_kex_pub: null,
      canceled_at: null
    })))
  }, 120_000)
  afterAll(() => store?.drop())

  it("cleanup prints every workspace once, as one JSON document or one line each, then repairs them all", async () => {
    const [json, human] = await Promise.all([
      cli("cleanup", "personal-workspace-members", "--json"),
      cli("cleanup", "personal-workspace-members")
    ])
    const report = jsonOf(json)
    expect(Object.keys(report)).toEqual(["dry_run", "workspaces", "errors"])
    expect(report.dry_run).toBe(true)
    expect(report.errors).toBe(0)
    const ids = (report.workspaces as Array<{ workspace_id: string; status: string }>).map((w) => w.workspace_id)
    expect(ids).toHaveLength(BROKEN)
    expect(new Set(ids).size).toBe(BROKEN)
    expect(ids).toEqual([...ids].sort())
    const lines = textOf(human).trimEnd().split("\n")
    expect(lines).toHaveLength(BROKEN + 1)
    expect(lines.slice(0, -1).every((line, i) => line.startsWith(`${ids[i]}  would repair: `))).toBe(true)
    expect(lines[BROKEN]).toBe(`${BROKEN} to repair, 0 errors (dry run: pass --apply to write)`)

    const applied = jsonOf(await cli("cleanup", "personal-workspace-members", "--apply", "--json"))
    expect(applied.workspaces.map((w: { workspace_id: string }) => w.workspace_id)).toEqual(ids)
    expect(applied.workspaces.every((w: { status: string }) => w.status === "repaired")).toBe(true)
    expect(textOf(await cli("cleanup", "personal-workspace-members", "--apply"))).toBe("0 repaired, 0 errors\n")
  }, 180_000)

  it("purge-expired lists every invite in JSON and the count with the first hundred in a table, then records them all", async () => {
    const [json, human, onTerminal] = await Promise.all([
      cli("invites", "purge-expired", "--json"),
      cli("invites", "purge-expired"),
      tesseraOnTerminal(env, "invites", "purge-expired")
    ])
    // on a terminal, the count so far after each page, cleared before the report; in a pipe, none
    expect(onTerminal.stdout).toContain(`\r\u001b[Kfinding expired invites… ${EXPIRED}`)
    expect(onTerminal.stdout).toContain(`${EXPIRED} pending invite(s) past their expiry`)
    expect(human.stderr).toBe("")
    const report = jsonOf(json)
    expect(Object.keys(report)).toEqual(["dry_run", "invites"])
    const ids = (report.invites as Array<{ id: string }>).map((i) => i.id)
    expect(ids).toHaveLength(EXPIRED)
    expect(new Set(ids).size).toBe(EXPIRED)
    const lines = textOf(human).trimEnd().split("\n")
    expect(lines[0]).toBe(`${EXPIRED} pending invite(s) past their expiry (dry run: run with --apply to record them)`)
    expect(lines).toHaveLength(1 + 1 + 100 + 1)
    expect(lines[2]).toMatch(new RegExp(`^${ids[0]}\\s+grant\\s+pending`))
    expect(lines[lines.length - 1]).toBe(`… and ${EXPIRED - 100} more (--json lists every one)`)

    const applied = jsonOf(await cli("invites", "purge-expired", "--apply", "--json"))
    expect(applied.invites.map((i: { id: string }) => i.id)).toEqual(ids)
    expect(applied.invites.every((i: { status: string }) => i.status === "expired")).toBe(true)
    expect(jsonOf(await cli("invites", "purge-expired", "--apply", "--json"))).toEqual({ dry_run: false, invites: [] })
  }, 180_000)
})
