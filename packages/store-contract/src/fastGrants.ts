/**
 * What a store's one-call redemption of a workspace grant must do
 * (`FastGrantRedemption`, store-sql grants.ts), checked on each store that
 * has one: it commits the plain success and nothing else, is taken only
 * where nothing observes statements, and `redeemInvite` answers and writes
 * exactly what the general path does, case by case — the caller revoked or
 * deleted, the minter demoted or revoked or a system admin, the invite
 * canceled or already redeemed, the caller already a member. The general
 * path is forced by observing statements (`meterStatements`), which the
 * one-call path never runs under.
 */
import { describe, expect, layer, type Vitest } from "@effect/vitest"
import {
  cancelInvite,
  createWorkspace,
  deleteUser,
  EventLog,
  FastGrantRedemption,
  getInvite,
  type Invite,
  mintInvite,
  parseInviteToken,
  plainWorkspaceGrant,
  type Principal,
  redeemInvite,
  revokeUser,
  setMemberRole,
  tokenDigest,
  type UserId,
  WorkspaceStore
} from "@tessera/domain"
import { Effect, Either, Layer, Option, type Redacted } from "effect"
import { off } from "./direct.js"
import { lastSeq, person } from "./fixtures.js"
import { Admin, type StorePorts } from "./index.js"

export { watchingFastGrants } from "./watchingFastGrants.js"

/** How the store's one-call path answered `redeemInvite`: committed (`some`) or handed back (`none`); fed by `watchingFastGrants`. */
export interface FastAnswers {
  some: number
  none: number
}

export interface Case {
  readonly caller: "active" | "revoked" | "deleted"
  readonly minter: "team admin" | "demoted" | "revoked" | "system admin"
  readonly invite: "pending" | "canceled" | "redeemed"
  readonly alreadyMember: boolean
}

/** Every combination: 3 callers × 4 minters × 3 invites × member or not. */
export const everyCase: ReadonlyArray<Case> = (["active", "revoked", "deleted"] as const).flatMap((caller) =>
  (["team admin", "demoted", "revoked", "system admin"] as const).flatMap((minter) =>
    (["pending", "canceled", "redeemed"] as const).flatMap((invite) => [false, true].map((alreadyMember) => ({ caller, minter, invite, alreadyMember })))
  )
)

/** A fresh team, a caller and a grant invite into it, brought into `c`'s state through the use cases. */
export const scene = (c: Case) =>
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

/**
 * `count` callers, each with a grant invite of their own into one new team: `redeemAll` redeems them all at once
 * (the one-call path allowed), each outcome in order; `strangers` is those not members afterwards.
 */
export const grantsAtOnce = (count: number) =>
  Effect.gen(function*() {
    const { principal: admin } = yield* Admin
    const minter = yield* person(admin)
    const team = yield* createWorkspace(minter.principal, { name: "grouped" })
    const callers = yield* Effect.all(Array.from({ length: count }, () => person(admin)))
    const tokens = yield* Effect.forEach(callers, () =>
      Effect.map(mintInvite(minter.principal, { kind: "grant", workspace_id: team.id, workspace_role: "member" }), (m) => m.token))
    const redeemAll = Effect.forEach(callers, (c, i) => Effect.either(off(redeemInvite(c.principal, tokens[i]!))), {
      concurrency: "unbounded"
    })
    const strangers = Effect.map(
      Effect.flatMap(WorkspaceStore, (w) => w.findById(team.id)),
      (w) => callers.filter((c) => !Option.getOrThrow(w).members.some((m) => m.user_id === c.id))
    )
    return { minter, team: team.id, redeemAll, strangers }
  })

/** The case where every rule holds: the redemption succeeds. */
export const plainCase = (c: Case) => c.caller === "active" && c.minter !== "demoted" && c.minter !== "revoked" && c.invite === "pending" && !c.alreadyMember

export type Scene = Effect.Effect.Success<ReturnType<typeof scene>>

/** What a redemption answered and changed: its outcome, the caller's membership, the invite's state, the events (ids named). */
export const outcomeOf = (redeem: Effect.Effect<unknown, { readonly _tag: string }, any>, s: Scene) =>
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

/**
 * The contract on one store: `store` provides the ports with the store's one-call path watched by
 * `watchingFastGrants`, which counts into `answers`; `meterStatements` is the store's statement meter (store-sql's,
 * passed in so this package stays free of it); `more` adds the store's own cases in the same block.
 */
export const fastGrantContract = <E, R = never>(
  name: string,
  store: Layer.Layer<StorePorts | Admin | R, E>,
  answers: FastAnswers,
  meterStatements: <A, E1, R1>(effect: Effect.Effect<A, E1, R1>) => Effect.Effect<{ readonly result: A; readonly counts: { readonly statements: number } }, E1, R1>,
  more: (it: Vitest.MethodsNonLive<StorePorts | Admin | R>) => void = () => {}
) =>
  layer(store, { timeout: "300 seconds" })(name, (it) => {
  describe("FastGrantRedemption", () => {
    it.effect("commits the plain success, and for anything else writes nothing and answers None", () =>
      Effect.gen(function*() {
        const fast = Option.getOrThrow(yield* Effect.serviceOption(FastGrantRedemption))
        const attempt = (by: UserId, token: Redacted.Redacted<string>) =>
          Effect.gen(function*() {
            const digest = yield* tokenDigest(yield* parseInviteToken(token))
            return yield* fast.redeemWorkspaceGrant(by, digest, (facts, millis) => plainWorkspaceGrant(facts, by, millis))
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
    it.effect("the same answer and the same writes in every one of the 72 cases", () =>
      Effect.forEach(everyCase, (c) =>
        Effect.gen(function*() {
          const { some } = answers
          const a = yield* scene(c)
          const b = yield* scene(c)
          const fast = yield* outcomeOf(off(redeemInvite(a.caller.principal, a.minted.token)), a)
          const general = yield* outcomeOf(off(Effect.map(meterStatements(redeemInvite(b.caller.principal, b.minted.token)), (r) => r.result)), b)
          expect({ case: c, ...fast }).toEqual({ case: c, ...general })
          // the plain success, and only it, committed in one call
          expect({ case: c, inOneCall: answers.some - some }).toEqual({ case: c, inOneCall: plainCase(c) ? 1 : 0 })
        }), { discard: true }))

    it.effect("the same answers and writes when all 72 are redeemed at once, grouped into shared transactions", () =>
      Effect.gen(function*() {
        const { principal: admin } = yield* Admin
        const fast = yield* Effect.forEach(everyCase, scene)
        const general = yield* Effect.forEach(everyCase, scene)
        const seq = yield* lastSeq
        // at once: the one-call path groups them (a batch with one that is not the plain success is rolled back whole)
        const answered = yield* Effect.forEach(fast, (s) => Effect.either(off(redeemInvite(s.caller.principal, s.minted.token))), {
          concurrency: "unbounded"
        })
        const written = (s: Scene, answer: Either.Either<unknown, { readonly _tag: string }>, after: number) =>
          Effect.gen(function*() {
            const members = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (w) => w.findById(s.team))).members
            const events = (yield* Effect.flatMap(EventLog, (log) => log.list({ after, limit: 10_000 })))
              .filter((e) => e.workspace_id === s.team)
            const named = (text: string) =>
              text.replaceAll(s.caller.id, "<caller>").replaceAll(s.team, "<team>").replaceAll(s.minted.invite.id, "<invite>")
            return {
              answer: Either.isRight(answer) ? named(JSON.stringify((answer.right as Invite).status)) : answer.left._tag,
              role: members.find((m) => m.user_id === s.caller.id)?.role ?? null,
              invite: (yield* getInvite(admin, s.minted.invite.id)).status,
              events: events.map((e) => named(JSON.stringify([e.type, e.actor, e.workspace_id, e.resource_id, e.data])))
            }
          })
        const atOnce = yield* Effect.forEach(fast, (s, i) => written(s, answered[i]!, seq))
        const expected = yield* Effect.forEach(general, (s) =>
          Effect.gen(function*() {
            const before = yield* lastSeq
            const answer = yield* Effect.either(off(Effect.map(meterStatements(redeemInvite(s.caller.principal, s.minted.token)), (r) => r.result)))
            return yield* written(s, answer, before)
          }))
        everyCase.forEach((c, i) => expect({ case: c, ...atOnce[i]! }).toEqual({ case: c, ...expected[i]! }))
      }))
  })
    more(it)
  })
