/**
 * What the stores' tests of their direct paths share (`DirectStatements` and
 * `hotStatement` in store-sql: the check's walk and the key's owner run
 * straight on the driver when the tracer is off, outside a transaction and
 * with no statement transformer): a count of the statements that went
 * direct, the tracer switched off, and a scene with answers of every kind.
 */
import { expect } from "@effect/vitest"
import {
  addMember,
  answersOf,
  authenticate,
  check,
  type CheckFacts,
  type CheckRequest,
  createResource,
  createWorkspace,
  factsRequests,
  grantAccess,
  type Principal,
  type ResourceId,
  revokeResource,
  revokeUser,
  type RoleFactsRequest,
  SystemActor,
  tokenDigest,
  type UserId
} from "@tessera/domain"
import { type Context, Effect, Option } from "effect"
import { ACTIONS, person, registerUser } from "./fixtures.js"
import { Admin } from "./index.js"

/** A store's way to run one statement directly (the shape of store-sql's `DirectStatements`). */
export interface DirectRunner {
  readonly run: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, any>
  readonly runWith: (text: string, params: ReadonlyArray<unknown>, done: (error: any, rows: ReadonlyArray<Record<string, unknown>>) => void) => void
}

/** How many statements went through the counted runner. */
export interface DirectCount {
  n: number
}

/** `direct`, counting every statement it runs in `count`. */
export const counted = <S extends DirectRunner>(direct: S, count: DirectCount): S => ({
  ...direct,
  run: (text, params) => Effect.suspend(() => (count.n++, direct.run(text, params))),
  runWith: (text, params, done) => {
    count.n++
    direct.runWith(text, params, done)
  }
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

/** A store's reads without the runtime (the shape of store-sql's `HotReads`). */
export interface HotReader {
  readonly keyOwner: (digest: string, done: (failure: unknown, owner: Option.Option<Principal>) => void) => void
  readonly roleFacts: (requests: ReadonlyArray<RoleFactsRequest>, done: (failure: unknown, facts: ReadonlyArray<CheckFacts>) => void) => void
}

/** A callback read as an effect: its failure a defect. */
const called = <A>(read: (done: (failure: unknown, value: A) => void) => void) =>
  Effect.async<A>((resume) => read((failure, value) => resume(failure === undefined ? Effect.succeed(value) : Effect.die(failure))))

/**
 * `hot` answers every check of the scene and the key's owner as the use
 * cases do (`check`, `authenticate`), each read one direct statement; it
 * refuses an empty batch; a key whose owner is revoked has no owner at the
 * next read.
 */
export const hotReadsAgree = <I>(tag: Context.Tag<I, HotReader>, count: DirectCount) =>
  Effect.gen(function*() {
    // provided beside the ports wherever the store has direct statements, though their layer's type does not say so
    const found = yield* Effect.serviceOption(tag)
    expect(Option.isSome(found)).toBe(true)
    const hot = Option.getOrThrow(found)
    const { admin, checks, member } = yield* directScene
    for (const c of checks) {
      const before = count.n
      const facts = yield* called<ReadonlyArray<CheckFacts>>((done) => hot.roleFacts(factsRequests([c]), done))
      expect(count.n - before).toBe(1)
      expect(answersOf([c], facts)).toEqual(yield* check(SystemActor, [c]))
    }
    const batch = yield* called<ReadonlyArray<CheckFacts>>((done) => hot.roleFacts(factsRequests(checks), done))
    expect(answersOf(checks, batch)).toEqual(yield* check(SystemActor, checks))
    expect(yield* Effect.exit(called((done) => hot.roleFacts([], done)))).toMatchObject({ _tag: "Failure" })
    const digest = yield* tokenDigest(member.apiKey)
    const owner = yield* called<Option.Option<Principal>>((done) => hot.keyOwner(digest, done))
    expect(owner).toEqual(Option.some(yield* authenticate(member.apiKey)))
    expect(yield* called((done) => hot.keyOwner("0".repeat(64), done))).toEqual(Option.none())
    yield* revokeUser(admin, member.id)
    expect(yield* called((done) => hot.keyOwner(digest, done))).toEqual(Option.none())
  })
