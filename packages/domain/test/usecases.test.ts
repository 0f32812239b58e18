// Identity use cases over in-memory ports: refusals before any lookup, who may mint, fixed invite terms, lost redemption races.
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, FastCheck as fc, Layer, Option, Redacted } from "effect"
import { generateKeyPairSync } from "node:crypto"
import { ResourceStore,
  ApiKey,
  ApiKeyId,
  ApiKeyStore,
  authenticate,
  Crypto,
  Event,
  EventLog,
  formatToken,
  Handle,
  InTransaction,
  LinkCredentialStore,
  Invite,
  InviteStore,
  inviteState,
  Member,
  mintInvite,
  type NewEvent,
  type Principal,
  register,
  SystemActor,
  SystemRole,
  timestampOf,
  Transactor,
  User,
  UserExists,
  UserId,
  UserStore,
  Workspace,
  WorkspaceId,
  WorkspaceStore
} from "../src/index.js"

type Service<T extends Context.Tag<any, any>> = Context.Tag.Service<T>

/** Wraps every member of a port so that each call is recorded as `Port.member`. */
const recorded = <S extends object>(port: string, calls: Array<string>, service: S): S =>
  Object.fromEntries(Object.entries(service).map(([name, member]) => [
    name,
    Effect.isEffect(member)
      ? Effect.zipRight(Effect.sync(() => calls.push(`${port}.${name}`)), member)
      : (...args: Array<unknown>) => {
        calls.push(`${port}.${name}`)
        return (member as (...a: Array<unknown>) => unknown)(...args)
      }
  ])) as S

/** In-memory ports over plain maps. `loseNextRedemptionTo` makes markRedeemed report a lost race. */
const makeWorld = () => {
  const calls: Array<string> = []
  const users = new Map<string, User>()
  const apiKeys = new Map<string, ApiKey>()
  const invites = new Map<string, { invite: Invite; digest: string }>()
  const workspaces = new Map<string, Workspace>()
  const events: Array<NewEvent> = []
  const world = { calls, users, apiKeys, invites, workspaces, events, loseNextRedemptionTo: undefined as undefined | "redeemed" | "canceled" | "nobody" }

  const userStore: Service<typeof UserStore> = {
    insert: (user) =>
      [...users.values()].some((u) => u.handle === user.handle || (u.sign_pub !== null && u.sign_pub === user.sign_pub))
        ? Effect.fail(new UserExists({ field: "handle", message: "taken" }))
        : Effect.sync(() => void users.set(user.id, user)),
    findById: (id) => Effect.sync(() => Option.fromNullable(users.get(id))),
    findByHandle: (handle) => Effect.sync(() => Option.fromNullable([...users.values()].find((u) => u.handle === handle))),
    list: Effect.sync(() => [...users.values()]),
    page: (after, limit) =>
      Effect.sync(() => [...users.values()].filter((u) => u.id > (after ?? "")).sort((a, b) => (a.id < b.id ? -1 : 1)).slice(0, limit)),
    count: Effect.sync(() => users.size),
    countActiveAdmins: Effect.sync(() => [...users.values()].filter((u) => u.role === "admin" && u.status === "active").length),
    revoke: (id, at) => Effect.sync(() => void users.set(id, new User({ ...users.get(id)!, status: "revoked", revoked_at: at }))),
    hold: (id) => Effect.sync(() => Option.fromNullable(users.get(id))),
    lock: () => Effect.void,
    delete: (id) => Effect.sync(() => void users.delete(id))
  }
  const apiKeyStore: Service<typeof ApiKeyStore> = {
    insert: (key, digest) => Effect.sync(() => void apiKeys.set(digest, key)),
    findActiveOwner: (digest) =>
      Effect.sync(() => {
        const key = apiKeys.get(digest)
        const user = key === undefined ? undefined : users.get(key.user_id)
        return user?.status === "active" ? Option.some({ user, apiKeyId: key!.id }) : Option.none()
      }),
    deleteForUser: () => Effect.succeed(0)
  }
  const transition = (id: string, from: Invite["status"], change: Partial<Invite>) =>
    Effect.sync(() => {
      const row = invites.get(id)
      if (row === undefined || row.invite.status !== from) return false
      row.invite = new Invite({ ...row.invite, ...change })
      return true
    })
  const inviteStore: Service<typeof InviteStore> = {
    insert: (invite, digest) => Effect.sync(() => void invites.set(invite.id, { invite, digest })),
    findById: (id) => Effect.sync(() => Option.fromNullable(invites.get(id)?.invite)),
    findByDigest: (digest) => Effect.sync(() => Option.fromNullable([...invites.values()].find((r) => r.digest === digest)?.invite)),
    list: (query) =>
      Effect.sync(() =>
        [...invites.values()].map((r) => r.invite).filter((i) =>
          (query.handle === undefined || i.handle === query.handle) &&
          (query.createdBy === undefined || i.created_by === query.createdBy) &&
          (query.workspaceId === undefined || i.workspace_id === query.workspaceId) &&
          (query.storedStatuses === undefined || query.storedStatuses.includes(i.status))
        )
      ),
    claim: (digest, kind, r) => {
      const row = [...invites.values()].find((x) => x.digest === digest)
      if (row === undefined || row.invite.kind !== kind || inviteState(row.invite, Date.parse(r.at)) !== "pending") {
        return Effect.succeed(Option.none())
      }
      const before = row.invite
      const winner = world.loseNextRedemptionTo
      // "nobody": the claim and the write by id both lose with no winner to show
      if (winner === "nobody") return Effect.succeed(Option.none())
      if (winner !== undefined) return Effect.as(inviteStore.markRedeemed(before.id, r), Option.none())
      return Effect.as(transition(before.id, "pending", { status: "redeemed", redeemed_at: r.at, redeemed_by: r.by, redeemed_sign_pub: r.signPub, redeemed_kex_pub: r.kexPub }), Option.some(before))
    },
    claimAs: (actorId, digest, kind, r) => {
      const actor = Option.fromNullable(users.get(actorId))
      return Option.isSome(actor) && actor.value.status === "active"
        ? Effect.map(inviteStore.claim(digest, kind, r), (invite) => ({ actor, invite, minterHeld: null }))
        : Effect.succeed({ actor, invite: Option.none(), minterHeld: null })
    },
    markRedeemed: (id, r) => {
      const winner = world.loseNextRedemptionTo
      if (winner === undefined) {
        return transition(id, "pending", { status: "redeemed", redeemed_at: r.at, redeemed_by: r.by, redeemed_sign_pub: r.signPub, redeemed_kex_pub: r.kexPub })
      }
      world.loseNextRedemptionTo = undefined
      const applied = winner === "redeemed"
        ? transition(id, "pending", { status: "redeemed", redeemed_at: r.at, redeemed_by: UserId.make(`usr_${"9".repeat(32)}`) })
        : winner === "canceled"
        ? transition(id, "pending", { status: "canceled", canceled_at: r.at })
        : Effect.succeed(true)
      return Effect.as(applied, false)
    },
    markCanceled: (id, at) => transition(id, "pending", { status: "canceled", canceled_at: at }),
    markExpired: (id) => transition(id, "pending", { status: "expired" }),
    markExpiredAll: () => Effect.succeed([]),
    page: () => Effect.succeed([]),
    cancelPendingForWorkspace: () => Effect.succeed([]),
    cancelPendingInSubtree: () => Effect.succeed(0),
    pendingExpired: () => Effect.succeed([]),
    cancelPendingMintedBy: () => Effect.succeed(0)
  }
  const workspaceStore: Service<typeof WorkspaceStore> = {
    insert: (ws) =>
      Effect.sync(() => {
        if (ws.is_personal && [...workspaces.values()].some((w) => w.is_personal && w.owner_user_id === ws.owner_user_id)) return false
        workspaces.set(ws.id, ws)
        return true
      }),
    findById: (id) => Effect.sync(() => Option.fromNullable(workspaces.get(id))),
    findPersonal: (owner) => Effect.sync(() => Option.fromNullable([...workspaces.values()].find((w) => w.is_personal && w.owner_user_id === owner))),
    addMember: (id, userId, role) =>
      Effect.sync(() => {
        const ws = workspaces.get(id)!
        workspaces.set(id, new Workspace({ ...ws, members: [...ws.members, new Member({ user_id: userId, role })] }))
      }),
    listForUser: (userId) => Effect.sync(() => [...workspaces.values()].filter((w) => w.members.some((m) => m.user_id === userId))),
    personalNeedingRepair: () => Effect.succeed([]),
    listAll: Effect.sync(() => [...workspaces.values()]),
    page: (member, after, limit) =>
      Effect.sync(() =>
        [...workspaces.values()]
          .filter((w) => w.id > (after ?? "") && (member === null || w.members.some((m) => m.user_id === member)))
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .slice(0, limit)
      ),
    lock: () => Effect.void,
    readHeld: (id, userId) => workspaceStore.hold(id, userId),
    readHeldAdding: (id, minterId, userId, role) =>
      Effect.gen(function*() {
        const workspace = yield* workspaceStore.hold(id, minterId)
        if (Option.isNone(workspace) || workspace.value.isPersonal) return { workspace, added: false }
        const added = yield* Effect.isSuccess(workspaceStore.addMember(id, userId, role))
        return { workspace, added }
      }),
    holdWithMinter: (id, minterId) =>
      Effect.map(workspaceStore.hold(id, minterId), (workspace) => ({ minter: Option.fromNullable(users.get(minterId)), workspace })),
    hold: (id, userId) =>
      Effect.sync(() =>
        Option.map(Option.fromNullable(workspaces.get(id)), (w) => ({
          isPersonal: w.is_personal,
          role: w.members.find((m) => m.user_id === userId)?.role ?? null
        }))
      ),
    update: (ws) => Effect.sync(() => void workspaces.set(ws.id, new Workspace({ ...ws, members: workspaces.get(ws.id)!.members }))),
    replaceMembers: (id, members) => Effect.sync(() => void workspaces.set(id, new Workspace({ ...workspaces.get(id)!, members }))),
    lockAll: () => Effect.succeed([]),
    replaceMembersOf: () => Effect.void,
    setMemberRole: () => Effect.succeed(false),
    removeMember: () => Effect.succeed(false),
    delete: (id) => Effect.sync(() => workspaces.delete(id)),
    deletePersonalOf: () => Effect.succeed(0),
    removeMembershipsOf: () => Effect.succeed(0)
  }
  const eventLog: Service<typeof EventLog> = {
    append: (_at, appended) => Effect.sync(() => void events.push(...appended)),
    list: ({ after, limit }) =>
      Effect.sync(() =>
        events.map((e, i) => new Event({ seq: i + 1, at: timestampOf(0), workspace_id: null, resource_id: null, ...e }))
          .filter((e) => e.seq > after).slice(0, limit)
      )
  }
  const layer = Layer.mergeAll(
    Layer.succeed(UserStore, recorded("UserStore", calls, userStore)),
    Layer.succeed(ApiKeyStore, recorded("ApiKeyStore", calls, apiKeyStore)),
    // No share links in these flows: none is ever found.
    Layer.succeed(LinkCredentialStore, { findActive: () => Effect.succeed(Option.none()), hold: () => Effect.succeed(Option.none()) }),
    Layer.succeed(InviteStore, recorded("InviteStore", calls, inviteStore)),
    Layer.succeed(WorkspaceStore, recorded("WorkspaceStore", calls, workspaceStore)),
    Layer.succeed(EventLog, recorded("EventLog", calls, eventLog)),
    // The identity flows tested here never touch resources: any call is a defect.
    Layer.succeed(ResourceStore, new Proxy({}, { get: (_, name) => () => Effect.die(`unexpected ResourceStore.${String(name)}`) }) as never),
    Layer.succeed(Transactor, {
      run: (program) =>
        Effect.zipRight(Effect.sync(() => calls.push("Transactor.run")), Effect.provideService(program, InTransaction, { _tag: "InTransaction" })) as never
    }),
    Crypto.Live
  )
  return Object.assign(world, { layer, writes: () => calls.filter((c) => /\.(insert|claim|mark\w+|addMember|append|revoke|delete\w*)$/.test(c)) })
}
type World = ReturnType<typeof makeWorld>
type Ports = Layer.Layer.Success<World["layer"]>

/** Runs a program against a fresh in-memory world. */
const inWorld = <A, E>(program: (world: World) => Effect.Effect<A, E, Ports>) =>
  Effect.suspend(() => {
    const world = makeWorld()
    return Effect.provide(program(world), world.layer)
  })


const rawPublicHex = (type: "ed25519" | "x25519") => {
  const { publicKey } = generateKeyPairSync(type as "ed25519")
  return Buffer.from((publicKey.export({ format: "jwk" }) as { x: string }).x, "base64url").toString("hex")
}
const publicKeys = () => ({ signPub: rawPublicHex("ed25519"), kexPub: rawPublicHex("x25519") })

const userOf = (role: "admin" | "member", status: "active" | "revoked" = "active") =>
  new User({
    id: UserId.make(`usr_${role === "admin" ? "a" : "b"}${"0".repeat(31)}`),
    handle: Handle.make(`${role}-${status}`),
    role,
    status,
    sign_pub: null,
    kex_pub: null,
    created_at: timestampOf(0),
    revoked_at: status === "revoked" ? timestampOf(0) : null
  })
const principalOf = (user: User): Principal => ({ user, apiKeyId: ApiKeyId.make(`key_${"0".repeat(32)}`) })

const mintRegistration = (handle = "alice", role?: SystemRole) =>
  mintInvite(SystemActor, { kind: "registration", handle: Handle.make(handle), ...(role === undefined ? {} : { role }) })

/** `token` with one hex digit after the prefix replaced by a different one. */
const corrupt = (token: string, position: number, shift: number) => {
  const i = 4 + (position % 72)
  const c = "0123456789abcdef"[(parseInt(token[i]!, 16) + 1 + (shift % 15)) % 16]!
  return Redacted.make(token.slice(0, i) + c + token.slice(i + 1))
}

describe("malformed tokens are refused before any lookup", () => {
  it.effect.prop("register and authenticate with a one-character typo touch no port", [
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.nat(),
    fc.nat()
  ], ([bytes, position, shift]) =>
    inWorld((world) =>
      Effect.gen(function*() {
        const { token } = yield* mintRegistration()
        world.calls.length = 0
        const registered = yield* Effect.exit(register({ token: corrupt(Redacted.value(token), position, shift), ...publicKeys() }))
        const authenticated = yield* Effect.exit(authenticate(corrupt(formatToken("tsk", bytes), position, shift)))
        expect(registered).toMatchObject(Exit.fail({ _tag: "InviteNotFound" }))
        expect(authenticated).toMatchObject(Exit.fail({ _tag: "Unauthenticated" }))
        expect(world.calls).toEqual([])
        expect([...world.invites.values()][0]!.invite.status).toBe("pending")
      })
    ), { fastCheck: { numRuns: 30 } })

  it.effect("a token of the other kind is refused without lookup; a well-formed unknown one is looked up", () =>
    inWorld((world) =>
      Effect.gen(function*() {
        const apiKey = Redacted.make(formatToken("tsk", new Uint8Array(32).fill(1)))
        const invite = Redacted.make(formatToken("tsi", new Uint8Array(32).fill(2)))
        expect(yield* Effect.exit(register({ token: apiKey, ...publicKeys() }))).toMatchObject(Exit.fail({ _tag: "InviteNotFound" }))
        expect(yield* Effect.exit(authenticate(invite))).toMatchObject(Exit.fail({ _tag: "Unauthenticated" }))
        expect(world.calls).toEqual([])
        expect(yield* Effect.exit(register({ token: invite, ...publicKeys() }))).toMatchObject(Exit.fail({ _tag: "InviteNotFound" }))
        expect(yield* Effect.exit(authenticate(apiKey))).toMatchObject(Exit.fail({ _tag: "Unauthenticated" }))
        expect(world.calls).toEqual(["Transactor.run", "InviteStore.claim", "InviteStore.findByDigest", "ApiKeyStore.findActiveOwner"])
      })
    ))
})

describe("register checks the presented keys first", () => {
  const ok = publicKeys()
  const cases = [
    { keys: { ...ok, signPub: ok.signPub.toUpperCase() }, field: "sign_pub", problem: "format" },
    { keys: { ...ok, signPub: `02${"0".repeat(62)}` }, field: "sign_pub", problem: "not_on_curve" },
    { keys: { ...ok, signPub: `${"f".repeat(62)}7f` }, field: "sign_pub", problem: "not_on_curve" },
    { keys: { ...ok, kexPub: ok.kexPub.slice(2) }, field: "kex_pub", problem: "format" },
    { keys: { ...ok, kexPub: `01${"0".repeat(62)}` }, field: "kex_pub", problem: "small_order" }
  ] as const
  for (const { keys, field, problem } of cases) {
    it.effect(`${field} ${problem}: InvalidKey, and nothing is looked up`, () =>
      inWorld((world) =>
        Effect.gen(function*() {
          const { token } = yield* mintRegistration()
          world.calls.length = 0
          expect(yield* Effect.exit(register({ token, ...keys }))).toMatchObject(Exit.fail({ _tag: "InvalidKey", field, problem }))
          expect(world.calls).toEqual([])
        })
      ))
  }
})

describe("who may mint", () => {
  it.effect("a registration invite needs an active system admin; refusals write nothing", () =>
    inWorld((world) =>
      Effect.gen(function*() {
        const member = userOf("member")
        world.users.set(member.id, member)
        expect(yield* Effect.exit(mintInvite(principalOf(member), { kind: "registration", handle: Handle.make("eve") })))
          .toMatchObject(Exit.fail({ _tag: "Forbidden" }))
        // An admin revoked after authenticating is refused inside the transaction, as the store now holds them.
        const revoked = userOf("admin", "revoked")
        world.users.set(revoked.id, revoked)
        expect(yield* Effect.exit(mintInvite(principalOf(userOf("admin")), { kind: "registration", handle: Handle.make("eve") })))
          .toMatchObject(Exit.fail({ _tag: "Unauthenticated" }))
        expect(world.writes()).toEqual([])
        world.users.set(revoked.id, userOf("admin"))
        const { invite } = yield* mintInvite(principalOf(userOf("admin")), { kind: "registration", handle: Handle.make("eve") })
        expect(invite.created_by).toBe(userOf("admin").id)
        expect(world.writes()).toEqual(["InviteStore.insert", "EventLog.append"])
      })
    ))

  it.effect("a plain member of a workspace cannot mint grant invites for it", () =>
    inWorld((world) =>
      Effect.gen(function*() {
        const team = new Workspace({
          id: WorkspaceId.make(`ws_${"c".repeat(32)}`),
          name: "team",
          about: "",
          custom_instructions: "",
          bundles: [],
          is_personal: false,
          owner_user_id: null,
          members: [new Member({ user_id: userOf("member").id, role: "member" })],
          created_at: timestampOf(0),
          updated_at: timestampOf(0)
        })
        world.workspaces.set(team.id, team)
        world.users.set(userOf("member").id, userOf("member"))
        const exit = yield* Effect.exit(
          mintInvite(principalOf(userOf("member")), { kind: "grant", workspace_id: team.id, workspace_role: "member" })
        )
        expect(exit).toMatchObject(Exit.fail({ _tag: "Forbidden" }))
        expect(world.writes()).toEqual([])
        expect(world.invites.size + world.events.length).toBe(0)
      })
    ))
})

describe("the redeemer cannot change the invite's terms", () => {
  it.effect.prop("registration takes handle and role from the invite, whatever else is sent", [
    Handle,
    SystemRole,
    Handle,
    SystemRole
  ], ([handle, role, claimedHandle, claimedRole]) =>
    inWorld((world) =>
      Effect.gen(function*() {
        const { token } = yield* mintRegistration(handle, role)
        const keys = publicKeys()
        const request = { token, ...keys, handle: claimedHandle, role: claimedRole, kind: "grant", workspace_id: `ws_${"d".repeat(32)}` }
        const { user, apiKey } = yield* register(request)
        expect(user).toMatchObject({ handle, role, sign_pub: keys.signPub, kex_pub: keys.kexPub })
        expect([...world.users.values()]).toEqual([user])
        expect([...world.workspaces.values()].map((w) => [w.is_personal, w.owner_user_id])).toEqual([[true, user.id]])
        expect([...world.invites.values()][0]!.invite).toMatchObject({
          status: "redeemed",
          redeemed_by: user.id,
          redeemed_sign_pub: keys.signPub,
          redeemed_kex_pub: keys.kexPub
        })
        expect(world.events.map((e) => e.type)).toEqual(["invite.minted", "invite.redeemed", "user.created", "workspace.created"])
        expect(world.events[2]!.data).toMatchObject({ handle, role })
        const logged = JSON.stringify(world.events)
        expect(logged).not.toContain(Redacted.value(token).slice(4, 68))
        expect(logged).not.toContain(Redacted.value(apiKey).slice(4, 68))
        expect(yield* authenticate(apiKey)).toMatchObject({ user: { id: user.id } })
      })
    ), { fastCheck: { numRuns: 25 } })

  it.effect("a registration invite minted without a role makes a member", () =>
    inWorld(() =>
      Effect.gen(function*() {
        const { token } = yield* mintRegistration("bob")
        const { user } = yield* register({ token, ...publicKeys(), role: "admin" } as Parameters<typeof register>[0])
        expect(user.role).toBe("member")
      })
    ))
})

describe("a lost redemption race", () => {
  const loseTo = (winner: "redeemed" | "canceled" | "nobody") =>
    inWorld((world) =>
      Effect.gen(function*() {
        const { invite, token } = yield* mintRegistration()
        world.calls.length = 0
        world.events.length = 0
        world.loseNextRedemptionTo = winner
        const exit = yield* Effect.exit(register({ token, ...publicKeys() }))
        expect(world.calls).toContain("InviteStore.claim")
        expect(world.users.size + world.apiKeys.size + world.workspaces.size + world.events.length).toBe(0)
        // the claim lost; with no winner to show, the write by id lost too
        expect(world.writes()).toEqual(winner === "nobody" ? ["InviteStore.claim", "InviteStore.markRedeemed"] : ["InviteStore.claim"])
        return { exit, inviteId: invite.id }
      })
    )

  it.effect("to another redeemer is InviteAlreadyRedeemed and creates no user", () =>
    Effect.gen(function*() {
      const { exit, inviteId } = yield* loseTo("redeemed")
      expect(exit).toMatchObject(Exit.fail({ _tag: "InviteAlreadyRedeemed", inviteId }))
    }))

  it.effect("when the store shows no winner, it is still InviteAlreadyRedeemed", () =>
    Effect.gen(function*() {
      const { exit, inviteId } = yield* loseTo("nobody")
      expect(exit).toMatchObject(Exit.fail({ _tag: "InviteAlreadyRedeemed", inviteId }))
    }))

  it.effect("to a cancel reports the winner's state", () =>
    Effect.gen(function*() {
      const { exit, inviteId } = yield* loseTo("canceled")
      expect(exit).toMatchObject(Exit.fail({ _tag: "InviteCanceled", inviteId }))
    }))
})
