/**
 * @tessera/store-contract — the behavioural suite every store must pass.
 * It drives the domain's use cases through the store's ports (never the
 * store's SQL), so two stores that pass it are interchangeable.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  ApiKeyStore,
  type LinkCredentialStore,
  type ShareLinkStore,
  authenticate,
  bootstrapAdmin,
  cancelInvite,
  createWorkspace,
  type Crypto,
  deleteUser,
  EventLog,
  formatToken,
  getInvite,
  Invite,
  type Handle,
  InviteStore,
  listEvents,
  listInvites,
  Member,
  mintInvite,
  newWorkspaceId,
  type Principal,
  purgeExpiredInvites,
  redeemInvite,
  register,
  type ResourceStore,
  revokeUser,
  setMemberRole,
  SystemActor,
  type Timestamp,
  Transactor,
  User,
  type UserId,
  UserStore,
  Workspace,
  WorkspaceStore
} from "@tessera/domain"
import { Context, Effect, Either, FastCheck as fc, Layer, Option, Redacted, TestClock } from "effect"
import { lastSeq, publicKeys, uniqueHandle } from "./fixtures.js"

export * from "./fixtures.js"
export * from "./invariants.js"

export type StorePorts = UserStore | ApiKeyStore | LinkCredentialStore | InviteStore | ShareLinkStore | WorkspaceStore | ResourceStore | EventLog | Transactor | Crypto

/** The suite's system admin, bootstrapped once per store. */
export class Admin extends Context.Tag("StoreContract/Admin")<Admin, {
  readonly principal: Principal
  readonly apiKey: Redacted.Redacted<string>
}>() {}

export const withAdmin = <E, A = never>(store: Layer.Layer<StorePorts | A, E>) =>
  Layer.effect(
    Admin,
    Effect.gen(function*() {
      const { apiKey } = yield* bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.none() })
      const principal = yield* authenticate(apiKey)
      return { principal, apiKey }
    }).pipe(Effect.orDie)
  ).pipe(Layer.provideMerge(store))


/** The events appended after `seq`, in order. */
const eventsAfter = (seq: number) => Effect.map(listEvents(SystemActor, { after: seq, limit: 1000 }), (page) => page.events)

const typesAfter = (seq: number) => Effect.map(eventsAfter(seq), (events) => events.map((e) => e.type))

const stateOf = Effect.gen(function*() {
  const users = yield* Effect.flatMap(UserStore, (s) => s.list)
  const invites = yield* Effect.flatMap(InviteStore, (s) => s.list({}))
  const seq = yield* lastSeq
  return JSON.stringify({ users, invites, seq })
})

const mintRegistration = (admin: Principal, handle: Handle = uniqueHandle(), ttl_seconds?: number) =>
  mintInvite(admin, { kind: "registration", handle, ...(ttl_seconds !== undefined ? { ttl_seconds } : {}) })

export const storeContract = <E>(name: string, store: Layer.Layer<StorePorts, E>) =>
  layer(withAdmin(store), { timeout: "120 seconds" })(`${name} store contract`, (it) => {
    describe("bootstrap and authentication", () => {
      it.effect("bootstrap on a store with users changes nothing", () =>
        Effect.gen(function*() {
          const before = yield* stateOf
          const result = yield* Effect.either(bootstrapAdmin({ handle: "second" as Handle, apiKey: Option.none() }))
          expect(Either.isLeft(result) && result.left._tag).toBe("AlreadyBootstrapped")
          expect(yield* stateOf).toBe(before)
        }))

      it.effect("the bootstrap key authenticates as a system admin", () =>
        Effect.gen(function*() {
          const { apiKey, principal } = yield* Admin
          const again = yield* authenticate(apiKey)
          expect(again.user.id).toBe(principal.user.id)
          expect(again.user.role).toBe("admin")
        }))

      it.effect("a malformed or unknown key is unauthenticated", () =>
        Effect.gen(function*() {
          const { apiKey } = yield* Admin
          const flipped = Redacted.value(apiKey).slice(0, -1) + (Redacted.value(apiKey).endsWith("0") ? "1" : "0")
          const bad = yield* Effect.flip(authenticate(Redacted.make(flipped)))
          expect(bad._tag).toBe("Unauthenticated")
          expect(bad.message).toContain("malformed")
        }))
    })

    describe("registration", () => {
      it.effect("creates the user, their personal workspace and a working API key", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const handle = uniqueHandle("reg")
          const { invite, token } = yield* mintRegistration(admin, handle)
          const keys = publicKeys()
          const seq = yield* lastSeq
          const result = yield* register({ token, ...keys })
          expect(result.user.handle).toBe(handle)
          expect(result.user.role).toBe("member")
          expect(result.user.sign_pub).toBe(keys.signPub)
          expect(result.personalWorkspace.is_personal).toBe(true)
          expect(result.personalWorkspace.members).toEqual([new Member({ user_id: result.user.id, role: "admin" })])
          const stored = yield* Effect.flatMap(WorkspaceStore, (s) => s.findPersonal(result.user.id))
          expect(Option.getOrThrow(stored).id).toBe(result.personalWorkspace.id)
          const me = yield* authenticate(result.apiKey)
          expect(me.user.id).toBe(result.user.id)
          const redeemed = yield* getInvite(admin, invite.id)
          expect(redeemed.status).toBe("redeemed")
          expect(redeemed.redeemed_by).toBe(result.user.id)
          expect(redeemed.redeemed_sign_pub).toBe(keys.signPub)
          expect(redeemed.redeemed_kex_pub).toBe(keys.kexPub)
          expect(yield* typesAfter(seq)).toEqual(["invite.redeemed", "user.created", "workspace.created"])
        }))

      it.effect("an invite is single-use", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const { token } = yield* mintRegistration(admin)
          yield* register({ token, ...publicKeys() })
          const before = yield* stateOf
          const again = yield* Effect.flip(register({ token, ...publicKeys() }))
          expect(again._tag).toBe("InviteAlreadyRedeemed")
          expect(yield* stateOf).toBe(before)
        }))

      it.effect("a key that is already registered is user_exists and leaves the invite pending", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const keys = publicKeys()
          const first = yield* mintRegistration(admin)
          yield* register({ token: first.token, ...keys })
          const second = yield* mintRegistration(admin)
          const before = yield* stateOf
          const refused = yield* Effect.flip(register({ token: second.token, signPub: keys.signPub, kexPub: publicKeys().kexPub }))
          expect(refused._tag).toBe("UserExists")
          expect((yield* getInvite(admin, second.invite.id)).status).toBe("pending")
          expect(yield* stateOf).toBe(before)
          const retried = yield* register({ token: second.token, ...publicKeys() })
          expect(retried.user.handle).toBe(second.invite.handle)
        }))

      it.effect("a handle that got taken after minting is user_exists and leaves the invite pending", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const handle = uniqueHandle("taken")
          const { invite, token } = yield* mintRegistration(admin, handle)
          yield* Transactor.run(Effect.flatMap(UserStore, (users) =>
            users.insert(new User({
              id: "usr_0000000000000000000000000000beef".replace("beef", Math.random().toString(16).slice(2, 6).padEnd(4, "0")) as UserId,
              handle,
              role: "member",
              status: "active",
              sign_pub: null,
              kex_pub: null,
              created_at: "2026-01-01T00:00:00.000Z" as Timestamp,
              revoked_at: null
            }))))
          const refused = yield* Effect.flip(register({ token, ...publicKeys() }))
          expect(refused._tag).toBe("UserExists")
          expect((yield* getInvite(admin, invite.id)).status).toBe("pending")
        }))

      it.effect("expired and canceled invites are refused and change nothing", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const expiring = yield* mintRegistration(admin, uniqueHandle(), 60)
          const canceled = yield* mintRegistration(admin)
          yield* cancelInvite(admin, canceled.invite.id)
          yield* TestClock.adjust("61 seconds")
          const before = yield* stateOf
          expect((yield* Effect.flip(register({ token: expiring.token, ...publicKeys() })))._tag).toBe("InviteExpired")
          expect((yield* Effect.flip(register({ token: canceled.token, ...publicKeys() })))._tag).toBe("InviteCanceled")
          expect(yield* stateOf).toBe(before)
        }))

      it.effect("a token whose checksum fails is invite_not_found and changes nothing", () =>
        Effect.gen(function*() {
          const before = yield* stateOf
          const forged = yield* Effect.flip(register({
            token: Redacted.make("tsi_" + "0".repeat(64) + "00000000"),
            ...publicKeys()
          }))
          expect(forged._tag).toBe("InviteNotFound")
          expect(yield* stateOf).toBe(before)
        }))

      it.effect("a well-formed token that was never minted is invite_not_found", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const { token } = yield* mintRegistration(admin)
          const body = Redacted.value(token).slice(4, 68)
          const other = body.split("").reverse().join("")
          const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)))
          const refused = yield* Effect.flip(register({ token: Redacted.make(formatToken("tsi", fromHex(other))), ...publicKeys() }))
          expect(refused._tag).toBe("InviteNotFound")
        }))

      it.effect("bad public keys are invalid_key and change nothing", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const { token, invite } = yield* mintRegistration(admin)
          const good = publicKeys()
          const before = yield* stateOf
          for (const [signPub, kexPub, field] of [
            [good.signPub.toUpperCase(), good.kexPub, "sign_pub"],
            [good.signPub.slice(2), good.kexPub, "sign_pub"],
            [good.signPub, "00".repeat(32), "kex_pub"],
            [good.signPub, good.kexPub + "00", "kex_pub"]
          ] as const) {
            const refused = yield* Effect.flip(register({ token, signPub, kexPub }))
            expect(refused._tag).toBe("InvalidKey")
            expect(refused._tag === "InvalidKey" && refused.field).toBe(field)
          }
          expect(yield* stateOf).toBe(before)
          expect((yield* getInvite(admin, invite.id)).status).toBe("pending")
        }))
    })

    describe("invites", () => {
      it.effect("cancel is idempotent and a redeemed invite cannot be canceled", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const { invite } = yield* mintRegistration(admin)
          const seq = yield* lastSeq
          expect((yield* cancelInvite(admin, invite.id)).status).toBe("canceled")
          expect((yield* cancelInvite(admin, invite.id)).status).toBe("canceled")
          expect(yield* typesAfter(seq)).toEqual(["invite.canceled"])
          const used = yield* mintRegistration(admin)
          yield* register({ token: used.token, ...publicKeys() })
          expect((yield* Effect.flip(cancelInvite(admin, used.invite.id)))._tag).toBe("Conflict")
        }))

      it.effect("a pending invite holds its handle; an expired one does not", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const handle = uniqueHandle("held")
          yield* mintRegistration(admin, handle, 60)
          expect((yield* Effect.flip(mintRegistration(admin, handle)))._tag).toBe("Conflict")
          yield* TestClock.adjust("2 minutes")
          const fresh = yield* mintRegistration(admin, handle)
          expect(fresh.invite.status).toBe("pending")
        }))

      it.effect("purge-expired records expired invites once and is a dry run by default", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const { invite } = yield* mintRegistration(admin, uniqueHandle(), 60)
          yield* TestClock.adjust("10 minutes")
          const before = yield* stateOf
          const dry = yield* purgeExpiredInvites(SystemActor, { apply: false })
          expect(dry.invites.map((i) => i.id)).toContain(invite.id)
          expect(yield* stateOf).toBe(before)
          const seq = yield* lastSeq
          const applied = yield* purgeExpiredInvites(SystemActor, { apply: true })
          expect(applied.invites.map((i) => i.id)).toContain(invite.id)
          expect(Option.getOrThrow(yield* Effect.flatMap(InviteStore, (s) => s.findById(invite.id))).status).toBe("expired")
          expect((yield* typesAfter(seq)).every((t) => t === "invite.expired")).toBe(true)
          const second = yield* purgeExpiredInvites(SystemActor, { apply: true })
          expect(second.invites).toEqual([])
          expect((yield* listInvites(admin, { status: "expired" })).map((i) => i.id)).toContain(invite.id)
        }))

      it.effect("a workspace grant invite makes its redeemer a member, once", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const team = new Workspace({
            id: yield* newWorkspaceId,
            name: "team",
            about: "",
            custom_instructions: "",
            bundles: [],
            is_personal: false,
            owner_user_id: null,
            members: [new Member({ user_id: admin.user.id, role: "admin" })],
            created_at: "2026-01-01T00:00:00.000Z" as Timestamp,
            updated_at: "2026-01-01T00:00:00.000Z" as Timestamp
          })
          expect(yield* Transactor.run(Effect.flatMap(WorkspaceStore, (s) => s.insert(team)))).toBe(true)
          const { token } = yield* mintInvite(admin, { kind: "grant", workspace_id: team.id, workspace_role: "member" })
          const member = yield* Effect.flatMap(
            mintRegistration(admin),
            ({ token }) => register({ token, ...publicKeys() })
          )
          const principal = yield* authenticate(member.apiKey)
          const wrongKind = yield* Effect.flip(register({ token, ...publicKeys() }))
          expect(wrongKind._tag).toBe("WrongInviteKind")
          const seq = yield* lastSeq
          const redeemed = yield* redeemInvite(principal, token)
          expect(redeemed.status).toBe("redeemed")
          const stored = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(team.id)))
          expect(stored.members.filter((m) => m.user_id === member.user.id)).toEqual([
            new Member({ user_id: member.user.id, role: "member" })
          ])
          expect(yield* typesAfter(seq)).toEqual(["invite.redeemed", "workspace.member_added"])
          expect((yield* Effect.flip(redeemInvite(principal, token)))._tag).toBe("InviteAlreadyRedeemed")
          const personal = member.personalWorkspace.id
          const toPersonal = yield* Effect.flip(mintInvite(admin, { kind: "grant", workspace_id: personal, workspace_role: "member" }))
          expect(toPersonal._tag).toBe("PersonalWorkspaceInvariantError")
        }))

      it.effect("a workspace grant refused when its member is already there or its minter lost the role grants nothing and stays pending", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const person = () =>
            Effect.flatMap(Effect.flatMap(mintRegistration(admin), ({ token }) => register({ token, ...publicKeys() })), (r) => authenticate(r.apiKey))
          // a minter who is the team's admin, not a system admin: their authority is their role in the team
          const minter = yield* person()
          const team = yield* createWorkspace(minter, { name: "grants refused" })
          const invitee = yield* person()
          const grant = () => mintInvite(minter, { kind: "grant", workspace_id: team.id, workspace_role: "member" })
          yield* redeemInvite(invitee, (yield* grant()).token)
          const membersOf = Effect.map(Effect.flatMap(WorkspaceStore, (s) => s.findById(team.id)), (w) => Option.getOrThrow(w).members)
          const pendingAfter = (id: Invite["id"]) => Effect.map(getInvite(admin, id), (i) => i.status)

          // already a member: refused, nothing written, the invite still pending
          const again = yield* grant()
          const members = yield* membersOf
          const seq = yield* lastSeq
          expect((yield* Effect.flip(redeemInvite(invitee, again.token)))._tag).toBe("AlreadyMember")
          expect(yield* membersOf).toEqual(members)
          expect(yield* typesAfter(seq)).toEqual([])
          expect(yield* pendingAfter(again.invite.id)).toBe("pending")

          // the minter no longer the team's admin: canceled, the newcomer not a member, the invite still pending
          const late = yield* grant()
          yield* setMemberRole(minter, team.id, invitee.user.id, "admin")
          yield* setMemberRole(invitee, team.id, minter.user.id, "member")
          const newcomer = yield* person()
          const before = yield* membersOf
          const demotedSeq = yield* lastSeq
          const refused = yield* Effect.flip(redeemInvite(newcomer, late.token))
          expect([refused._tag, "reason" in refused ? refused.reason : null]).toEqual(["InviteCanceled", "minter_lost_authority"])
          expect(yield* membersOf).toEqual(before)
          expect(yield* typesAfter(demotedSeq)).toEqual([])
          expect(yield* pendingAfter(late.invite.id)).toBe("pending")
          expect((yield* membersOf).some((m) => m.user_id === newcomer.user.id)).toBe(false)
        }))
    })

    describe("users", () => {
      it.effect("a revoked user's key stops authenticating at once", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const { token } = yield* mintRegistration(admin)
          const { user, apiKey } = yield* register({ token, ...publicKeys() })
          yield* authenticate(apiKey)
          const seq = yield* lastSeq
          const revoked = yield* revokeUser(admin, user.id)
          expect(revoked.status).toBe("revoked")
          expect((yield* Effect.flip(authenticate(apiKey)))._tag).toBe("Unauthenticated")
          expect(yield* typesAfter(seq)).toEqual(["user.revoked"])
          yield* revokeUser(admin, user.id)
          expect(yield* typesAfter(seq)).toEqual(["user.revoked"])
        }))

      it.effect("the last active system admin can be neither revoked nor deleted", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const before = yield* stateOf
          expect((yield* Effect.flip(revokeUser(admin, admin.user.id)))._tag).toBe("LastSystemAdmin")
          expect((yield* Effect.flip(deleteUser(admin, admin.user.id, Option.none())))._tag).toBe("LastSystemAdmin")
          expect(yield* stateOf).toBe(before)
        }))

      it.effect("delete removes the user, their keys, personal workspace and minted invites", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const other = yield* mintRegistration(admin)
          const { user, apiKey, personalWorkspace } = yield* mintInvite(admin, {
            kind: "registration",
            handle: uniqueHandle("deputy"),
            role: "admin"
          }).pipe(Effect.flatMap(({ token }) => register({ token, ...publicKeys() })))
          const deputy = yield* authenticate(apiKey)
          const minted = yield* mintRegistration(deputy)
          const seq = yield* lastSeq
          const report = yield* deleteUser(admin, user.id, Option.none())
          expect(report).toEqual({
            user_id: user.id,
            personal_workspaces_deleted: 1,
            memberships_removed: 0,
            accesses_removed: 0,
            api_keys_deleted: 1,
            invites_canceled: 1
          })
          expect(yield* typesAfter(seq)).toEqual(["user.deleted"])
          expect((yield* Effect.flip(authenticate(apiKey)))._tag).toBe("Unauthenticated")
          expect(Option.isNone(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(personalWorkspace.id)))).toBe(true)
          expect((yield* getInvite(admin, minted.invite.id)).status).toBe("canceled")
          expect((yield* Effect.flip(register({ token: minted.token, ...publicKeys() })))._tag).toBe("InviteCanceled")
          // invites minted by others are untouched
          expect((yield* getInvite(admin, other.invite.id)).status).toBe("pending")
        }))
    })

    describe("events", () => {
      it.effect("events page by seq and never carry a secret", () =>
        Effect.gen(function*() {
          const { principal: admin, apiKey } = yield* Admin
          const { token } = yield* mintRegistration(admin)
          const registered = yield* register({ token, ...publicKeys() })
          const all = yield* eventsAfter(0)
          const seqs = all.map((e) => e.seq)
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
          expect(new Set(seqs).size).toBe(seqs.length)
          const text = JSON.stringify(all)
          for (const secret of [token, registered.apiKey, apiKey]) {
            expect(text).not.toContain(Redacted.value(secret))
            expect(text).not.toContain(Redacted.value(secret).slice(4, 40))
          }
          const first = yield* listEvents(SystemActor, { after: 0, limit: 2 })
          expect(first.events.length).toBe(2)
          const next = yield* listEvents(SystemActor, { after: first.nextAfter, limit: 2 })
          expect(next.events[0]!.seq).toBeGreaterThan(first.nextAfter)
        }))
    })

    describe("invariants (property)", () => {
      // Random interleavings of mint / cancel / register / redeem-again /
      // clock moves / purge: every outcome must agree with a model of the
      // invite state machine, and no invite is ever redeemed twice.
      const Op = fc.oneof(
        fc.record({ op: fc.constant("mint" as const), ttl: fc.integer({ min: 60, max: 600 }) }),
        fc.record({ op: fc.constant("cancel" as const), i: fc.nat(20) }),
        fc.record({ op: fc.constant("register" as const), i: fc.nat(20) }),
        fc.record({ op: fc.constant("advance" as const), seconds: fc.integer({ min: 1, max: 400 }) }),
        fc.record({ op: fc.constant("purge" as const) })
      )
      it.effect.prop("invite outcomes follow the state machine", [fc.array(Op, { minLength: 1, maxLength: 25 })], ([ops]) =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const minted: Array<{ id: string; token: Redacted.Redacted<string>; expiresAt: number; state: string }> = []
          let clock = 0
          for (const op of ops) {
            clock = yield* Effect.clockWith((c) => c.currentTimeMillis)
            const model = (m: (typeof minted)[number]) =>
              m.state === "pending" && m.expiresAt <= clock ? "expired" : m.state
            if (op.op === "mint") {
              const { invite, token } = yield* mintRegistration(admin, uniqueHandle("p"), op.ttl)
              minted.push({ id: invite.id, token, expiresAt: Date.parse(invite.expires_at), state: "pending" })
            } else if (op.op === "advance") {
              yield* TestClock.adjust(`${op.seconds} seconds`)
            } else if (op.op === "purge") {
              yield* purgeExpiredInvites(SystemActor, { apply: true })
              for (const m of minted) if (model(m) === "expired") m.state = "expired"
            } else {
              const m = minted[op.i % Math.max(minted.length, 1)]
              if (m === undefined) continue
              const expected = model(m)
              if (op.op === "cancel") {
                const result = yield* Effect.either(cancelInvite(admin, m.id as never))
                if (expected === "redeemed") expect(Either.isLeft(result)).toBe(true)
                else expect(Either.isRight(result)).toBe(true)
                if (expected === "pending") m.state = "canceled"
              } else {
                const result = yield* Effect.either(register({ token: m.token, ...publicKeys() }))
                const tag = Either.isLeft(result) ? result.left._tag : "ok"
                expect(tag).toBe({
                  pending: "ok",
                  redeemed: "InviteAlreadyRedeemed",
                  canceled: "InviteCanceled",
                  expired: "InviteExpired"
                }[expected])
                if (expected === "pending") m.state = "redeemed"
              }
            }
            clock = yield* Effect.clockWith((c) => c.currentTimeMillis)
            for (const m of minted) {
              expect((yield* getInvite(admin, m.id as never)).status).toBe(model(m))
            }
          }
          // one registration invite per registered user
          const redeemedBy = (yield* Effect.flatMap(InviteStore, (s) => s.list({ storedStatuses: ["redeemed"] })))
            .filter((i) => i.kind === "registration")
            .map((i) => i.redeemed_by)
          expect(new Set(redeemedBy).size).toBe(redeemedBy.length)
        }), { fastCheck: { numRuns: 15 } })
    })
  })
