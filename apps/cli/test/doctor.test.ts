/**
 * `tessera doctor` on SQLite and PostgreSQL, as an operator runs it: a
 * store written by use cases exits 0 and says so; a store broken by direct
 * SQL exits 2, lists the violation with its ids (human and `--json`), says
 * how many on stderr, and changes nothing; once repaired it exits 0 again.
 */
import { publicKeys } from "@tessera/store-contract/fixtures"
import { authenticate, createResource, createWorkspace, grantAccess, register } from "@tessera/domain"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Env, execute, jsonOf, onStore, pgStore, snapshot, sqliteStore, tessera, type TestStore } from "./support.js"

/** Each test runs the binary a few times; a loaded machine starts it slowly. */
const TIMEOUT = 180_000

describe.each([["SQLite", sqliteStore], ["PostgreSQL", pgStore]] as const)("doctor on %s", (_, makeStore) => {
  let store: TestStore
  let env: Env
  const cli = (...args: Array<string>) => tessera(env, ...args)
  const ids: Record<string, string> = {}

  beforeAll(async () => {
    store = await makeStore()
    env = store.env
    jsonOf(await cli("admin", "bootstrap", "--json"))
    for (const handle of ["alice", "bob"]) {
      const { token } = jsonOf(await cli("invites", "mint", "--kind", "registration", "--handle", handle, "--json"))
      const r = await onStore(env, register({ token: Redacted.make(token), ...publicKeys() }))
      ids[handle] = r.user.id
      ids[`${handle}Key`] = Redacted.value(r.apiKey)
    }
    await onStore(env, Effect.gen(function*() {
      const alice = yield* authenticate(Redacted.make(ids["aliceKey"]!))
      const team = yield* createWorkspace(alice, { name: "team" })
      const root = yield* createResource(alice, team.id, { title: "Handbook" })
      yield* createResource(alice, team.id, { title: "Onboarding", parent_id: root.id })
      yield* grantAccess(alice, root.id, ids["bob"] as never, "editor")
      ids["team"] = team.id
      ids["root"] = root.id
    }))
  }, TIMEOUT)
  afterAll(() => store?.drop())

  it("a store written by use cases is clean: exit 0", async () => {
    const human = await cli("doctor")
    expect(human.stderr).toBe("")
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^no violations\nchecked: 3 users, 3 api keys, 4 workspaces, 4 memberships, 2 resources, 2 accesses,/)
    const report = jsonOf(await cli("doctor", "--json"))
    expect(report).toMatchObject({ ok: true, violations: [], truncated: false })
    expect(report.checked).toMatchObject({ users: 3, workspaces: 4, resources: 2, accesses: 2 })
  }, TIMEOUT)

  it("a root with no owner exits 2, listed with its ids; nothing changes; repaired, exit 0 again", async () => {
    await execute(env, (sql) => sql`UPDATE resource_accesses SET role = 'administrator' WHERE resource_id = ${ids["root"]!} AND role = 'owner'`)
    const before = await snapshot(env)

    const report = await cli("doctor", "--json")
    expect(report.code).toBe(2)
    expect(report.stderr).toBe("tessera: doctor found 1 violation\n")
    const parsed = JSON.parse(report.stdout)
    expect(parsed.ok).toBe(false)
    expect(parsed.counts).toEqual({ root_without_owner: 1 })
    expect(parsed.violations).toEqual([{
      check: "root_without_owner",
      ids: { resource_id: ids["root"], workspace_id: ids["team"] },
      message: expect.stringContaining(ids["root"]!)
    }])

    const human = await cli("doctor")
    expect(human.code).toBe(2)
    const lines = human.stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^CHECK\s+IDS\s+PROBLEM$/)
    expect(lines[1]).toMatch(new RegExp(`^root_without_owner\\s+resource_id=${ids["root"]} workspace_id=${ids["team"]}\\s+`))
    expect(lines.at(-1)).toMatch(/^1 violation; checked: /)
    expect(await snapshot(env)).toBe(before)

    await execute(env, (sql) => sql`UPDATE resource_accesses SET role = 'owner' WHERE resource_id = ${ids["root"]!} AND user_id = ${ids["alice"]!}`)
    expect(jsonOf(await cli("doctor", "--json")).ok).toBe(true)
  }, TIMEOUT)
})
