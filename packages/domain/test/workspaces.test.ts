// Workspace rules as pure functions (docs/domain.md#workspaces: precedence, refusals carry their reason, accepted patches keep the
// invariants) and ensurePersonalWorkspace against a create/delete race, over in-memory ports.
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Cause, Context, Effect, Either, Exit, FastCheck as fc, Layer, Option } from "effect"
import {
  applyWorkspacePatch,
  checkMemberChange,
  checkWorkspacePatch,
  Crypto,
  ENSURE_ATTEMPTS,
  ensurePersonalWorkspace,
  Event,
  EventLog,
  Handle,
  LastAdmin,
  Member,
  type MemberChange,
  type NewEvent,
  PersonalWorkspaceInvariantError,
  PersonalWorkspaceUnavailable,
  timestampOf,
  User,
  UserId,
  Workspace,
  WorkspaceId,
  WorkspacePatch,
  type WorkspaceRole,
  WorkspaceStore,
  InTransaction
} from "../src/index.js"

// ---------------------------------------------------------------------------------------------
// Arbitraries: a small pool of users, so that patches and changes hit the workspace's own members and owner.

const POOL = [0, 1, 2, 3].map((i) => UserId.make(`usr_${String(i).repeat(32)}`))
const PoolUser = fc.constantFrom(...POOL)
const Role = fc.constantFrom<WorkspaceRole>("admin", "member")
const AT = timestampOf(0)
const LATER = timestampOf(86_400_000)

const workspaceOf = (fields: Pick<Workspace, "is_personal" | "owner_user_id" | "members">, id = `ws_${"a".repeat(32)}`) =>
  new Workspace({
    id: WorkspaceId.make(id),
    name: "w",
    about: "about",
    custom_instructions: "ci",
    bundles: ["b"],
    created_at: AT,
    updated_at: AT,
    ...fields
  })

const PersonalArb = PoolUser.map((owner) =>
  workspaceOf({ is_personal: true, owner_user_id: owner, members: [new Member({ user_id: owner, role: "admin" })] })
)
/** A team workspace that holds the invariant: unique members, at least one admin, no owner. */
const TeamArb = fc.uniqueArray(fc.record({ user_id: PoolUser, role: Role }), { selector: (m) => m.user_id, minLength: 1, maxLength: 4 })
  .filter((members) => members.some((m) => m.role === "admin"))
  .map((members) => workspaceOf({ is_personal: false, owner_user_id: null, members: members.map((m) => new Member(m)) }))
const ValidWorkspaceArb = fc.oneof(PersonalArb, TeamArb)

/** Any mix of fields, with ids from the pool (owner and members often coincide with the workspace's). */
const PooledPatchArb: fc.Arbitrary<WorkspacePatch> = fc.record({
  name: fc.string({ minLength: 1, maxLength: 20 }),
  about: fc.string({ maxLength: 20 }),
  custom_instructions: fc.string({ maxLength: 20 }),
  bundles: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
  is_personal: fc.boolean(),
  owner_user_id: fc.option(PoolUser, { nil: null }),
  members: fc.uniqueArray(fc.record({ user_id: PoolUser, role: Role }), { selector: (m) => m.user_id, maxLength: 4 })
}, { requiredKeys: [] })

/** Patches as the schema describes them (random ids, long strings): what a decoded request can be. */
const SchemaPatchArb = Arbitrary.make(WorkspacePatch)

type Outcome = "ok" | "LastAdmin" | PersonalWorkspaceInvariantError["reason"]

/** docs/domain.md#workspaces read literally: the first broken rule of is_personal, owner (personal), owner (team), members. */
const specOutcome = (w: Workspace, p: WorkspacePatch): Outcome => {
  if (p.is_personal !== undefined && p.is_personal !== w.is_personal) return "is_personal_frozen"
  if (w.is_personal && p.owner_user_id !== undefined && p.owner_user_id !== w.owner_user_id) return "owner_user_id_frozen"
  if (!w.is_personal && p.owner_user_id !== undefined && p.owner_user_id !== null) return "owner_user_id_on_non_personal"
  if (p.members !== undefined && w.is_personal) return "members_mutation"
  if (p.members !== undefined && !p.members.some((m) => m.role === "admin")) return "LastAdmin"
  return "ok"
}

const outcomeOf = (result: Either.Either<unknown, PersonalWorkspaceInvariantError | LastAdmin>): Outcome =>
  Either.isRight(result) ? "ok" : result.left._tag === "LastAdmin" ? "LastAdmin" : result.left.reason

/** The error names the workspace it refused. */
const expectNamesWorkspace = (w: Workspace, result: Either.Either<unknown, PersonalWorkspaceInvariantError | LastAdmin>) => {
  if (Either.isLeft(result)) {
    if (result.left._tag === "LastAdmin") expect(result.left.workspaceIds).toEqual([w.id])
    else expect(result.left.workspaceId).toBe(w.id)
  }
}

const keepsInvariants = (w: Workspace) => {
  const ids = w.members.map((m) => m.user_id)
  expect(new Set(ids).size).toBe(ids.length)
  if (w.is_personal) {
    expect(w.members.map((m) => ({ user_id: m.user_id, role: m.role }))).toEqual([{ user_id: w.owner_user_id, role: "admin" }])
  } else {
    expect(w.owner_user_id).toBeNull()
    expect(w.members.some((m) => m.role === "admin")).toBe(true)
  }
}

describe("checkWorkspacePatch (property)", () => {
  it.prop("agrees with the order in docs/domain.md#workspaces on any workspace and any pooled patch", [
    fc.oneof(ValidWorkspaceArb, PoolUser.chain((owner) => fc.constant(workspaceOf({ is_personal: true, owner_user_id: owner, members: [] })))),
    PooledPatchArb
  ], ([workspace, patch]) => {
    const result = checkWorkspacePatch(workspace, patch)
    expect(outcomeOf(result)).toBe(specOutcome(workspace, patch))
    expectNamesWorkspace(workspace, result)
  }, { fastCheck: { numRuns: 1000 } })

  it.prop("agrees with the order in docs/domain.md#workspaces on patches drawn from the WorkspacePatch schema", [ValidWorkspaceArb, SchemaPatchArb], ([workspace, patch]) => {
    const result = checkWorkspacePatch(workspace, patch)
    expect(outcomeOf(result)).toBe(specOutcome(workspace, patch))
    expectNamesWorkspace(workspace, result)
  }, { fastCheck: { numRuns: 300 } })

  it.prop("a patch that breaks several rules reports the first of is_personal, owner, members", [PersonalArb, TeamArb, PoolUser], ([personal, team, other]) => {
    const otherOwner = POOL.find((u) => u !== personal.owner_user_id)!
    const noAdmin = [{ user_id: other, role: "member" as const }]
    const reason = (w: Workspace, p: WorkspacePatch) => outcomeOf(checkWorkspacePatch(w, p))
    expect(reason(personal, { is_personal: false, owner_user_id: otherOwner, members: noAdmin })).toBe("is_personal_frozen")
    expect(reason(personal, { owner_user_id: otherOwner, members: noAdmin })).toBe("owner_user_id_frozen")
    expect(reason(personal, { owner_user_id: null, members: noAdmin })).toBe("owner_user_id_frozen")
    expect(reason(personal, { is_personal: true, owner_user_id: personal.owner_user_id, members: noAdmin })).toBe("members_mutation")
    expect(reason(team, { is_personal: true, owner_user_id: other, members: noAdmin })).toBe("is_personal_frozen")
    expect(reason(team, { owner_user_id: other, members: noAdmin })).toBe("owner_user_id_on_non_personal")
    expect(reason(team, { owner_user_id: null, members: noAdmin })).toBe("LastAdmin")
  })

  it.prop("an accepted patch keeps every invariant and applies exactly its editable fields", [ValidWorkspaceArb, PooledPatchArb], ([workspace, patch]) => {
    fc.pre(Either.isRight(checkWorkspacePatch(workspace, patch)))
    const next = applyWorkspacePatch(workspace, patch, LATER)
    keepsInvariants(next)
    expect([next.id, next.is_personal, next.owner_user_id, next.created_at, next.updated_at])
      .toEqual([workspace.id, workspace.is_personal, workspace.owner_user_id, workspace.created_at, LATER])
    expect({ name: next.name, about: next.about, custom_instructions: next.custom_instructions, bundles: next.bundles }).toEqual({
      name: patch.name ?? workspace.name,
      about: patch.about ?? workspace.about,
      custom_instructions: patch.custom_instructions ?? workspace.custom_instructions,
      bundles: patch.bundles ?? workspace.bundles
    })
  }, { fastCheck: { numRuns: 500 } })

  it.prop("name, about, custom_instructions and bundles stay editable on a personal workspace", [
    PersonalArb,
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 200 }),
      about: fc.string({ maxLength: 100 }),
      custom_instructions: fc.string({ maxLength: 100 }),
      bundles: fc.array(fc.string({ maxLength: 20 })),
      is_personal: fc.constant(true)
    }, { requiredKeys: [] }),
    fc.boolean()
  ], ([personal, patch, restateOwner]) => {
    const full = restateOwner ? { ...patch, owner_user_id: personal.owner_user_id } : patch
    expect(checkWorkspacePatch(personal, full)).toEqual(Either.right(full))
    keepsInvariants(applyWorkspacePatch(personal, full, LATER))
  })
})

describe("checkMemberChange (property)", () => {
  const ChangeArb: fc.Arbitrary<MemberChange> = fc.oneof(
    fc.record({ _tag: fc.constant("add" as const), userId: PoolUser, role: Role }),
    fc.record({ _tag: fc.constant("setRole" as const), userId: PoolUser, role: Role }),
    fc.record({ _tag: fc.constant("remove" as const), userId: PoolUser })
  )

  /** The members after a change the store would apply (a missing member is the store's NotFound, not a rule). */
  const applied = (w: Workspace, change: MemberChange): ReadonlyArray<Member> => {
    const others = w.members.filter((m) => m.user_id !== change.userId)
    const present = w.members.some((m) => m.user_id === change.userId)
    if (change._tag === "remove") return others
    if (change._tag === "setRole") return present ? [...others, new Member({ user_id: change.userId, role: change.role })] : w.members
    return present ? w.members : [...w.members, new Member({ user_id: change.userId, role: change.role })]
  }

  it.prop("a personal workspace refuses every member change with members_mutation", [PersonalArb, ChangeArb], ([personal, change]) => {
    const result = checkMemberChange(personal, change)
    expect(outcomeOf(result)).toBe("members_mutation")
    expectNamesWorkspace(personal, result)
  }, { fastCheck: { numRuns: 300 } })

  it.prop("a team refuses exactly the changes that would leave it without an admin", [TeamArb, ChangeArb], ([team, change]) => {
    const result = checkMemberChange(team, change)
    const after = applied(team, change)
    expect(outcomeOf(result)).toBe(after.some((m) => m.role === "admin") ? "ok" : "LastAdmin")
    expectNamesWorkspace(team, result)
    if (Either.isRight(result)) keepsInvariants(workspaceOf({ is_personal: false, owner_user_id: null, members: after }))
  }, { fastCheck: { numRuns: 1000 } })
})

// ---------------------------------------------------------------------------------------------
// ensurePersonalWorkspace against a rival that keeps creating and deleting the same user's personal workspace.

type Service<T extends Context.Tag<any, any>> = Context.Tag.Service<T>

const OWNER = new User({
  id: UserId.make(`usr_${"e".repeat(32)}`),
  handle: Handle.make("owner"),
  role: "member",
  status: "active",
  sign_pub: null,
  kex_pub: null,
  created_at: AT,
  revoked_at: null
})

/**
 * In-memory WorkspaceStore and EventLog. Each `insert` while `conflicts > 0` loses to a rival (whose workspace
 * is stored first, so the unique index refuses ours); with `rivalDeletes` the rival's workspace is gone again
 * before the loser re-reads.
 */
const makeRaceWorld = (options: { conflicts: number; rivalDeletes: boolean }) => {
  const workspaces = new Map<string, Workspace>()
  const events: Array<NewEvent> = []
  const calls: Array<string> = []
  let conflicts = options.conflicts
  let deleteBeforeNextRead = false
  const rival = (n: number) =>
    workspaceOf({ is_personal: true, owner_user_id: OWNER.id, members: [new Member({ user_id: OWNER.id, role: "admin" })] }, `ws_${String(n % 10).repeat(32)}`)
  const personalOf = (owner: UserId) => [...workspaces.values()].find((w) => w.is_personal && w.owner_user_id === owner)

  // Only what ensurePersonalWorkspace may use; any other member of the port is a defect if touched.
  const used: Pick<Service<typeof WorkspaceStore>, "insert" | "findPersonal"> = {
    insert: (w) =>
      Effect.sync(() => {
        calls.push("insert")
        if (conflicts > 0) {
          conflicts--
          const won = rival(calls.length)
          workspaces.set(won.id, won)
          deleteBeforeNextRead = options.rivalDeletes
        }
        if (w.is_personal && personalOf(w.owner_user_id!) !== undefined) return false
        workspaces.set(w.id, w)
        return true
      }),
    findPersonal: (owner) =>
      Effect.sync(() => {
        calls.push("findPersonal")
        if (deleteBeforeNextRead) {
          deleteBeforeNextRead = false
          const gone = personalOf(owner)
          if (gone !== undefined) workspaces.delete(gone.id)
        }
        return Option.fromNullable(personalOf(owner))
      })
  }
  const store = new Proxy(used, {
    get: (target, key) =>
      key in target || typeof key === "symbol"
        ? target[key as keyof typeof target]
        : Effect.die(`WorkspaceStore.${String(key)} is not used by ensurePersonalWorkspace`)
  }) as Service<typeof WorkspaceStore>
  const log: Service<typeof EventLog> = {
    append: (_at, appended) => Effect.sync(() => void events.push(...appended)),
    list: () => Effect.sync(() => events.map((e, i) => new Event({ seq: i + 1, at: AT, workspace_id: null, resource_id: null, ...e })))
  }
  const layer = Layer.mergeAll(
    Layer.succeed(WorkspaceStore, store),
    Layer.succeed(EventLog, log),
    // ensurePersonalWorkspace runs inside its caller's transaction; here the test is that caller.
    Layer.succeed(InTransaction, { _tag: "InTransaction" }),
    Crypto.Live
  )
  return { workspaces, events, calls, layer, inserts: () => calls.filter((c) => c === "insert").length }
}

describe("ensurePersonalWorkspace under a create/delete race", () => {
  it.effect("a workspace deleted between the create conflict and the re-read: attempt 2 creates it", () =>
    Effect.gen(function*() {
      const world = makeRaceWorld({ conflicts: 1, rivalDeletes: true })
      const workspace = yield* ensurePersonalWorkspace(OWNER).pipe(Effect.provide(world.layer))
      expect(world.calls).toEqual(["findPersonal", "insert", "findPersonal", "findPersonal", "insert"])
      expect([...world.workspaces.values()]).toEqual([workspace])
      keepsInvariants(workspace)
      expect(workspace.owner_user_id).toBe(OWNER.id)
      expect(world.events).toEqual([{
        type: "workspace.created",
        actor: "system",
        workspace_id: workspace.id,
        data: { is_personal: true, owner_user_id: OWNER.id }
      }])
    }))

  it.effect("pathological churn (deleted after every attempt): PersonalWorkspaceUnavailable naming 3 attempts, not a defect", () =>
    Effect.gen(function*() {
      const world = makeRaceWorld({ conflicts: Number.POSITIVE_INFINITY, rivalDeletes: true })
      const exit = yield* Effect.exit(ensurePersonalWorkspace(OWNER).pipe(Effect.provide(world.layer)))
      expect(Exit.isFailure(exit) && Cause.isFailType(exit.cause)).toBe(true)
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      const failure = Option.getOrThrow(error)
      expect(failure).toBeInstanceOf(PersonalWorkspaceUnavailable)
      expect(failure).toMatchObject({ _tag: "PersonalWorkspaceUnavailable", userId: OWNER.id, attempts: 3 })
      expect(failure.message).toContain(OWNER.id)
      expect(failure.message).toMatch(/\b3 attempts\b/)
      expect(world.inserts()).toBe(3)
      expect(world.workspaces.size).toBe(0)
      expect(world.events).toEqual([])
    }))

  it.effect.prop("k lost races: succeeds on attempt k + 1 while k < 3, else fails after exactly 3", [fc.integer({ min: 0, max: 6 })], ([k]) =>
    Effect.gen(function*() {
      expect(ENSURE_ATTEMPTS).toBe(3)
      const world = makeRaceWorld({ conflicts: k, rivalDeletes: true })
      const result = yield* Effect.either(ensurePersonalWorkspace(OWNER).pipe(Effect.provide(world.layer)))
      if (k < ENSURE_ATTEMPTS) {
        expect(Either.isRight(result)).toBe(true)
        expect(world.inserts()).toBe(k + 1)
        expect(world.events.map((e) => e.type)).toEqual(["workspace.created"])
        expect([...world.workspaces.values()]).toEqual([Either.getOrThrow(result)])
      } else {
        expect(Either.isLeft(result) && result.left).toMatchObject({ _tag: "PersonalWorkspaceUnavailable", attempts: 3 })
        expect(world.inserts()).toBe(3)
        expect(world.events).toEqual([])
      }
    }))

  it.effect("a rival that wins and keeps its workspace: the rival's is returned and nothing else is written", () =>
    Effect.gen(function*() {
      const world = makeRaceWorld({ conflicts: 1, rivalDeletes: false })
      const workspace = yield* ensurePersonalWorkspace(OWNER).pipe(Effect.provide(world.layer))
      expect(world.calls).toEqual(["findPersonal", "insert", "findPersonal"])
      expect([...world.workspaces.values()]).toEqual([workspace])
      expect(world.events).toEqual([])
    }))

  it.effect("an existing personal workspace is returned without a write (idempotent)", () =>
    Effect.gen(function*() {
      const world = makeRaceWorld({ conflicts: 0, rivalDeletes: false })
      const first = yield* ensurePersonalWorkspace(OWNER).pipe(Effect.provide(world.layer))
      const second = yield* ensurePersonalWorkspace(OWNER).pipe(Effect.provide(world.layer))
      expect(second).toEqual(first)
      expect(world.inserts()).toBe(1)
      expect(world.events).toHaveLength(1)
    }))
})
