/**
 * The workspace half of the contract suite (docs/domain.md#workspaces): team and personal
 * workspaces, their members, the personal-workspace invariants with their
 * precedence, the cleanup of personal workspaces written before the rules,
 * and user deletion against last-admin seats. Like `storeContract`, it drives
 * the domain's use cases through the store's ports and never the store's SQL;
 * where a test needs state the use cases refuse to create ("data written by
 * direct SQL"), it writes it through the raw ports, which bypass every rule.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  addMember,
  authenticate,
  cleanupPersonalWorkspaceMembers,
  createWorkspace,
  deleteUser,
  deleteWorkspace,
  EventLog,
  Member,
  newWorkspaceId,
  patchWorkspace,
  type Principal,
  removeMember,
  revokeUser,
  setMemberRole,
  SystemActor,
  type Timestamp,
  type User,
  type UserId,
  UserStore,
  Workspace,
  type WorkspaceId,
  WorkspacePatch,
  type WorkspaceRole,
  WorkspaceStore,
  Transactor
} from "@tessera/domain"
import { Effect, Either, FastCheck as fc, type Layer, Option, Schema } from "effect"
import { lastSeq, registerUser } from "./fixtures.js"
import { Admin, type StorePorts, withAdmin } from "./index.js"

/** A registered user, authenticated. */
interface Person {
  readonly user: User
  readonly principal: Principal
  readonly personal: Workspace
  readonly apiKey: Parameters<typeof authenticate>[0]
}

const person = Effect.gen(function*() {
  const { principal: admin } = yield* Admin
  const registered = yield* registerUser(admin)
  const principal = yield* authenticate(registered.apiKey)
  return { user: registered.user, principal, personal: registered.personalWorkspace, apiKey: registered.apiKey } satisfies Person
})

const people = (n: number) => Effect.all(Array.from({ length: n }, () => person))

const Store = WorkspaceStore
const findWorkspace = (id: WorkspaceId) => Effect.flatMap(Store, (s) => s.findById(id))
const loadWorkspace = (id: WorkspaceId) => Effect.map(findWorkspace(id), Option.getOrThrow)

const plainMembers = (members: ReadonlyArray<Member>) =>
  members.map((m) => ({ user_id: m.user_id, role: m.role })).sort((a, b) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0))


const eventsAfter = (seq: number) => Effect.flatMap(EventLog, (log) => log.list({ after: seq, limit: 1000 }))

/** Everything a rejected operation must leave alone: the given workspaces, all users, and the event log since `seq`. */
const stateOf = (ids: ReadonlyArray<WorkspaceId>, seq: number, userIds: ReadonlyArray<UserId> = []) =>
  Effect.gen(function*() {
    const store = yield* Store
    const workspaces = yield* Effect.forEach(ids, (id) => store.findById(id))
    const memberships = yield* Effect.forEach(userIds, (id) => store.listForUser(id))
    const users = yield* Effect.flatMap(UserStore, (s) => s.list)
    const events = yield* eventsAfter(seq)
    return { workspaces, json: JSON.stringify({ workspaces, memberships, users, events }) }
  })

/** The outcome of a use case as a short name: `ok`, the reason of a personal-workspace refusal, or the error's tag. */
const outcomeOf = <A>(result: Either.Either<A, { readonly _tag: string }>) => {
  if (Either.isRight(result)) return "ok"
  const error = result.left as { readonly _tag: string; readonly reason?: string }
  return error._tag === "PersonalWorkspaceInvariantError" ? error.reason! : error._tag
}

const createTeam = (owner: Principal, members: ReadonlyArray<readonly [Person, WorkspaceRole]> = [], name = "team") =>
  Effect.gen(function*() {
    const workspace = yield* createWorkspace(owner, { name })
    for (const [p, role] of members) yield* addMember(owner, workspace.id, p.user.id, role)
    return workspace.id
  })

// ---------------------------------------------------------------------------------------------
// The model for the property: what docs/domain.md#workspaces says each operation does.

interface ModelWorkspace {
  readonly id: WorkspaceId
  readonly is_personal: boolean
  readonly owner_user_id: UserId | null
  deleted: boolean
  name: string
  about: string
  custom_instructions: string
  bundles: ReadonlyArray<string>
  members: Map<UserId, WorkspaceRole>
}

const USERS = 3
const SYSTEM_ADMIN = USERS // the actor index of the suite's system admin
const UserIx = fc.integer({ min: 0, max: USERS - 1 })
/** Mostly one of the workspace's own members (so that most operations get past visibility), else anyone. */
const ActorIx = fc.oneof(
  { arbitrary: fc.record({ member: fc.constant(true), i: fc.nat(USERS) }), weight: 3 },
  { arbitrary: fc.record({ member: fc.constant(false), i: fc.integer({ min: 0, max: USERS }) }), weight: 1 } // USERS: the system admin
)
const WorkspaceIx = fc.nat(40)
const Role = fc.constantFrom<WorkspaceRole>("admin", "member")

/** `arb` about one time in four, else absent. */
const sometimes = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 })

// The editable fields most of the time; the guarded ones (is_personal, owner, members) one time in four
// each, so that patches are accepted about as often as refused.
const PatchArb = fc.record({
  name: fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: undefined }),
  about: fc.option(fc.string({ maxLength: 16 }), { nil: undefined }),
  custom_instructions: fc.option(fc.string({ maxLength: 16 }), { nil: undefined }),
  bundles: fc.option(fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), { nil: undefined }),
  is_personal: sometimes(fc.boolean()),
  owner: sometimes(fc.option(UserIx, { nil: null })),
  members: sometimes(fc.uniqueArray(fc.record({ user: UserIx, role: Role }), { selector: (m) => m.user, maxLength: USERS }))
})

const OpArb = fc.oneof(
  fc.record({
    op: fc.constant("create" as const),
    by: UserIx,
    name: fc.string({ minLength: 1, maxLength: 12 }),
    is_personal: sometimes(fc.boolean()),
    owner: sometimes(fc.option(UserIx, { nil: null }))
  }),
  { arbitrary: fc.record({ op: fc.constant("patch" as const), by: ActorIx, ws: WorkspaceIx, patch: PatchArb }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("add" as const), by: ActorIx, ws: WorkspaceIx, user: UserIx, role: Role }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("setRole" as const), by: ActorIx, ws: WorkspaceIx, user: UserIx, role: Role }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("remove" as const), by: ActorIx, ws: WorkspaceIx, user: UserIx }), weight: 2 },
  fc.record({ op: fc.constant("delete" as const), by: ActorIx, ws: WorkspaceIx })
)
type Op = typeof OpArb extends fc.Arbitrary<infer T> ? T : never

export const workspaceContract = <E>(name: string, store: Layer.Layer<StorePorts, E>) =>
  layer(withAdmin(store), { timeout: "120 seconds" })(`${name} workspace contract`, (it) => {
    describe("invariants under random operations (property)", () => {
      it.effect.prop(
        "personal workspaces stay sole-owner, teams keep an admin, refusals change nothing",
        [fc.array(OpArb, { minLength: 5, maxLength: 25, size: "max" })],
        ([ops]) =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const users = yield* people(USERS)
            const ids = users.map((p) => p.user.id)
            const model: Array<ModelWorkspace> = users.map((p) => ({
              id: p.personal.id,
              is_personal: true,
              owner_user_id: p.user.id,
              deleted: false,
              name: p.personal.name,
              about: "",
              custom_instructions: "",
              bundles: [],
              members: new Map([[p.user.id, "admin" as const]])
            }))
            // two team workspaces to start from, so that team operations have something to work on
            for (const [owner, others] of [[0, [[1, "member"], [2, "admin"]]], [1, [[0, "member"]]]] as const) {
              const team = yield* createTeam(users[owner]!.principal, others.map(([k, role]) => [users[k]!, role] as const))
              model.push({
                id: team,
                is_personal: false,
                owner_user_id: null,
                deleted: false,
                name: "team",
                about: "",
                custom_instructions: "",
                bundles: [],
                members: new Map([[ids[owner]!, "admin" as const], ...others.map(([k, role]) => [ids[k]!, role] as const)])
              })
            }
            const startSeq = yield* lastSeq
            const read = () => stateOf(model.map((m) => m.id), startSeq, ids)

            /** The acting index for `pick` on `ws`: one of its members, or anyone (the system admin is `SYSTEM_ADMIN`). */
            const resolveActor = (pick: { member: boolean; i: number }, ws: ModelWorkspace) => {
              const members = ids.flatMap((id, k) => (ws.members.has(id) ? [k] : []))
              return pick.member && members.length > 0 ? members[pick.i % members.length]! : pick.i
            }
            const actorOf = (i: number) => (i === SYSTEM_ADMIN ? admin : users[i]!.principal)
            const memberIdOf = (i: number) => (i === SYSTEM_ADMIN ? null : ids[i]!)
            const visible = (ws: ModelWorkspace, by: number) =>
              !ws.deleted && (by === SYSTEM_ADMIN || ws.members.has(ids[by]!))
            const administers = (ws: ModelWorkspace, by: number) =>
              by === SYSTEM_ADMIN || ws.members.get(ids[by]!) === "admin"
            const adminCount = (ws: ModelWorkspace) => [...ws.members.values()].filter((r) => r === "admin").length

            /** Runs one operation; returns what it did and what the model says it should have done. */
            const step = (op: Op) =>
              Effect.gen(function*() {
                if (op.op === "create") {
                  const request = {
                    name: op.name,
                    ...(op.is_personal !== undefined ? { is_personal: op.is_personal } : {}),
                    ...(op.owner !== undefined ? { owner_user_id: op.owner === null ? null : ids[op.owner]! } : {})
                  }
                  const expected = op.is_personal === true
                    ? "is_personal_frozen"
                    : op.owner !== undefined && op.owner !== null
                    ? "owner_user_id_on_non_personal"
                    : "ok"
                  const result = yield* Effect.either(createWorkspace(users[op.by]!.principal, request))
                  if (Either.isRight(result)) {
                    model.push({
                      id: result.right.id,
                      is_personal: false,
                      owner_user_id: null,
                      deleted: false,
                      name: op.name,
                      about: "",
                      custom_instructions: "",
                      bundles: [],
                      members: new Map([[ids[op.by]!, "admin" as const]])
                    })
                  } else if (result.left._tag === "PersonalWorkspaceInvariantError") {
                    expect(result.left.workspaceId).toBe("")
                  }
                  return { actual: outcomeOf(result), expected }
                }
                const ws = model[op.ws % model.length]!
                const by = resolveActor(op.by, ws)
                const actor = actorOf(by)
                const checkRefusal = (result: Either.Either<unknown, { readonly _tag: string }>) => {
                  if (Either.isLeft(result)) {
                    const e = result.left as { _tag: string; workspaceId?: string; workspaceIds?: ReadonlyArray<string> }
                    if (e._tag === "PersonalWorkspaceInvariantError") expect(e.workspaceId).toBe(ws.id)
                    if (e._tag === "LastAdmin") expect(e.workspaceIds).toEqual([ws.id])
                  }
                  return outcomeOf(result)
                }
                switch (op.op) {
                  case "patch": {
                    const p = op.patch
                    const owner = p.owner === undefined ? undefined : p.owner === null ? null : ids[p.owner]!
                    const patch = Schema.decodeUnknownSync(WorkspacePatch)({
                      ...(p.name !== undefined ? { name: p.name } : {}),
                      ...(p.about !== undefined ? { about: p.about } : {}),
                      ...(p.custom_instructions !== undefined ? { custom_instructions: p.custom_instructions } : {}),
                      ...(p.bundles !== undefined ? { bundles: p.bundles } : {}),
                      ...(p.is_personal !== undefined ? { is_personal: p.is_personal } : {}),
                      ...(owner !== undefined ? { owner_user_id: owner } : {}),
                      ...(p.members !== undefined ? { members: p.members.map((m) => ({ user_id: ids[m.user]!, role: m.role })) } : {})
                    })
                    const expected = !visible(ws, by)
                      ? "NotFound"
                      : !administers(ws, by)
                      ? "Forbidden"
                      : p.is_personal !== undefined && p.is_personal !== ws.is_personal
                      ? "is_personal_frozen"
                      : ws.is_personal && owner !== undefined && owner !== ws.owner_user_id
                      ? "owner_user_id_frozen"
                      : !ws.is_personal && owner !== undefined && owner !== null
                      ? "owner_user_id_on_non_personal"
                      : p.members !== undefined && ws.is_personal
                      ? "members_mutation"
                      : p.members !== undefined && !p.members.some((m) => m.role === "admin")
                      ? "LastAdmin"
                      : "ok"
                    const actual = checkRefusal(yield* Effect.either(patchWorkspace(actor, ws.id, patch)))
                    if (actual === "ok") {
                      ws.name = p.name ?? ws.name
                      ws.about = p.about ?? ws.about
                      ws.custom_instructions = p.custom_instructions ?? ws.custom_instructions
                      ws.bundles = p.bundles ?? ws.bundles
                      if (p.members !== undefined) ws.members = new Map(p.members.map((m) => [ids[m.user]!, m.role]))
                    }
                    return { actual, expected }
                  }
                  case "add":
                  case "setRole":
                  case "remove": {
                    const target = ids[op.user]!
                    const leaving = op.op === "remove" && memberIdOf(by) === target
                    const demotes = (op.op === "remove" || (op.op === "setRole" && op.role === "member")) &&
                      ws.members.get(target) === "admin"
                    const expected = !visible(ws, by)
                      ? "NotFound"
                      : !leaving && !administers(ws, by)
                      ? "Forbidden"
                      : ws.is_personal
                      ? "members_mutation"
                      : demotes && adminCount(ws) <= 1
                      ? "LastAdmin"
                      : op.op === "add" && ws.members.has(target)
                      ? "AlreadyMember"
                      : op.op !== "add" && !ws.members.has(target)
                      ? "NotFound"
                      : "ok"
                    const result = op.op === "add"
                      ? yield* Effect.either(addMember(actor, ws.id, target, op.role))
                      : op.op === "setRole"
                      ? yield* Effect.either(setMemberRole(actor, ws.id, target, op.role))
                      : yield* Effect.either(removeMember(actor, ws.id, target))
                    const actual = checkRefusal(result)
                    if (actual === "ok") {
                      if (op.op === "remove") ws.members.delete(target)
                      else ws.members.set(target, op.role)
                    }
                    return { actual, expected }
                  }
                  case "delete": {
                    const expected = !visible(ws, by)
                      ? "NotFound"
                      : ws.is_personal
                      ? "personal_workspace_delete"
                      : !administers(ws, by)
                      ? "Forbidden"
                      : "ok"
                    const actual = checkRefusal(yield* Effect.either(deleteWorkspace(actor, ws.id)))
                    if (actual === "ok") ws.deleted = true
                    return { actual, expected }
                  }
                }
              })

            let before = yield* read()
            for (const [i, op] of ops.entries()) {
              const seqBefore = yield* lastSeq
              const { actual, expected } = yield* step(op)
              expect({ step: i, op, outcome: actual }).toEqual({ step: i, op, outcome: expected })
              const after = yield* read()
              if (actual === "ok") {
                expect(yield* lastSeq).toBeGreaterThan(seqBefore)
              } else {
                // a refused operation writes nothing at all: no field, no member, no event
                expect(after.json).toBe(before.json)
              }
              // the stored state: invariants first (independent of the model), then the model
              for (const [j, m] of model.entries()) {
                const stored = after.workspaces[j]!
                if (m.deleted) {
                  expect(Option.isNone(stored)).toBe(true)
                  continue
                }
                const w = Option.getOrThrow(stored)
                const memberIds = w.members.map((x) => x.user_id)
                expect(new Set(memberIds).size).toBe(memberIds.length)
                expect([w.is_personal, w.owner_user_id]).toEqual([m.is_personal, m.owner_user_id])
                if (w.is_personal) {
                  expect(plainMembers(w.members)).toEqual([{ user_id: m.owner_user_id, role: "admin" }])
                } else {
                  expect(w.members.some((x) => x.role === "admin")).toBe(true)
                }
                expect(plainMembers(w.members)).toEqual(
                  plainMembers([...m.members].map(([user_id, role]) => new Member({ user_id, role })))
                )
                expect({ name: w.name, about: w.about, custom_instructions: w.custom_instructions, bundles: w.bundles })
                  .toEqual({ name: m.name, about: m.about, custom_instructions: m.custom_instructions, bundles: m.bundles })
              }
              before = after
            }
          }),
        { timeout: 240_000, fastCheck: { numRuns: 20 } }
      )
    })

    describe("personal workspace invariants", () => {
      it.effect("each of the five reasons is produced by the use cases", () =>
        Effect.gen(function*() {
          const [owner, other] = yield* people(2)
          const personal = owner!.personal.id
          const team = yield* createTeam(owner!.principal, [[other!, "member"]])
          const ids = [personal, team, other!.personal.id]
          const seq = yield* lastSeq
          const before = yield* stateOf(ids, seq)
          const refusal = <A, E extends { readonly _tag: string }>(program: Effect.Effect<A, E, any>) =>
            Effect.map(Effect.flip(program), (e) => {
              expect(e._tag).toBe("PersonalWorkspaceInvariantError")
              const { workspaceId, reason } = e as unknown as { workspaceId: string; reason: string }
              return { workspaceId, reason }
            })
          const me = owner!.principal
          const mutation = { workspaceId: personal, reason: "members_mutation" }
          expect(yield* refusal(addMember(me, personal, other!.user.id, "member"))).toEqual(mutation)
          expect(yield* refusal(setMemberRole(me, personal, owner!.user.id, "member"))).toEqual(mutation)
          expect(yield* refusal(setMemberRole(me, personal, owner!.user.id, "admin"))).toEqual(mutation)
          expect(yield* refusal(removeMember(me, personal, owner!.user.id))).toEqual(mutation)
          expect(yield* refusal(patchWorkspace(me, personal, { members: [{ user_id: owner!.user.id, role: "admin" }] })))
            .toEqual(mutation)
          // the system admin is refused in the same words
          expect(yield* refusal(addMember(SystemActor, personal, other!.user.id, "admin"))).toEqual(mutation)

          expect(yield* refusal(patchWorkspace(me, personal, { is_personal: false }))).toEqual({ workspaceId: personal, reason: "is_personal_frozen" })
          expect(yield* refusal(patchWorkspace(me, team, { is_personal: true }))).toEqual({ workspaceId: team, reason: "is_personal_frozen" })
          expect(yield* refusal(createWorkspace(me, { name: "mine", is_personal: true }))).toEqual({ workspaceId: "", reason: "is_personal_frozen" })

          expect(yield* refusal(patchWorkspace(me, personal, { owner_user_id: other!.user.id })))
            .toEqual({ workspaceId: personal, reason: "owner_user_id_frozen" })
          expect(yield* refusal(patchWorkspace(me, personal, { owner_user_id: null })))
            .toEqual({ workspaceId: personal, reason: "owner_user_id_frozen" })

          expect(yield* refusal(patchWorkspace(me, team, { owner_user_id: owner!.user.id })))
            .toEqual({ workspaceId: team, reason: "owner_user_id_on_non_personal" })
          expect(yield* refusal(createWorkspace(me, { name: "owned", owner_user_id: owner!.user.id })))
            .toEqual({ workspaceId: "", reason: "owner_user_id_on_non_personal" })

          expect(yield* refusal(deleteWorkspace(me, personal))).toEqual({ workspaceId: personal, reason: "personal_workspace_delete" })
          expect(yield* refusal(deleteWorkspace(SystemActor, personal))).toEqual({ workspaceId: personal, reason: "personal_workspace_delete" })

          expect((yield* stateOf(ids, seq)).json).toBe(before.json)
        }))

      it.effect("when one patch breaks several rules, the first of the order in docs/domain.md#workspaces is reported", () =>
        Effect.gen(function*() {
          const [owner, other] = yield* people(2)
          const personal = owner!.personal.id
          const team = yield* createTeam(owner!.principal, [[other!, "member"]])
          const me = owner!.principal
          const seq = yield* lastSeq
          const before = yield* stateOf([personal, team], seq)
          const reason = (id: WorkspaceId, patch: WorkspacePatch) =>
            Effect.map(Effect.flip(patchWorkspace(me, id, patch)), (e) => e._tag === "PersonalWorkspaceInvariantError" ? e.reason : e._tag)
          const members = [{ user_id: other!.user.id, role: "member" as const }] // no admin either
          const all = { name: "renamed", is_personal: false, owner_user_id: other!.user.id, members }
          expect(yield* reason(personal, all)).toBe("is_personal_frozen")
          expect(yield* reason(personal, { ...all, is_personal: true })).toBe("owner_user_id_frozen")
          expect(yield* reason(personal, { ...all, is_personal: true, owner_user_id: owner!.user.id })).toBe("members_mutation")
          expect(yield* reason(team, { ...all, is_personal: true })).toBe("is_personal_frozen")
          expect(yield* reason(team, { ...all, is_personal: false })).toBe("owner_user_id_on_non_personal")
          expect(yield* reason(team, { ...all, is_personal: false, owner_user_id: null })).toBe("LastAdmin")
          expect(yield* Effect.flip(createWorkspace(me, { name: "x", is_personal: true, owner_user_id: owner!.user.id })))
            .toMatchObject({ reason: "is_personal_frozen" })
          expect((yield* stateOf([personal, team], seq)).json).toBe(before.json)
        }))

      it.effect("name, about, custom_instructions and bundles stay editable; a rejected patch changes none of them", () =>
        Effect.gen(function*() {
          const [owner] = yield* people(1)
          const personal = owner!.personal.id
          const me = owner!.principal
          const fields = { name: "My space", about: "about me", custom_instructions: "be terse", bundles: ["a", "b"] }
          const patched = yield* patchWorkspace(me, personal, { ...fields, is_personal: true, owner_user_id: owner!.user.id })
          expect(patched).toMatchObject(fields)
          const stored = yield* loadWorkspace(personal)
          expect(stored).toMatchObject({ ...fields, is_personal: true, owner_user_id: owner!.user.id })
          expect(plainMembers(stored.members)).toEqual([{ user_id: owner!.user.id, role: "admin" }])

          const seq = yield* lastSeq
          const before = yield* stateOf([personal], seq)
          const refused = yield* Effect.flip(patchWorkspace(me, personal, {
            name: "changed",
            about: "changed",
            custom_instructions: "changed",
            bundles: ["changed"],
            members: [{ user_id: owner!.user.id, role: "admin" }]
          }))
          expect(refused).toMatchObject({ _tag: "PersonalWorkspaceInvariantError", reason: "members_mutation" })
          expect((yield* stateOf([personal], seq)).json).toBe(before.json)
          expect(yield* loadWorkspace(personal)).toMatchObject(fields)
        }))
    })

    describe("team workspaces", () => {
      it.effect("a members patch naming a user who does not exist or is revoked is user_not_found and changes nothing", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const [owner, gone] = yield* people(2)
          const team = yield* createTeam(owner!.principal)
          yield* revokeUser(admin, gone!.user.id)
          const nobody = `usr_${"0".repeat(28)}dead` as UserId
          const seq = yield* lastSeq
          const before = yield* stateOf([team], seq)
          for (const stranger of [nobody, gone!.user.id]) {
            const result = yield* Effect.either(patchWorkspace(owner!.principal, team, {
              members: [{ user_id: owner!.user.id, role: "admin" }, { user_id: stranger, role: "member" }]
            }))
            // addMember refuses the same users (UserNotFound); a members patch must not be a way around it
            expect(outcomeOf(result)).toBe("UserNotFound")
          }
          expect((yield* stateOf([team], seq)).json).toBe(before.json)
          expect(plainMembers((yield* loadWorkspace(team)).members)).toEqual([{ user_id: owner!.user.id, role: "admin" }])
        }))
    })

    describe("cleanup of personal workspace members", () => {
      it.effect("dry run reports, apply repairs, a second apply changes nothing; an ownerless one is reported and untouched", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const [a, b, c, x, y] = yield* people(5)
          const store = yield* Store
          // data written before the rules held, bypassing every use case
          yield* Transactor.run(Effect.all([
            store.replaceMembers(a!.personal.id, [
              new Member({ user_id: a!.user.id, role: "admin" }),
              new Member({ user_id: x!.user.id, role: "admin" }),
              new Member({ user_id: y!.user.id, role: "admin" })
            ]),
            store.replaceMembers(b!.personal.id, [
              new Member({ user_id: b!.user.id, role: "member" }),
              new Member({ user_id: x!.user.id, role: "member" })
            ]),
            store.replaceMembers(c!.personal.id, [])
          ]))
          const at = "2026-01-01T00:00:00.000Z" as Timestamp
          const orphan = new Workspace({
            id: yield* newWorkspaceId,
            name: "orphan",
            about: "",
            custom_instructions: "",
            bundles: [],
            is_personal: true,
            owner_user_id: null,
            members: [new Member({ user_id: x!.user.id, role: "admin" }), new Member({ user_id: y!.user.id, role: "member" })],
            created_at: at,
            updated_at: at
          })
          expect(yield* Transactor.run(store.insert(orphan))).toBe(true)
          const broken = [a!, b!, c!]
          const ours = [...broken.map((p) => p.personal.id), orphan.id]
          const seq = yield* lastSeq
          const userIds = [a!, b!, c!, x!, y!].map((p) => p.user.id)
          const original = yield* stateOf(ours, seq, userIds)
          const mine = <R extends { readonly workspace_id: WorkspaceId }>(report: ReadonlyArray<R>) =>
            report.filter((r) => ours.includes(r.workspace_id))
          const summary = (report: ReadonlyArray<{ workspace_id: WorkspaceId; status: string; before: ReadonlyArray<Member>; after: ReadonlyArray<Member> }>) =>
            mine(report).map((r) => ({ id: r.workspace_id, status: r.status, before: plainMembers(r.before), after: plainMembers(r.after) }))
              .sort((p, q) => ours.indexOf(p.id) - ours.indexOf(q.id))
          const sole = (p: Person) => [{ user_id: p.user.id, role: "admin" }]

          expect((yield* Effect.flip(cleanupPersonalWorkspaceMembers(a!.principal, { apply: true })))._tag).toBe("Forbidden")

          const dry = yield* cleanupPersonalWorkspaceMembers(admin, { apply: false })
          expect(summary(dry)).toEqual([
            { id: a!.personal.id, status: "would_repair", before: plainMembers([new Member({ user_id: a!.user.id, role: "admin" }), new Member({ user_id: x!.user.id, role: "admin" }), new Member({ user_id: y!.user.id, role: "admin" })]), after: sole(a!) },
            { id: b!.personal.id, status: "would_repair", before: plainMembers([new Member({ user_id: b!.user.id, role: "member" }), new Member({ user_id: x!.user.id, role: "member" })]), after: sole(b!) },
            { id: c!.personal.id, status: "would_repair", before: [], after: sole(c!) },
            { id: orphan.id, status: "missing_owner", before: plainMembers(orphan.members), after: plainMembers(orphan.members) }
          ])
          expect((yield* stateOf(ours, seq, userIds)).json).toBe(original.json)

          const applied = yield* cleanupPersonalWorkspaceMembers(admin, { apply: true })
          expect(summary(applied).map((r) => [r.id, r.status])).toEqual([
            [a!.personal.id, "repaired"],
            [b!.personal.id, "repaired"],
            [c!.personal.id, "repaired"],
            [orphan.id, "missing_owner"]
          ])
          for (const p of broken) {
            const w = yield* loadWorkspace(p.personal.id)
            expect(plainMembers(w.members)).toEqual(sole(p))
            expect([w.is_personal, w.owner_user_id]).toEqual([true, p.user.id])
          }
          const untouched = yield* loadWorkspace(orphan.id)
          expect(JSON.stringify(untouched)).toBe(JSON.stringify(Option.getOrThrow(original.workspaces[3]!)))
          const repairs = (yield* eventsAfter(seq)).filter((e) => e.type === "workspace.members_repaired")
          expect(repairs.map((e) => e.workspace_id).sort()).toEqual(broken.map((p) => p.personal.id).sort())

          const repairedState = yield* stateOf(ours, yield* lastSeq, userIds)
          const again = yield* cleanupPersonalWorkspaceMembers(admin, { apply: true })
          expect(again.filter((r) => r.status !== "missing_owner")).toEqual([])
          expect(summary(again).map((r) => [r.id, r.status])).toEqual([[orphan.id, "missing_owner"]])
          expect((yield* stateOf(ours, (yield* lastSeq), userIds)).json).toBe(repairedState.json)
          expect((yield* eventsAfter(seq)).filter((e) => e.type === "workspace.members_repaired")).toHaveLength(3)
        }))
    })

    describe("user deletion and last-admin seats", () => {
      it.effect("deleting the only admin of team workspaces is last_admin listing them; transfer_to takes over exactly those seats at once", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const [u, v, heir, revoked] = yield* people(4)
          const solo1 = yield* createTeam(u!.principal, [[heir!, "member"], [v!, "member"]], "solo-with-heir")
          const solo2 = yield* createTeam(u!.principal, [], "solo-alone")
          const shared = yield* createTeam(u!.principal, [[v!, "admin"]], "co-admin")
          const theirs = yield* createTeam(v!.principal, [[u!, "member"]], "member-only")
          yield* revokeUser(admin, revoked!.user.id)
          const ids = [solo1, solo2, shared, theirs, u!.personal.id]
          const userIds = [u!, v!, heir!].map((p) => p.user.id)
          const seq = yield* lastSeq
          const before = yield* stateOf(ids, seq, userIds)

          const refused = yield* Effect.flip(deleteUser(admin, u!.user.id, Option.none()))
          expect(refused._tag).toBe("LastAdmin")
          expect(refused._tag === "LastAdmin" && [...refused.workspaceIds].sort()).toEqual([solo1, solo2].sort())
          expect((yield* Effect.flip(deleteUser(admin, u!.user.id, Option.some(revoked!.user.id))))._tag).toBe("Conflict")
          expect((yield* Effect.flip(deleteUser(admin, u!.user.id, Option.some(u!.user.id))))._tag).toBe("Conflict")
          expect((yield* stateOf(ids, seq, userIds)).json).toBe(before.json)

          const report = yield* deleteUser(admin, u!.user.id, Option.some(heir!.user.id))
          expect(report).toMatchObject({ user_id: u!.user.id, personal_workspaces_deleted: 1, memberships_removed: 4, api_keys_deleted: 1 })
          const membersOf = (id: WorkspaceId) => Effect.map(loadWorkspace(id), (w) => plainMembers(w.members))
          const m = (p: Person, role: WorkspaceRole) => ({ user_id: p.user.id, role })
          expect(yield* membersOf(solo1)).toEqual(plainMembers([m(heir!, "admin"), m(v!, "member")].map((x) => new Member(x))))
          expect(yield* membersOf(solo2)).toEqual([m(heir!, "admin")])
          expect(yield* membersOf(shared)).toEqual([m(v!, "admin")])
          expect(yield* membersOf(theirs)).toEqual([m(v!, "admin")])
          expect(Option.isNone(yield* findWorkspace(u!.personal.id))).toBe(true)
          expect((yield* Effect.flatMap(Store, (s) => s.listForUser(u!.user.id)))).toEqual([])
          expect((yield* Effect.flip(authenticate(u!.apiKey)))._tag).toBe("Unauthenticated")

          // the transfers and the deletion are one transaction: their events are consecutive
          const events = yield* eventsAfter(seq)
          expect(events.map((e) => e.type)).toEqual(["workspace.admin_transferred", "workspace.admin_transferred", "user.deleted"])
          expect(events.map((e) => e.seq - events[0]!.seq)).toEqual([0, 1, 2])
          expect(events.slice(0, 2).map((e) => e.workspace_id).sort()).toEqual([solo1, solo2].sort())
          expect(events.slice(0, 2).map((e) => e.data)).toEqual([
            { from_user_id: u!.user.id, to_user_id: heir!.user.id },
            { from_user_id: u!.user.id, to_user_id: heir!.user.id }
          ])
        }))
    })
  })
