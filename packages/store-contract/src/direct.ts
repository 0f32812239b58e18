/**
 * What the stores' tests of their direct paths share (`DirectStatements` and
 * `hotStatement` in store-sql: the check's walk and the key's owner run
 * straight on the driver when the tracer is off, outside a transaction and
 * with no statement transformer): a count of the statements that went
 * direct, the tracer switched off, and a scene with answers of every kind.
 */
import {
  addMember,
  type CheckRequest,
  createResource,
  createWorkspace,
  grantAccess,
  type ResourceId,
  revokeResource,
  type UserId
} from "@tessera/domain"
import { Effect } from "effect"
import { ACTIONS, person, registerUser } from "./fixtures.js"
import { Admin } from "./index.js"

/** A store's way to run one statement directly (the shape of store-sql's `DirectStatements`). */
export interface DirectRunner {
  readonly run: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, any>
}

/** How many statements went through the counted runner. */
export interface DirectCount {
  n: number
}

/** `direct`, counting every statement it runs in `count`. */
export const counted = <S extends DirectRunner>(direct: S, count: DirectCount): S => ({
  ...direct,
  run: (text, params) => Effect.suspend(() => (count.n++, direct.run(text, params)))
})

/** `effect` with the tracer off, as the server runs without an exporter. */
export const off = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.withTracerEnabled(effect, false)

/** `effect`'s result and how many statements went direct while it ran. */
export const directRuns = (count: DirectCount) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = count.n
    const result = yield* effect
    return { result, direct: count.n - before }
  })

/**
 * A chain of 6 under a workspace root, a member granted `editor` at depth 3
 * (registered, so their key is known), depth 5 revoked, a stranger; every
 * user (and one that does not exist) × node (and one that does not exist)
 * × action.
 */
export const directScene = Effect.gen(function*() {
  const { principal: admin } = yield* Admin
  const [owner, stranger] = [yield* person(admin), yield* person(admin)]
  const registered = yield* registerUser(admin)
  const member = { id: registered.user.id, apiKey: registered.apiKey }
  const workspace = yield* createWorkspace(owner.principal, { name: "direct" })
  yield* addMember(owner.principal, workspace.id, member.id, "member")
  const ids: Array<ResourceId> = []
  for (let k = 0; k < 6; k++) {
    ids.push((yield* createResource(k === 0 ? owner.principal : admin, workspace.id, {
      title: `n${k}`,
      parent_id: ids[k - 1] ?? null,
      link_reach: k === 1 ? "workspace" : "restricted",
      link_role: "reader"
    })).id)
  }
  yield* grantAccess(admin, ids[3]!, member.id, "editor")
  yield* revokeResource(admin, ids[5]!, { dryRun: false })
  const nobody = "usr_0000000000000000000000000000dead" as UserId
  const nothing = "res_0000000000000000000000000000dead" as ResourceId
  const checks = [owner.id, member.id, stranger.id, nobody].flatMap((user_id) =>
    [...ids, nothing].flatMap((resource_id) => ACTIONS.map((action): CheckRequest => ({ user_id, resource_id, action })))
  )
  return { admin, ids, member, stranger, checks }
})
