/**
 * `tessera doctor` on SQLite and PostgreSQL, as an operator runs it: a
 * store written by use cases exits 0 and says so; a store broken by direct
 * SQL exits 2, lists the violation with its ids (human and `--json`), says
 * how many on stderr, and changes nothing; once repaired it exits 0 again.
 */
import { createResource, createWorkspace, grantAccess } from "@tessera/domain"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { execute, jsonOf, onStore, pgStore, snapshot, sqliteStore, storeWithUsers, tessera, tesseraOnTerminal } from "./support.js"

/** Each test runs the binary a few times; a loaded machine starts it slowly. */
const TIMEOUT = 180_000

describe.each([["SQLite", sqliteStore], ["PostgreSQL", pgStore]] as const)("doctor on %s", (_, makeStore) => {
  const ids: Record<string, string> = {}
  const store = storeWithUsers(makeStore, ["alice", "bob"], (env, { alice, bob }) =>
    onStore(env, Effect.gen(function*() {
      const team = yield* createWorkspace(alice!.principal, { name: "team" })
      const root = yield* createResource(alice!.principal, team.id, { title: "Handbook" })
      yield* createResource(alice!.principal, team.id, { title: "Onboarding", parent_id: root.id })
      yield* grantAccess(alice!.principal, root.id, bob!.id as never, "editor")
      Object.assign(ids, { alice: alice!.id, team: team.id, root: root.id })
    })), TIMEOUT)
  const cli = (...args: Array<string>) => tessera(store.env, ...args)

  it("a store written by use cases is clean: exit 0", async () => {
    const [human, json] = await Promise.all([cli("doctor"), cli("doctor", "--json")])
    expect(human.stderr).toBe("")
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^no violations\nchecked: 3 users, 3 api keys, 4 workspaces, 4 memberships, 2 resources, 2 accesses,/)
    const report = jsonOf(json)
    expect(report).toMatchObject({ ok: true, violations: [], truncated: false })
    expect(report.checked).toMatchObject({ users: 3, workspaces: 4, resources: 2, accesses: 2 })
  }, TIMEOUT)

  it("on a terminal it shows its progress, then clears it; with --json it shows none", async () => {
    const [human, json] = await Promise.all([tesseraOnTerminal(store.env, "doctor"), tesseraOnTerminal(store.env, "doctor", "--json")])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/\r\u001b\[Kchecking… \d+ rows/)
    expect(human.stdout).toContain("\r\u001b[K")
    expect(human.stdout).toMatch(/no violations/)
    expect(json.code).toBe(0)
    expect(json.stdout).not.toContain("checking")
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ ok: true })
  }, TIMEOUT)

  it("a root with no owner exits 2, listed with its ids; nothing changes; repaired, exit 0 again", async () => {
    await execute(store.env, (sql) => sql`UPDATE resource_accesses SET role = 'administrator' WHERE resource_id = ${ids["root"]!} AND role = 'owner'`)
    const before = await snapshot(store.env)

    const [report, human] = await Promise.all([cli("doctor", "--json"), cli("doctor")])
    expect(report.code).toBe(2)
    expect(JSON.parse(report.stderr)).toEqual({ error: "violations_found", message: "doctor found 1 violation" })
    const parsed = JSON.parse(report.stdout)
    expect(parsed.ok).toBe(false)
    expect(parsed.counts).toEqual({ root_without_owner: 1 })
    expect(parsed.violations).toEqual([{
      check: "root_without_owner",
      ids: { resource_id: ids["root"], workspace_id: ids["team"] },
      message: expect.stringContaining(ids["root"]!)
    }])

    expect(human.code).toBe(2)
    const lines = human.stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^CHECK\s+IDS\s+PROBLEM$/)
    expect(lines[1]).toMatch(new RegExp(`^root_without_owner\\s+resource_id=${ids["root"]} workspace_id=${ids["team"]}\\s+`))
    expect(lines.at(-1)).toMatch(/^1 violation; checked: /)
    expect(await snapshot(store.env)).toBe(before)

    await execute(store.env, (sql) => sql`UPDATE resource_accesses SET role = 'owner' WHERE resource_id = ${ids["root"]!} AND user_id = ${ids["alice"]!}`)
    expect(jsonOf(await cli("doctor", "--json")).ok).toBe(true)
  }, TIMEOUT)
})
