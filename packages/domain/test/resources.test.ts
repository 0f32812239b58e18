// The pure rules of the resources area (docs/domain.md#resources, docs/domain.md#moves) against brute-force references: `classifyMove` against
// applying the move to a copy of a random forest and comparing roots before and after; `effectiveRole` against the
// highest of every grant the facts hold, and nothing at all under a revoked node.
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  type Action,
  allows,
  type AncestorFacts,
  classifyMove,
  effectiveRole,
  type LinkReach,
  type LinkRole,
  type MovePlan,
  pathToRoot,
  type Position,
  ResourceId,
  type ResourceRole,
  type RoleFacts
} from "../src/index.js"

// ---------------------------------------------------------------------------------------------
// Forests: node k's parent is one of the nodes before it (or none), then the ids are shuffled, so that neither the
// ids nor their order say anything about the shape.

const idOf = (n: number) => ResourceId.make(`res_${n.toString(16).padStart(32, "0")}`)

interface Forest {
  readonly ids: ReadonlyArray<ResourceId>
  readonly parent: ReadonlyMap<ResourceId, ResourceId | null>
}

const ForestArb: fc.Arbitrary<Forest> = fc.integer({ min: 1, max: 16 }).chain((n) =>
  fc.tuple(
    fc.array(fc.option(fc.nat(), { freq: 4, nil: null }), { minLength: n, maxLength: n }),
    fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n })
  ).map(([parents, labels]) => {
    const ids = labels.map(idOf)
    const parent = new Map<ResourceId, ResourceId | null>()
    ids.forEach((id, k) => {
      const p = parents[k]!
      parent.set(id, k === 0 || p === null ? null : ids[p % k]!)
    })
    return { ids, parent }
  })
)

const POSITIONS: ReadonlyArray<Position> = ["first-child", "last-child", "first-sibling", "last-sibling", "left", "right"]
const PositionArb = fc.constantFrom(...POSITIONS)

/** A forest and a move in it: resource and target drawn from its nodes (often the same one, or related). */
const MoveArb = ForestArb.chain((forest) =>
  fc.record({
    forest: fc.constant(forest),
    resource: fc.constantFrom(...forest.ids),
    target: fc.constantFrom(...forest.ids),
    position: PositionArb
  })
)

/** The root of `id`, walking parents; `"cycle"` when the walk comes back on itself. */
const rootIn = (parent: ReadonlyMap<ResourceId, ResourceId | null>, id: ResourceId): ResourceId | "cycle" => {
  let current = id
  for (let steps = 0; steps <= parent.size; steps++) {
    const up = parent.get(current)!
    if (up === null) return current
    current = up
  }
  return "cycle"
}

/** Every node under `id` (not `id` itself), found top-down from the children, not by walking up. */
const descendantsOf = (forest: Forest, id: ResourceId): ReadonlySet<ResourceId> => {
  const found = new Set<ResourceId>()
  const queue = [id]
  while (queue.length > 0) {
    const at = queue.shift()!
    for (const child of forest.ids.filter((c) => forest.parent.get(c) === at)) {
      if (!found.has(child)) {
        found.add(child)
        queue.push(child)
      }
    }
  }
  return found
}

const ancestorChain = (forest: Forest, id: ResourceId): ReadonlyArray<ResourceId> => {
  const chain: Array<ResourceId> = [id]
  for (let up = forest.parent.get(id)!; up !== null; up = forest.parent.get(up)!) chain.push(up)
  return chain
}

const EXPECTED_PLACEMENT: Record<Position, (target: ResourceId) => MovePlan["placement"]> = {
  "first-child": () => ({ _tag: "first" }),
  "last-child": () => ({ _tag: "last" }),
  "first-sibling": () => ({ _tag: "first" }),
  "last-sibling": () => ({ _tag: "last" }),
  left: (target) => ({ _tag: "before", id: target }),
  right: (target) => ({ _tag: "after", id: target })
}

/** docs/domain.md#moves by brute force: apply the move to a copy of the tree and compare the roots before and after. */
const referenceMove = (forest: Forest, resource: ResourceId, target: ResourceId, position: Position): MovePlan | string => {
  if (resource === target) return "target_is_self"
  if (descendantsOf(forest, resource).has(target)) return "target_is_descendant"
  const asChild = position === "first-child" || position === "last-child"
  const newParentId = asChild ? target : forest.parent.get(target)!
  const after = new Map(forest.parent)
  after.set(resource, newParentId)
  const rootBefore = rootIn(forest.parent, resource)
  const rootAfter = rootIn(after, resource)
  if (rootBefore === "cycle" || rootAfter === "cycle") return "the reference made a cycle out of an allowed move"
  const wasRoot = forest.parent.get(resource) === null
  const becomesRoot = after.get(resource) === null
  const scopeChanged = (wasRoot && !becomesRoot) || // a root gets a parent
    rootBefore !== rootAfter || // it lands in another tree
    becomesRoot || // it becomes a root
    wasRoot // and any move of a root: re-placed among the roots, it keeps only its owners
  return { newParentId, placement: EXPECTED_PLACEMENT[position](target), rootBefore, rootAfter, wasRoot, becomesRoot, scopeChanged }
}

const classify = (forest: Forest, resource: ResourceId, target: ResourceId, position: Position) =>
  classifyMove(ancestorChain(forest, resource), ancestorChain(forest, target), position)

describe("classifyMove (property)", () => {
  it.prop("agrees with applying the move to a copy of the forest", [MoveArb], ([{ forest, position, resource, target }]) => {
    expect(classify(forest, resource, target, position)).toEqual(referenceMove(forest, resource, target, position))
  }, { fastCheck: { numRuns: 3000 } })

  it.prop("refuses exactly the moves that would make a cycle", [MoveArb], ([{ forest, position, resource, target }]) => {
    const after = new Map(forest.parent)
    const asChild = position === "first-child" || position === "last-child"
    after.set(resource, asChild ? target : forest.parent.get(target)!)
    const makesCycle = resource === target || rootIn(after, resource) === "cycle"
    const plan = classify(forest, resource, target, position)
    expect(typeof plan === "string").toBe(makesCycle)
  }, { fastCheck: { numRuns: 2000 } })

  it.prop("a target under the resource is refused at any depth and in every position", [ForestArb, PositionArb], ([forest, position]) => {
    for (const resource of forest.ids) {
      for (const target of descendantsOf(forest, resource)) {
        expect(classify(forest, resource, target, position)).toBe("target_is_descendant")
      }
      expect(classify(forest, resource, resource, position)).toBe("target_is_self")
    }
  }, { fastCheck: { numRuns: 300 } })

  it.prop("a move inside one tree between non-roots keeps its scope; anything touching a root changes it", [MoveArb], ([{ forest, position, resource, target }]) => {
    const plan = classify(forest, resource, target, position)
    if (typeof plan === "string") return
    const sameTree = rootIn(forest.parent, resource) === rootIn(forest.parent, target)
    const wasRoot = forest.parent.get(resource) === null
    const becomesRoot = plan.newParentId === null
    expect(plan.scopeChanged).toBe(!(sameTree && !wasRoot && !becomesRoot))
  }, { fastCheck: { numRuns: 2000 } })

  it.prop("pathToRoot walks from the node up to its root", [ForestArb], ([forest]) => {
    for (const id of forest.ids) {
      const path = pathToRoot(id, (x) => forest.parent.get(x)!)
      expect(path).toEqual(ancestorChain(forest, id))
      expect(path[path.length - 1]).toBe(rootIn(forest.parent, id))
    }
  })
})

describe("classifyMove (docs/domain.md#moves cases)", () => {
  //   r1          r2
  //   ├─ a        └─ d
  //   │  └─ b
  //   └─ c
  const [r1, a, b, c, r2, d] = [1, 2, 3, 4, 5, 6].map(idOf) as [ResourceId, ResourceId, ResourceId, ResourceId, ResourceId, ResourceId]
  const forest: Forest = {
    ids: [r1, a, b, c, r2, d],
    parent: new Map([[r1, null], [a, r1], [b, a], [c, r1], [r2, null], [d, r2]])
  }
  const plan = (resource: ResourceId, target: ResourceId, position: Position) => classify(forest, resource, target, position)

  it("a root moved beside another root keeps only its owners (scope change)", () => {
    expect(plan(r1, r2, "right")).toEqual({
      newParentId: null,
      placement: { _tag: "after", id: r2 },
      rootBefore: r1,
      rootAfter: r1,
      wasRoot: true,
      becomesRoot: true,
      scopeChanged: true
    })
    expect(plan(r2, r1, "first-sibling")).toMatchObject({ becomesRoot: true, scopeChanged: true })
  })

  it("a root moved under another root changes scope", () => {
    expect(plan(r2, c, "first-child")).toMatchObject({ newParentId: c, rootBefore: r2, rootAfter: r1, wasRoot: true, becomesRoot: false, scopeChanged: true })
  })

  it("a child promoted to root changes scope", () => {
    expect(plan(b, r1, "left")).toMatchObject({ newParentId: null, placement: { _tag: "before", id: r1 }, rootBefore: r1, rootAfter: b, becomesRoot: true, scopeChanged: true })
  })

  it("a child moved into another tree changes scope", () => {
    expect(plan(a, d, "last-sibling")).toMatchObject({ newParentId: r2, rootBefore: r1, rootAfter: r2, scopeChanged: true })
  })

  it("moves inside one tree keep the scope", () => {
    expect(plan(b, c, "last-child")).toMatchObject({ newParentId: c, rootBefore: r1, rootAfter: r1, scopeChanged: false })
    expect(plan(b, a, "right")).toMatchObject({ newParentId: r1, placement: { _tag: "after", id: a }, scopeChanged: false })
    expect(plan(c, a, "first-sibling")).toMatchObject({ newParentId: r1, placement: { _tag: "first" }, scopeChanged: false })
  })

  it("self and descendant targets are refused", () => {
    expect(plan(a, a, "last-child")).toBe("target_is_self")
    expect(plan(r1, b, "right")).toBe("target_is_descendant")
    expect(plan(a, b, "first-child")).toBe("target_is_descendant")
    // a sibling move relative to a direct child would make the resource its own parent
    expect(plan(a, b, "left")).toBe("target_is_descendant")
  })
})

// ---------------------------------------------------------------------------------------------
// Effective role.

const RANK: Record<ResourceRole, number> = { reader: 1, commenter: 2, editor: 3, administrator: 4, owner: 5 }
const RoleArb = fc.constantFrom<ResourceRole>("reader", "commenter", "editor", "administrator", "owner")
const LinkRoleArb = fc.constantFrom<LinkRole>("reader", "editor")

const NodeArb = fc.record({
  revoked: fc.oneof({ arbitrary: fc.constant(false), weight: 9 }, { arbitrary: fc.constant(true), weight: 1 }),
  linkReach: fc.constantFrom<LinkReach>("restricted", "workspace"),
  linkRole: LinkRoleArb,
  directRole: fc.option(RoleArb, { freq: 2, nil: null })
})

const FactsArb: fc.Arbitrary<RoleFacts> = fc.record({
  path: fc.array(NodeArb, { maxLength: 12 }).map((nodes) => nodes.map((n, i): AncestorFacts => ({ ...n, id: idOf(i + 1) }))),
  workspaceRole: fc.constantFrom<RoleFacts["workspaceRole"]>(null, "member", "admin"),
  shareLinkRole: fc.option(LinkRoleArb, { freq: 3, nil: null })
})

/** docs/domain.md#resources by brute force: every grant the facts hold, the highest wins; a revoked node (or no node) grants nothing. */
const referenceRole = (facts: RoleFacts): ResourceRole | null => {
  if (facts.path.length === 0) return null
  for (const node of facts.path) if (node.revoked) return null
  const grants: Array<ResourceRole> = []
  for (const node of facts.path) {
    if (node.directRole !== null) grants.push(node.directRole)
    if (node.linkReach === "workspace" && (facts.workspaceRole === "member" || facts.workspaceRole === "admin")) grants.push(node.linkRole)
  }
  if (facts.workspaceRole === "admin") grants.push("administrator")
  if (facts.shareLinkRole !== null) grants.push(facts.shareLinkRole)
  let best: ResourceRole | null = null
  for (const g of grants) if (best === null || RANK[g] > RANK[best]) best = g
  return best
}

describe("effectiveRole (property)", () => {
  it.prop("is the highest grant over the path (direct, workspace admin, workspace link for members, share link)", [FactsArb], ([facts]) => {
    expect(effectiveRole(facts)).toBe(referenceRole(facts))
  }, { fastCheck: { numRuns: 3000 } })

  it.prop("is null when any node on the path is revoked, whatever else grants", [FactsArb, fc.nat()], ([facts, k]) => {
    if (facts.path.length === 0) return
    const at = k % facts.path.length
    const revoked = { ...facts, path: facts.path.map((n, i) => (i === at ? { ...n, revoked: true } : n)) }
    expect(effectiveRole(revoked)).toBeNull()
    expect(effectiveRole({ ...revoked, workspaceRole: "admin", shareLinkRole: "editor" })).toBeNull()
  }, { fastCheck: { numRuns: 1000 } })

  it.prop("a direct role anywhere on the path is inherited by the resource", [FactsArb, fc.nat(), RoleArb], ([facts, k, role]) => {
    if (facts.path.length === 0 || facts.path.some((n) => n.revoked)) return
    const at = k % facts.path.length
    const granted = { ...facts, path: facts.path.map((n, i) => (i === at ? { ...n, directRole: role } : n)) }
    expect(RANK[effectiveRole(granted)!]).toBeGreaterThanOrEqual(RANK[role])
  })

  it("a workspace link grants members and admins, never outsiders", () => {
    const path: ReadonlyArray<AncestorFacts> = [
      { id: idOf(1), revoked: false, linkReach: "restricted", linkRole: "editor", directRole: null },
      { id: idOf(2), revoked: false, linkReach: "workspace", linkRole: "editor", directRole: null }
    ]
    expect(effectiveRole({ path, workspaceRole: "member", shareLinkRole: null })).toBe("editor")
    expect(effectiveRole({ path, workspaceRole: null, shareLinkRole: null })).toBeNull()
    expect(effectiveRole({ path, workspaceRole: "admin", shareLinkRole: null })).toBe("administrator")
    expect(effectiveRole({ path: [], workspaceRole: "admin", shareLinkRole: "editor" })).toBeNull()
  })
})

describe("allows (property)", () => {
  const NEEDS: Record<Action, number> = { read: 1, comment: 2, edit: 3, administer: 4, own: 5 }
  it.prop("a role allows an action exactly when it ranks at least the action's role", [
    fc.option(RoleArb, { nil: null }),
    fc.constantFrom<Action>("read", "comment", "edit", "administer", "own")
  ], ([role, action]) => {
    expect(allows(role, action)).toBe(role !== null && RANK[role] >= NEEDS[action])
  })
})
