/**
 * `tessera resources tree` and `tessera check` on SQLite and PostgreSQL:
 * the tree is indented in sibling order with each node's direct accesses,
 * and the check answers as the kernel computes effective roles.
 */
import { publicKeys } from "@tessera/store-contract/fixtures"
import { authenticate, createResource, createWorkspace, grantAccess, register } from "@tessera/domain"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Env, jsonOf, onStore, pgStore, sqliteStore, tessera, type TestStore } from "./support.js"

describe.each([["SQLite", sqliteStore], ["PostgreSQL", pgStore]] as const)("resources and check on %s", (_, makeStore) => {
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
      const root = yield* createResource(alice, team.id, { title: "Handbook", kind: "folder" })
      const child = yield* createResource(alice, team.id, { title: "Onboarding", parent_id: root.id })
      yield* createResource(alice, team.id, { title: "Second" })
      yield* grantAccess(alice, child.id, ids["bob"] as never, "editor")
      ids["team"] = team.id
      ids["root"] = root.id
      ids["child"] = child.id
    }))
  })
  afterAll(() => store?.drop())

  it("resources tree prints the indented tree with direct accesses", async () => {
    const run = await cli("resources", "tree", ids["team"]!)
    expect(run.code).toBe(0)
    const lines = run.stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(new RegExp(`^Handbook \\(${ids["root"]}, folder\\)  ${ids["alice"]}:owner$`))
    expect(lines[1]).toMatch(new RegExp(`^  Onboarding \\(${ids["child"]}, document\\)  ${ids["bob"]}:editor$`))
    expect(lines[2]).toMatch(/^Second /)
    const tree = jsonOf(await cli("resources", "tree", ids["team"]!, "--json"))
    expect(tree.resources.map((n: { resource: { title: string } }) => n.resource.title)).toEqual(["Handbook", "Second"])
    expect(tree.resources[0].children[0].accesses).toEqual([{ user_id: ids["bob"], role: "editor" }])
  })

  it("check answers with the effective role", async () => {
    const inherited = jsonOf(await cli("check", ids["bob"]!, ids["child"]!, "edit", "--json"))
    expect(inherited).toMatchObject({ allowed: true, role: "editor" })
    expect(jsonOf(await cli("check", ids["bob"]!, ids["child"]!, "administer", "--json"))).toMatchObject({ allowed: false, role: "editor" })
    expect(jsonOf(await cli("check", ids["bob"]!, ids["root"]!, "read", "--json"))).toMatchObject({ allowed: false, role: null })
    const human = await cli("check", ids["alice"]!, ids["child"]!, "own")
    expect(human.code).toBe(0)
    expect(human.stdout).toContain("allowed")
    expect((await cli("check", ids["alice"]!, ids["child"]!, "fly")).code).not.toBe(0)
  })
})
