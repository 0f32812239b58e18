// A workspace grant's redemption in one synchronous call on the SQLite file store (store-sql grants.ts,
// `FastGrantRedemption`): it commits the plain success and nothing else, and `redeemInvite` answers and writes exactly
// what the general path does, case by case — the caller revoked or deleted, the minter demoted or revoked or a
// system admin, the invite canceled or already redeemed, the caller already a member. The general path is forced by
// observing statements (`meterStatements`), which the fast path never runs under.
import { describe, expect, layer } from "@effect/vitest"
import {
  Admin,
  withAdmin
} from "@tessera/store-contract"
import { lastSeq, person } from "@tessera/store-contract/fixtures"
import {
  cancelInvite,
  createWorkspace,
  deleteUser,
  EventLog,
  FastGrantRedemption,
  getInvite,
  type Invite,
  mintInvite,
  plainWorkspaceGrant,
  type Principal,
  redeemInvite,
  revokeUser,
  setMemberRole,
  timestampOf,
  tokenDigest,
  parseInviteToken,
  WorkspaceStore
} from "@tessera/domain"
import { migrateUp } from "@tessera/store-sql"
import { meterStatements } from "@tessera/store-sql/meter"
import { off } from "@tessera/store-contract/direct"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Clock, Context, Effect, Either, FastCheck as fc, Layer, Option, type Redacted } from "effect"
import { dialect, layer as sqliteLayer, migrations } from "../src/index.js"

/** How the store's fast path answered `redeemInvite`: committed (`some`) or handed back (`none`). */
const answers = { some: 0, none: 0 }

const store = withAdmin(
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
    Layer.provideMerge(sqliteLayer(join(mkdtempSync(join(tmpdir(), "tessera-fast-grants-")), "tessera.db"))),
    // the store provides it beside its ports (not in the layer's type): counted where it is
    Layer.map((context) => {
      const fast = Context.unsafeGet(context as unknown as Context.Context<FastGrantRedemption>, FastGrantRedemption)
      return Context.add(context, FastGrantRedemption, {
        redeemWorkspaceGrant: (...args) =>
          Effect.tap(fast.redeemWorkspaceGrant(...args), (answer) => Effect.sync(() => void answers[Option.isSome(answer) ? "some" : "none"]++))
      }) as unknown as typeof context
    }),
    Layer.orDie
  )
)

interface Case {
  readonly caller: "active" | "revoked" | "deleted"
  readonly minter: "team admin" | "demoted" | "revoked" | "system admin"
  readonly invite: "pending" | "canceled" | "redeemed"
  readonly alreadyMember: boolean
}

const cases: fc.Arbitrary<Case> = fc.record({
  caller: fc.constantFrom("active", "revoked", "deleted"),
  minter: fc.constantFrom("team admin", "demoted", "revoked", "system admin"),
  invite: fc.constantFrom("pending", "canceled", "redeemed"),
  alreadyMember: fc.boolean()
})

/** A fresh team, a caller and a grant invite into it, brought into `c`'s state through the use cases. */
const scene = (c: Case) =>
  Effect.gen(function*() {
    const { principal: admin } = yield* Admin
    const minter = yield* person(admin)
    const team = yield* createWorkspace(minter.principal, { name: "fast grants" })
    const caller = yield* person(admin)
    const grant = (by: Principal) => mintInvite(by, { kind: "grant", workspace_id: team.id, workspace_role: "member" })
    if (c.alreadyMember) yield* redeemInvite(caller.principal, (yield* grant(minter.principal)).token)
    const minted = yield* grant(c.minter === "system admin" ? admin : minter.principal)
    if (c.invite === "canceled") yield* cancelInvite(admin, minted.invite.id)
    if (c.invite === "redeemed") yield* redeemInvite((yield* person(admin)).principal, minted.token)
    if (c.minter === "demoted") {
      // another admin first: a team keeps one
      const second = yield* person(admin)
      yield* redeemInvite(second.principal, (yield* grant(minter.principal)).token)
      yield* setMemberRole(minter.principal, team.id, second.id, "admin")
      yield* setMemberRole(second.principal, team.id, minter.id, "member")
    }
    if (c.minter === "revoked") yield* revokeUser(admin, minter.id)
    if (c.caller === "revoked") yield* revokeUser(admin, caller.id)
    if (c.caller === "deleted") yield* deleteUser(admin, caller.id, Option.none())
    return { caller, team: team.id, minted }
  })

/** The case where every rule holds: the redemption succeeds. */
const plainCase = (c: Case) => c.caller === "active" && c.minter !== "demoted" && c.minter !== "revoked" && c.invite === "pending" && !c.alreadyMember

type Scene = Effect.Effect.Success<ReturnType<typeof scene>>

/** What a redemption answered and changed: its outcome, the caller's membership, the invite's state, the events (ids named). */
const outcomeOf = (redeem: Effect.Effect<unknown, { readonly _tag: string }, any>, s: Scene) =>
  Effect.gen(function*() {
    const { principal: admin } = yield* Admin
    const seq = yield* lastSeq
    const answer = yield* Effect.either(redeem)
    const members = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (w) => w.findById(s.team))).members
    const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: seq, limit: 100 }))
    const named = (text: string) =>
      text.replaceAll(s.caller.id, "<caller>").replaceAll(s.team, "<team>").replaceAll(s.minted.invite.id, "<invite>")
    return {
      answer: Either.isRight(answer)
        ? (({ kind, redeemed_by, status, workspace_id, workspace_role }: Invite) =>
          named(JSON.stringify({ kind, redeemed_by, status, workspace_id, workspace_role })))(answer.right as Invite)
        : `${answer.left._tag}${"reason" in answer.left ? `(${String(answer.left.reason)})` : ""}`,
      role: members.find((m) => m.user_id === s.caller.id)?.role ?? null,
      invite: (yield* getInvite(admin, s.minted.invite.id)).status,
      events: events.map((e) => named(JSON.stringify([e.type, e.actor, e.workspace_id, e.resource_id, e.data])))
    }
  })

layer(store, { timeout: "300 seconds" })("sqlite: a workspace grant redeemed in one call", (it) => {
  describe("FastGrantRedemption", () => {
    it.effect("commits the plain success, and for anything else writes nothing and answers None", () =>
      Effect.gen(function*() {
        const fast = Option.getOrThrow(yield* Effect.serviceOption(FastGrantRedemption))
        const attempt = (by: string, token: Redacted.Redacted<string>) =>
          Effect.gen(function*() {
            const digest = yield* tokenDigest(yield* parseInviteToken(token))
            const millis = yield* Clock.currentTimeMillis
            const at = timestampOf(millis)
            return yield* fast.redeemWorkspaceGrant(by as never, digest, { at, by: by as never, signPub: null, kexPub: null }, (facts) =>
              plainWorkspaceGrant(facts, by as never, at, millis))
          }).pipe(off)
        const plain = yield* scene({ caller: "active", minter: "team admin", invite: "pending", alreadyMember: false })
        const seq = yield* lastSeq
        const done = yield* attempt(plain.caller.id, plain.minted.token)
        expect(Option.map(done, (i) => i.status)).toEqual(Option.some("redeemed"))
        expect((yield* Effect.flatMap(EventLog, (log) => log.list({ after: seq, limit: 10 }))).map((e) => e.type))
          .toEqual(["invite.redeemed", "workspace.member_added"])
        // the same invite again: the claim does not apply; nothing written
        const again = yield* lastSeq
        expect(yield* attempt(plain.caller.id, plain.minted.token)).toEqual(Option.none())
        expect(yield* lastSeq).toBe(again)
        // a demoted minter: every statement runs, the member is inserted, the rule refuses, all of it rolled back
        const demoted = yield* scene({ caller: "active", minter: "demoted", invite: "pending", alreadyMember: false })
        const before = yield* lastSeq
        expect(yield* attempt(demoted.caller.id, demoted.minted.token)).toEqual(Option.none())
        expect(yield* lastSeq).toBe(before)
        const { principal: admin } = yield* Admin
        expect((yield* getInvite(admin, demoted.minted.invite.id)).status).toBe("pending")
        const members = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (w) => w.findById(demoted.team))).members
        expect(members.some((m) => m.user_id === demoted.caller.id)).toBe(false)
      }))

    it.effect("is taken only with the tracer off and statements unobserved: otherwise the general path runs them", () =>
      Effect.gen(function*() {
        const plain = () => scene({ caller: "active", minter: "team admin", invite: "pending", alreadyMember: false })
        const observed = yield* plain()
        const before = { ...answers }
        expect((yield* off(meterStatements(redeemInvite(observed.caller.principal, observed.minted.token)))).counts.statements).toBeGreaterThan(3)
        const traced = yield* plain()
        yield* Effect.withTracerEnabled(redeemInvite(traced.caller.principal, traced.minted.token), true)
        expect(answers).toEqual({ some: before.some, none: before.none + 2 })
        const fast = yield* plain()
        expect((yield* off(redeemInvite(fast.caller.principal, fast.minted.token))).status).toBe("redeemed")
        expect(answers).toEqual({ some: before.some + 1, none: before.none + 2 })
      }))
  })

  describe("redeemInvite, with it and without it", () => {
    it.effect("the same answer and the same writes in every case (property)", () =>
      Effect.gen(function*() {
        const context = yield* Effect.context<any>()
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(cases, async (c) => {
              const { some } = answers
              const [fast, general] = await Effect.runPromise(Effect.provide(
                Effect.gen(function*() {
                  const a = yield* scene(c)
                  const b = yield* scene(c)
                  return [
                    yield* outcomeOf(off(redeemInvite(a.caller.principal, a.minted.token)), a),
                    yield* outcomeOf(off(Effect.map(meterStatements(redeemInvite(b.caller.principal, b.minted.token)), (r) => r.result)), b)
                  ] as const
                }),
                context
              ))
              expect(fast).toEqual(general)
              // the plain success, and only it, committed in one call
              expect(answers.some - some).toBe(plainCase(c) ? 1 : 0)
            }),
            { numRuns: 30 }
          )
        )
      }))
  })
})
