/**
 * `tessera resources tree` and `tessera check` on SQLite and PostgreSQL:
 * the tree is indented in sibling order with each node's direct accesses,
 * and the check answers as the kernel computes effective roles.
 */
import { createResource, createWorkspace, grantAccess } from "@tessera/domain"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { jsonOf, onStore, pgStore, sqliteStore, storeWithUsers, tessera } from "./support.js"

describe.each([["SQLite", sqliteStore], ["PostgreSQL", pgStore]] as const)("resources and check on %s", (_, makeStore) => {
  const ids: Record<string, string> = {}
  const store = storeWithUsers(makeStore, ["alice", "bob"], (env, { alice, bob }) =>
    onStore(env, Effect.gen(function*() {
      const team = yield* createWorkspace(alice!.principal, { name: "team" })
      const root = yield* createResource(alice!.principal, team.id, { title: "Handbook", kind: "folder" })
      const child = yield* createResource(alice!.principal, team.id, { title: "Onboarding", parent_id: root.id })
      yield* createResource(alice!.principal, team.id, { title: "Second" })
      yield* grantAccess(alice!.principal, child.id, bob!.id as never, "editor")
      Object.assign(ids, { alice: alice!.id, bob: bob!.id, team: team.id, root: root.id, child: child.id })
    })))
  const cli = (...args: Array<string>) => tessera(store.env, ...args)

  it("resources tree prints the indented tree with direct accesses", async () => {
    const [run, json] = await Promise.all([cli("resources", "tree", ids["team"]!), cli("resources", "tree", ids["team"]!, "--json")])
    expect(run.code).toBe(0)
    const lines = run.stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(new RegExp(`^Handbook \\(${ids["root"]}, folder\\)  ${ids["alice"]}:owner$`))
    expect(lines[1]).toMatch(new RegExp(`^  Onboarding \\(${ids["child"]}, document\\)  ${ids["bob"]}:editor$`))
    expect(lines[2]).toMatch(/^Second /)
    const tree = jsonOf(json)
    expect(tree.resources.map((n: { resource: { title: string } }) => n.resource.title)).toEqual(["Handbook", "Second"])
    expect(tree.resources[0].children[0].accesses).toEqual([{ user_id: ids["bob"], role: "editor" }])
  })

  it("check answers with the effective role", async () => {
    const [inherited, administer, root, human, fly] = await Promise.all([
      cli("check", ids["bob"]!, ids["child"]!, "edit", "--json"),
      cli("check", ids["bob"]!, ids["child"]!, "administer", "--json"),
      cli("check", ids["bob"]!, ids["root"]!, "read", "--json"),
      cli("check", ids["alice"]!, ids["child"]!, "own"),
      cli("check", ids["alice"]!, ids["child"]!, "fly")
    ])
    expect(jsonOf(inherited)).toMatchObject({ allowed: true, role: "editor" })
    expect(jsonOf(administer)).toMatchObject({ allowed: false, role: "editor" })
    expect(jsonOf(root)).toMatchObject({ allowed: false, role: null })
    expect(human.code).toBe(0)
    expect(human.stdout).toContain("allowed")
    expect(fly.code).not.toBe(0)
  })
})
