/**
 * `tessera explain`, `tessera resources principals` and `tessera resources reachable` (docs/access.md) on SQLite
 * and PostgreSQL: the decisive grants or the reason for none, the share panel page by page, and what a user
 * reaches, each as the kernel answers it.
 */
import { addMember, createResource, createWorkspace, grantAccess, patchResource, putShareLink, revokeResource } from "@tessera/domain"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { expectFailure, jsonOf, onStore, pgStore, sqliteStore, storeWithUsers, tessera, textOf } from "./support.js"

describe.each([["SQLite", sqliteStore], ["PostgreSQL", pgStore]] as const)("explain, principals and reachable on %s", (_, makeStore) => {
  const ids: Record<string, string> = {}
  const store = storeWithUsers(makeStore, ["alice", "bob", "carol", "dave"], (env, { alice, bob, carol, dave }) =>
    onStore(env, Effect.gen(function*() {
      const team = yield* createWorkspace(alice!.principal, { name: "team" })
      yield* addMember(alice!.principal, team.id, carol!.id as never, "member")
      const root = yield* createResource(alice!.principal, team.id, { title: "Handbook", kind: "folder" })
      const child = yield* createResource(alice!.principal, team.id, { title: "Onboarding", parent_id: root.id })
      const gone = yield* createResource(alice!.principal, team.id, { title: "Old" })
      yield* grantAccess(alice!.principal, root.id, bob!.id as never, "editor")
      yield* patchResource(alice!.principal, child.id, { link_reach: "workspace", link_role: "reader" })
      const { link } = yield* putShareLink(alice!.principal, root.id, "reader")
      yield* revokeResource(alice!.principal, gone.id, { dryRun: false })
      Object.assign(ids, { alice: alice!.id, bob: bob!.id, carol: carol!.id, dave: dave!.id, team: team.id, root: root.id, child: child.id, gone: gone.id, link: link.id })
    })), 300_000)
  const cli = (...args: Array<string>) => tessera(store.env, ...args)

  it("explain prints the decisive grants, or the reason for no role", async () => {
    const [bobRun, carolChild, carolRoot, daveRoot, aliceGone, humanRun] = await Promise.all([
      cli("explain", ids["bob"]!, ids["child"]!, "--json"),
      cli("explain", ids["carol"]!, ids["child"]!, "--json"),
      cli("explain", ids["carol"]!, ids["root"]!, "--json"),
      cli("explain", ids["dave"]!, ids["root"]!, "--json"),
      cli("explain", ids["alice"]!, ids["gone"]!, "--json"),
      cli("explain", ids["bob"]!, ids["child"]!)
    ])
    const bob = jsonOf(bobRun)
    expect(bob.role).toBe("editor")
    expect(bob.because).toEqual([{ kind: "inherited", resource_id: ids["root"], access_id: expect.stringMatching(/^acc_/), role: "editor" }])
    expect(jsonOf(carolChild).because).toEqual([{ kind: "workspace_link", resource_id: ids["child"], role: "reader" }])
    expect(jsonOf(carolRoot).because).toEqual([{ kind: "no_grant" }])
    expect(jsonOf(daveRoot).because).toEqual([{ kind: "not_member" }])
    expect(jsonOf(aliceGone).because).toEqual([{ kind: "revoked", resource_id: ids["gone"] }])
    const human = textOf(humanRun)
    expect(human).toContain(`${ids["bob"]} on ${ids["child"]}: editor`)
    expect(human).toContain(`inherited editor from ${ids["root"]}`)
  }, 300_000)

  it("principals lists every user with a role, role first, with grants and share links, page by page", async () => {
    const [byOne, by500, humanRun, goneRun] = await Promise.all([
      cli("resources", "principals", ids["child"]!, "--page-size", "1", "--json"),
      cli("resources", "principals", ids["child"]!, "--page-size", "500", "--json"),
      cli("resources", "principals", ids["child"]!),
      cli("resources", "principals", ids["gone"]!)
    ])
    for (const run of [byOne, by500]) {
      const listed = jsonOf(run)
      expect(listed.principals.map((p: { user_id: string; role: string }) => [p.user_id, p.role])).toEqual([
        [ids["alice"], "owner"],
        [ids["bob"], "editor"],
        [ids["carol"], "reader"]
      ])
      expect(listed.share_links).toEqual([{ id: ids["link"], resource_id: ids["root"], role: "reader" }])
    }
    const human = textOf(humanRun)
    expect(human).toContain(ids["link"])
    expect(human.split("\n")[0]).toContain(ids["alice"])
    expectFailure(goneRun, /revoked/i)
  }, 300_000)

  it("reachable lists every live resource the user can act on", async () => {
    const reach = (user: string, ...more: Array<string>) =>
      cli("resources", "reachable", ids[user]!, ...more, "--json").then(jsonOf).then((r) => r.resources.map((x: { id: string }) => x.id).sort())
    const [bob, bobAdminister, carol, aliceOwn, dave, unknown] = await Promise.all([
      reach("bob"),
      reach("bob", "--action", "administer"),
      reach("carol"),
      reach("alice", "--action", "own", "--workspace-id", ids["team"]!, "--page-size", "1"),
      cli("resources", "reachable", ids["dave"]!),
      cli("resources", "reachable", "usr_0000000000000000000000000000dead")
    ])
    expect(bob).toEqual([ids["root"], ids["child"]].sort())
    expect(bobAdminister).toEqual([])
    expect(carol).toEqual([ids["child"]])
    expect(aliceOwn).toEqual([ids["root"], ids["child"]].sort())
    expect(textOf(dave)).toContain("can read nothing")
    expectFailure(unknown, /UserNotFound|user/i)
  }, 300_000)
})
