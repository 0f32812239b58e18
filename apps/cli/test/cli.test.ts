/**
 * The `tessera` binary end to end, on SQLite and on PostgreSQL: each block
 * bootstraps one fresh store through the CLI and drives every command as an
 * operator would, checking output, exit status and what was stored.
 */
import { publicKeys } from "@tessera/store-contract/fixtures"
import { authenticate, createWorkspace, register } from "@tessera/domain"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  type Env,
  execute,
  expectFailure,
  expectJsonFailure,
  jsonOf,
  onStore,
  pgStore,
  type Run,
  snapshot,
  sqliteStore,
  tessera,
  type TestStore,
  textOf
} from "./support.js"

const stores = [["SQLite", sqliteStore], ["PostgreSQL", pgStore]] as const

describe.each(stores)("tessera on %s", (_, makeStore) => {
  let store: TestStore
  let env: Env
  let bootstrap: Run
  const cli = (...args: Array<string>) => tessera(env, ...args)

  beforeAll(async () => {
    store = await makeStore()
    env = store.env
    bootstrap = await cli("admin", "bootstrap", "--json")
  })
  afterAll(() => store?.drop())

  const admin = () => JSON.parse(bootstrap.stdout) as { user: { id: string; handle: string }; api_key: string }

  /** A new user registered with a token minted by the CLI; returns the user and their API key. */
  const registerUser = async (handle: string) => {
    const { token } = jsonOf(await cli("invites", "mint", "--kind", "registration", "--handle", handle, "--json"))
    const registered = await onStore(env, register({ token: Redacted.make(token), ...publicKeys() }))
    return { user: registered.user, apiKey: registered.apiKey }
  }

  it("admin bootstrap migrates an empty store, creates the admin and prints a working key once", async () => {
    const { api_key, user } = jsonOf(bootstrap)
    expect(user).toMatchObject({ handle: "admin", role: "admin", status: "active", revoked_at: null })
    expect(user.id).toMatch(/^usr_[0-9a-f]{32}$/)
    expect(api_key).toMatch(/^tsk_[0-9a-f]{72}$/)
    const principal = await onStore(env, authenticate(Redacted.make(api_key)))
    expect(principal.user.id).toBe(user.id)
    expect(principal.user.role).toBe("admin")
    expect(await snapshot(env)).not.toContain(api_key)
  })

  it("a second admin bootstrap exits non-zero and changes nothing", async () => {
    const before = await snapshot(env)
    expectJsonFailure(await cli("admin", "bootstrap", "--handle", "second", "--json"), "conflict", /already has users/)
    expect(await snapshot(env)).toBe(before)
  })

  it("users list and show print tables or JSON and never a key", async () => {
    const { api_key, user } = admin()
    const [table, listed, shown, shownJson, byHandle, unknown, unknownHandle, malformed] = await Promise.all([
      cli("users", "list"),
      cli("users", "list", "--json"),
      cli("users", "show", user.id),
      cli("users", "show", "--json", user.id),
      cli("users", "show", "--json", "admin"),
      cli("users", "show", "usr_00000000000000000000000000000000"),
      cli("users", "show", "--json", "nobody-here"),
      cli("users", "show", "Not A User!")
    ])
    const lines = textOf(table).trimEnd().split("\n")
    expect(lines[0]).toMatch(/^ID\s+HANDLE\s+ROLE\s+STATUS\s+CREATED_AT$/)
    expect(lines.some((line) => line.startsWith(user.id) && /\badmin\s+admin\s+active\b/.test(line))).toBe(true)
    const { users } = jsonOf(listed)
    expect(users.map((u: { id: string }) => u.id)).toContain(user.id)
    expect(Object.keys(users[0]).sort()).toEqual(
      ["created_at", "handle", "id", "kex_pub", "revoked_at", "role", "sign_pub", "status"]
    )
    expect(textOf(shown)).toMatch(new RegExp(`^id\\s+${user.id}$`, "m"))
    expect(jsonOf(shownJson).user).toMatchObject({ id: user.id, handle: "admin" })
    for (const run of [table, listed, shown, shownJson]) expect(run.stdout).not.toContain(api_key)
    expect(jsonOf(byHandle).user).toMatchObject({ id: user.id, handle: "admin" }) // a user by handle as by id
    expectFailure(unknown, /no user usr_/)
    expectJsonFailure(unknownHandle, "not_found", /no user nobody-here/)
    expectFailure(malformed, /neither a handle nor a user id/)
  })

  it("invites mint prints the token once, list and show never print it, and the token registers", async () => {
    const minted = jsonOf(await cli("invites", "mint", "--kind", "registration", "--handle", "bob", "--json"))
    expect(minted.invite).toMatchObject({ kind: "registration", status: "pending", handle: "bob", role: "member" })
    expect(minted.token).toMatch(/^tsi_[0-9a-f]{72}$/)
    const id: string = minted.invite.id
    const [table, listed, shown] = await Promise.all([
      cli("invites", "list"),
      cli("invites", "list", "--json"),
      cli("invites", "show", id)
    ])
    expect(textOf(table)).toMatch(new RegExp(`^${id}\\s+registration\\s+pending\\s+handle=bob role=member`, "m"))
    expect(jsonOf(listed).invites.find((i: { id: string }) => i.id === id)).toEqual(minted.invite)
    expect(textOf(shown)).toMatch(new RegExp(`^status\\s+pending$`, "m"))
    for (const run of [table, listed, shown]) expect(run.stdout).not.toMatch(/tsi_/)
    expect(await snapshot(env)).not.toContain(minted.token)

    const registered = await onStore(env, register({ token: Redacted.make(minted.token), ...publicKeys() }))
    expect(registered.user.handle).toBe("bob")
    const redeemed = jsonOf(await cli("invites", "show", id, "--json")).invite
    expect(redeemed).toMatchObject({ status: "redeemed", redeemed_by: registered.user.id })
    expectFailure(await cli("invites", "cancel", id), /invite .* is already redeemed/)
    expectJsonFailure(await cli("invites", "cancel", id, "--json"), "invite_already_redeemed")
  })

  it("invites cancel cancels a pending invite and is idempotent", async () => {
    const minted = textOf(await cli("invites", "mint", "--kind", "registration", "--handle", "carol", "--ttl-seconds", "3600"))
    const id = minted.match(/invite (inv_[0-9a-f]{32})/)?.[1]
    expect(id).toBeDefined()
    expect(minted.match(/tsi_[0-9a-f]{72}/g)).toHaveLength(1)
    const canceled = jsonOf(await cli("invites", "cancel", id!, "--json")).invite
    expect(canceled).toMatchObject({ id, status: "canceled" })
    expect(canceled.canceled_at).not.toBeNull()
    const before = await snapshot(env)
    const again = jsonOf(await cli("invites", "cancel", id!, "--json")).invite
    expect(again).toEqual(canceled)
    expect(await snapshot(env)).toBe(before)
    expect(jsonOf(await cli("invites", "list", "--status", "canceled", "--json")).invites.map((i: { id: string }) => i.id))
      .toContain(id)
  })

  it("invites mint a workspace grant, and list filters by workspace", async () => {
    const workspace = await onStore(
      env,
      Effect.flatMap(authenticate(Redacted.make(admin().api_key)), (principal) => createWorkspace(principal, { name: "Team" }))
    )
    const { invite, token } = jsonOf(
      await cli("invites", "mint", "--kind", "grant", "--workspace-id", workspace.id, "--workspace-role", "member", "--json")
    )
    expect(invite).toMatchObject({ kind: "grant", handle: null, role: null, workspace_id: workspace.id, workspace_role: "member" })
    expect(token).toMatch(/^tsi_/)
    const listed = jsonOf(await cli("invites", "list", "--workspace-id", workspace.id, "--status", "pending", "--json"))
    expect(listed.invites.map((i: { id: string }) => i.id)).toEqual([invite.id])
  })

  it("invites mint refuses terms the domain refuses, and writes nothing", async () => {
    const before = await snapshot(env)
    const [noTarget, shortTtl, badHandle, handleOnGrant] = await Promise.all([
      cli("invites", "mint", "--kind", "grant"),
      cli("invites", "mint", "--kind", "registration", "--handle", "dave", "--ttl-seconds", "5"),
      cli("invites", "mint", "--kind", "registration", "--handle", "Not A Handle"),
      cli("invites", "mint", "--kind", "grant", "--handle", "erin", "--workspace-id", "ws_1", "--json")
    ])
    expectFailure(noTarget, /a grant invite needs workspace_id and workspace_role/)
    expectFailure(shortTtl, /--ttl-seconds: ttl_seconds must be an integer from 60 to 2592000/)
    expectFailure(badHandle, /--handle: a handle is 2-32 characters/)
    expectJsonFailure(handleOnGrant, "invalid_request", /--handle: does not apply here; --workspace-id: .*ws_<32 hex>/)
    expect(await snapshot(env)).toBe(before)
  })

  it("invites purge-expired lists without writing by default, and --apply records them once", async () => {
    const { invite } = jsonOf(
      await cli("invites", "mint", "--kind", "registration", "--handle", "frank", "--ttl-seconds", "60", "--json")
    )
    await execute(env, (sql) => sql`UPDATE invites SET expires_at = ${"2001-01-01T00:00:00.000Z"} WHERE id = ${invite.id}`)
    const before = await snapshot(env)

    const [dryRun, dryRunJson] = await Promise.all([cli("invites", "purge-expired"), cli("invites", "purge-expired", "--json")])
    expect(textOf(dryRun)).toMatch(/^1 pending invite\(s\) past their expiry \(dry run/)
    expect(dryRun.stdout).toMatch(new RegExp(`^${invite.id}\\s+registration\\s+pending`, "m"))
    expect(jsonOf(dryRunJson)).toMatchObject({ dry_run: true, invites: [{ id: invite.id }] })
    expect(await snapshot(env)).toBe(before)

    const applied = jsonOf(await cli("invites", "purge-expired", "--apply", "--json"))
    expect(applied.dry_run).toBe(false)
    expect(applied.invites).toHaveLength(1)
    expect(applied.invites[0]).toMatchObject({ id: invite.id, status: "expired" })
    const stored = await execute(env, (sql) => sql<{ status: string }>`SELECT status FROM invites WHERE id = ${invite.id}`)
    expect(stored).toEqual([{ status: "expired" }])

    const afterApply = await snapshot(env)
    const second = jsonOf(await cli("invites", "purge-expired", "--apply", "--json"))
    expect(second).toEqual({ dry_run: false, invites: [] })
    expect(await snapshot(env)).toBe(afterApply)
  })

  it("users revoke and delete act on a user; the last system admin cannot be revoked", async () => {
    const { apiKey, user } = await registerUser("grace")
    const revoked = jsonOf(await cli("users", "revoke", user.id, "--json")).user
    expect(revoked).toMatchObject({ id: user.id, status: "revoked" })
    expect(revoked.revoked_at).not.toBeNull()
    const refused = await onStore(env, Effect.flip(authenticate(apiKey)))
    expect(refused._tag).toBe("Unauthenticated")
    expect(textOf(await cli("users", "revoke", user.id))).toMatch(/^status\s+revoked$/m)

    const before = await snapshot(env)
    expectFailure(await cli("users", "revoke", admin().user.id), /last active system admin/)
    expect(await snapshot(env)).toBe(before)

    const report = jsonOf(await cli("users", "delete", user.id, "--json"))
    expect(report).toMatchObject({ user_id: user.id, personal_workspaces_deleted: 1, api_keys_deleted: 1 })
    const [gone, goneJson] = await Promise.all([cli("users", "show", user.id), cli("users", "show", user.id, "--json")])
    expectFailure(gone, /no user/)
    expectJsonFailure(goneJson, "not_found", /no user/)
  })

  it("events tail pages the log in seq order and holds no secret", async () => {
    const [allRun, pageRun, tableRun] = await Promise.all([
      cli("events", "tail", "--limit", "1000", "--json"),
      cli("events", "tail", "--after", "2", "--limit", "2", "--json"),
      cli("events", "tail", "--limit", "3")
    ])
    const all = jsonOf(allRun)
    const seqs: Array<number> = all.events.map((e: { seq: number }) => e.seq)
    expect(seqs[0]).toBe(1)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(new Set(seqs).size).toBe(seqs.length)
    expect(all.next_after).toBe(seqs[seqs.length - 1])
    const types = all.events.map((e: { type: string }) => e.type)
    expect(types).toEqual(
      expect.arrayContaining(["user.created", "invite.minted", "invite.canceled", "invite.expired", "user.revoked", "user.deleted"])
    )
    expect(all.events.filter((e: { type: string }) => e.type === "invite.expired")).toHaveLength(1)
    expect(all.events.find((e: { type: string }) => e.type === "invite.minted").actor).toBe("system")
    expect(JSON.stringify(all)).not.toMatch(/ts[ki]_[0-9a-f]{72}/)

    const page = jsonOf(pageRun)
    expect(page.events.map((e: { seq: number }) => e.seq)).toEqual([3, 4])
    expect(page.next_after).toBe(4)
    const table = textOf(tableRun).trimEnd().split("\n")
    expect(table[0]).toMatch(/^SEQ\s+AT\s+TYPE\s+ACTOR/)
    expect(table.slice(1, 4).map((line) => line.split(/\s+/)[0])).toEqual(["1", "2", "3"])
    expect(table[4]).toBe("next page: --after 3")
  })
})
