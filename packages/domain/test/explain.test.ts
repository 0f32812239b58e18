// The pure explanation (docs/access.md#explain) over random facts: the role it decides is the check's rule's, every
// grant it cites is on the path and alone gives that role, dropping every cited grant lowers the role, and a
// denial names what the facts hold.
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  Access,
  roleAtLeast,
  type CheckFacts,
  decideRole,
  reasonsOf,
  ResourceId,
  type ResourceRole,
  roleOfGrantAlone,
  roleRank,
  UserId,
  userRoleFrom
} from "../src/index.js"

const ROLES: ReadonlyArray<ResourceRole> = ["reader", "commenter", "editor", "administrator", "owner"]
const USER = UserId.make(`usr_${"1".repeat(32)}`)
const idOf = (n: number) => ResourceId.make(`res_${n.toString(16).padStart(32, "0")}`)

const FactsArb: fc.Arbitrary<CheckFacts> = fc.record({
  path: fc.array(
    fc.record({
      revoked: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
      linkReach: fc.constantFrom("restricted" as const, "workspace" as const),
      linkRole: fc.constantFrom("reader" as const, "editor" as const),
      directRole: fc.option(fc.constantFrom(...ROLES), { nil: null, freq: 2 })
    }),
    { maxLength: 8 }
  ).map((nodes) => nodes.map((n, k) => ({ ...n, id: idOf(k) }))),
  workspaceRole: fc.constantFrom(null, "member" as const, "admin" as const),
  userActive: fc.integer({ min: 0, max: 9 }).map((n) => n < 9)
})

const accessOn = (facts: CheckFacts) => (node: ResourceId) => {
  const found = facts.path.find((n) => n.id === node)
  return found?.directRole == null
    ? undefined
    : new Access({ id: `acc_${node.slice(4)}`, resource_id: node, user_id: USER, role: found.directRole })
}

describe("explain", () => {
  it.prop("decides the check's role, and every cited grant alone gives it", [FactsArb], ([facts]) => {
    const resource = facts.path[0]?.id ?? idOf(99)
    const decision = decideRole(resource, USER, facts)
    expect(decision.role).toBe(facts.userActive ? userRoleFrom(facts) : null)
    const reasons = reasonsOf(decision, accessOn(facts))!
    expect(reasons).not.toBeNull()
    if (decision.role === null) {
      expect(reasons.length).toBe(1)
      const denial = reasons[0]!
      const expected = !facts.userActive ? "user_inactive"
        : facts.path.length === 0 ? "not_found"
        : facts.path.some((n) => n.revoked) ? "revoked"
        : facts.workspaceRole === null ? "not_member"
        : "no_grant"
      expect(denial.kind).toBe(expected)
      if (denial.kind === "revoked") expect(facts.path.find((n) => n.id === denial.resource_id)?.revoked).toBe(true)
      return
    }
    expect(reasons.length).toBeGreaterThan(0)
    const cited = new Set<string>()
    for (const reason of reasons) {
      expect(roleAtLeast(roleOfGrantAlone(reason as never), decision.role)).toBe(true)
      if (reason.kind === "direct") expect(reason.resource_id).toBe(resource)
      if (reason.kind === "inherited" || reason.kind === "workspace_link") {
        expect(facts.path.some((n) => n.id === reason.resource_id)).toBe(true)
      }
      if (reason.kind === "direct" || reason.kind === "inherited") cited.add(`access ${reason.resource_id}`)
      if (reason.kind === "workspace_link") cited.add(`link ${reason.resource_id}`)
      if (reason.kind === "workspace_admin") cited.add("admin")
    }
    // without every cited grant, the role is lower: the explanation names all that decide it
    const without: CheckFacts = {
      ...facts,
      workspaceRole: cited.has("admin") ? (facts.workspaceRole === "admin" ? "member" : facts.workspaceRole) : facts.workspaceRole,
      path: facts.path.map((n) => ({
        ...n,
        directRole: cited.has(`access ${n.id}`) ? null : n.directRole,
        linkReach: cited.has(`link ${n.id}`) ? "restricted" : n.linkReach
      }))
    }
    const lower = userRoleFrom(without)
    expect(lower === null || roleRank(lower) < roleRank(decision.role)).toBe(true)
  }, { fastCheck: { numRuns: 500 } })

  it("an access that changed after the facts were read is not cited: the caller reads again", () => {
    const facts: CheckFacts = {
      path: [{ id: idOf(0), revoked: false, linkReach: "restricted", linkRole: "reader", directRole: "editor" }],
      workspaceRole: null,
      userActive: true
    }
    const decision = decideRole(idOf(0), USER, facts)
    expect(reasonsOf(decision, () => undefined)).toBeNull()
    expect(reasonsOf(decision, (n) => new Access({ id: "acc_x", resource_id: n, user_id: USER, role: "reader" }))).toBeNull()
    expect(reasonsOf(decision, accessOn(facts))).toEqual([{ kind: "direct", resource_id: idOf(0), access_id: `acc_${idOf(0).slice(4)}`, role: "editor" }])
  })
})
