// The `check` use case over a recording ResourceStore (docs/domain.md#resources): a batch asks the store once, whatever its size;
// each answer is what `effectiveRoleOf` says on the same facts, and nothing for a user who is not active; only a
// system admin may ask, and a refused caller asks the store nothing.
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Layer } from "effect"
import {
  type Action,
  allows,
  ApiKeyId,
  type AncestorFacts,
  check,
  type CheckFacts,
  type CheckRequest,
  effectiveRoleOf,
  Forbidden,
  Handle,
  ResourceId,
  ResourceStore,
  SystemActor,
  timestampOf,
  User,
  UserId
} from "../src/index.js"

const resourceOf = (n: number) => ResourceId.make(`res_${n.toString(16).padStart(32, "0")}`)
const userOf = (n: number) => UserId.make(`usr_${n.toString(16).padStart(32, "0")}`)

const NodeArb = fc.record({
  revoked: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
  linkReach: fc.constantFrom("restricted" as const, "workspace" as const),
  linkRole: fc.constantFrom("reader" as const, "editor" as const),
  directRole: fc.constantFrom(null, "reader" as const, "commenter" as const, "editor" as const, "administrator" as const, "owner" as const)
})
const FactsArb = fc.record({
  path: fc.array(NodeArb, { maxLength: 6 }),
  workspaceRole: fc.constantFrom(null, "admin" as const, "member" as const),
  userActive: fc.boolean()
})
const ActionArb = fc.constantFrom<Action>("read", "comment", "edit", "administer", "own")

/** A store answering from `facts` (check k on resource k), recording every call. */
const recording = (facts: ReadonlyArray<CheckFacts>) => {
  const calls: Array<string> = []
  const byResource = new Map(facts.map((f, k) => [resourceOf(k) as string, f]))
  const store = new Proxy({}, {
    get: (_, name) => {
      if (name === "roleFactsBatch") {
        return (requests: ReadonlyArray<{ readonly resourceId: string }>) =>
          Effect.sync(() => {
            calls.push(`roleFactsBatch(${requests.length})`)
            return requests.map((r) => byResource.get(r.resourceId)!)
          })
      }
      if (name === "roleFacts") return (id: string) => Effect.succeed(byResource.get(id)!)
      return () => Effect.die(`unexpected ResourceStore.${String(name)}`)
    }
  })
  return { calls, layer: Layer.succeed(ResourceStore, store as never) }
}

const toFacts = (f: typeof FactsArb extends fc.Arbitrary<infer T> ? T : never, k: number): CheckFacts => ({
  path: f.path.map((n, i): AncestorFacts => ({ ...n, id: resourceOf(1000 * (k + 1) + i) })),
  workspaceRole: f.workspaceRole,
  userActive: f.userActive
})

describe("check", () => {
  it.effect.prop(
    "one store call per batch; each answer as effectiveRoleOf on the same facts, nothing for a user who is not active",
    [fc.array(fc.tuple(FactsArb, ActionArb), { minLength: 1, maxLength: 120 })],
    ([cases]) =>
      Effect.gen(function*() {
        const facts = cases.map(([f], k) => toFacts(f, k))
        const checks = cases.map(([, action], k): CheckRequest => ({ user_id: userOf(k), resource_id: resourceOf(k), action }))
        const { calls, layer } = recording(facts)
        const answers = yield* Effect.provide(check(SystemActor, checks), layer)
        expect(calls).toEqual([`roleFactsBatch(${checks.length})`])
        for (const [k, c] of checks.entries()) {
          const role = facts[k]!.userActive ? yield* Effect.provide(effectiveRoleOf(c.user_id, c.resource_id), layer) : null
          expect({ k, answer: answers[k] }).toEqual({ k, answer: { allowed: allows(role, c.action), role } })
        }
      })
  )

  it.effect("a member who is not a system admin is refused and the store is not asked", () =>
    Effect.gen(function*() {
      const { calls, layer } = recording([])
      const member = {
        user: new User({
          id: userOf(1),
          handle: Handle.make("member"),
          role: "member",
          status: "active",
          sign_pub: null,
          kex_pub: null,
          created_at: timestampOf(0),
          revoked_at: null
        }),
        apiKeyId: ApiKeyId.make(`key_${"0".repeat(32)}`)
      }
      const refused = yield* Effect.flip(Effect.provide(check(member, [{ user_id: userOf(1), resource_id: resourceOf(0), action: "read" }]), layer))
      expect(refused).toBeInstanceOf(Forbidden)
      expect(calls).toEqual([])
    }))
})
