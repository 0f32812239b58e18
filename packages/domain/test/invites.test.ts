// Invite rules (docs/domain.md#invites): fail-closed expiry, the redeem/cancel state machine, and which terms can be minted.
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import {
  cancelOutcome,
  checkRedeemable,
  grantProblem,
  Invite,
  InviteKind,
  inviteState,
  type InviteStatus,
  InviteTerms,
  MAX_TTL_SECONDS,
  MIN_TTL_SECONDS,
  timestampOf,
  withEffectiveState
} from "../src/index.js"

const instant = fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) })
const readableExpiry = instant.map(timestampOf)
const unreadableExpiry = fc.oneof(
  fc.string().filter((s) => !/^\d{4}-\d{2}-\d{2}T/.test(s)),
  fc.constantFrom(
    "",
    "never",
    "1767225600000",
    "2026-13-01T00:00:00.000Z",
    "2026-01-32T00:00:00.000Z",
    "2026-01-01T23:60:00.000Z",
    "2026-01-01T23:59:60.000Z",
    "2026-01-01 00:00:00.000Z",
    "2026-01-01T00:00:00.000z",
    "2026-01-01T00:00:00.000+01:00",
    " 2026-01-01T00:00:00.000Z"
  )
)
const anyExpiry = fc.oneof(readableExpiry, unreadableExpiry)
const invite = (status: fc.Arbitrary<InviteStatus>, expiry: fc.Arbitrary<string>) =>
  fc.tuple(Arbitrary.make(Invite), status, expiry).map(([base, s, expires_at]) =>
    new Invite({ ...base, status: s, expires_at })
  )
const anyStatus = fc.constantFrom<InviteStatus>("pending", "redeemed", "canceled", "expired")
const settled = fc.constantFrom<InviteStatus>("redeemed", "canceled", "expired")
const kind = Arbitrary.make(InviteKind)

describe("inviteState", () => {
  it.prop("a pending invite whose expiry cannot be read is expired, whatever the time", [
    invite(fc.constant("pending"), unreadableExpiry),
    fc.integer()
  ], ([inv, now]) => {
    expect(inviteState(inv, now)).toBe("expired")
  })

  it.prop("a pending invite is expired exactly when its expiry is at or before now", [
    invite(fc.constant("pending"), readableExpiry),
    fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -1e12, max: 1e12 }))
  ], ([inv, delta]) => {
    const now = Date.parse(inv.expires_at) + delta
    expect(inviteState(inv, now)).toBe(delta >= 0 ? "expired" : "pending")
  })

  it.prop("a settled invite keeps its stored state", [invite(settled, anyExpiry), instant], ([inv, now]) => {
    expect(inviteState(inv, now)).toBe(inv.status)
  })

  // Date.parse rolls impossible dates forward (Feb 30 → Mar 2), which would keep such an invite alive.
  it("an expiry on an impossible calendar date is expired", () => {
    const now = Date.UTC(2026, 0, 1)
    for (const expires_at of ["2026-02-30T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "2026-01-01T24:00:00.000Z"]) {
      expect(inviteState({ status: "pending", expires_at }, now)).toBe("expired")
    }
  })

  it.prop("withEffectiveState replaces only the status", [invite(anyStatus, anyExpiry), instant], ([inv, now]) => {
    const effective = withEffectiveState(inv, now)
    expect(effective.status).toBe(inviteState(inv, now))
    expect({ ...effective, status: inv.status }).toEqual({ ...inv })
  })
})

describe("checkRedeemable and cancelOutcome", () => {
  it.prop("redeeming is refused exactly as the invite's state says", [invite(anyStatus, anyExpiry), kind, instant], ([inv, asKind, now]) => {
    const state = inviteState(inv, now)
    const result = checkRedeemable(inv, asKind, now)
    if (state === "pending" && inv.kind === asKind) {
      expect(result).toEqual(Either.right(inv))
      return
    }
    const refusal = Either.getOrThrow(Either.flip(result))
    expect(refusal._tag).toBe({
      pending: "WrongInviteKind",
      redeemed: "InviteAlreadyRedeemed",
      canceled: "InviteCanceled",
      expired: "InviteExpired"
    }[state])
    expect(refusal.inviteId).toBe(inv.id)
    if (refusal._tag === "WrongInviteKind") expect(refusal.expected).toBe(asKind)
  })

  it.prop("cancel cancels pending, leaves canceled/expired, refuses redeemed", [invite(anyStatus, anyExpiry), instant], ([inv, now]) => {
    expect(cancelOutcome(inv, now)).toBe({
      pending: "cancel",
      redeemed: "refuse",
      canceled: "unchanged",
      expired: "unchanged"
    }[inviteState(inv, now)])
  })
})

const WS = `ws_${"a".repeat(32)}`
const RES = `res_${"b".repeat(32)}`
const decodes = (terms: unknown) => Either.isRight(Schema.decodeUnknownEither(InviteTerms)(terms))

describe("InviteTerms and grantProblem", () => {
  it("a registration needs a valid handle; role and grant are optional", () => {
    expect(decodes({ kind: "registration", handle: "alice" })).toBe(true)
    expect(decodes({ kind: "registration", handle: "alice", role: "admin" })).toBe(true)
    expect(decodes({ kind: "registration", handle: "alice", workspace_id: WS, workspace_role: "member" })).toBe(true)
    for (const handle of [undefined, "", "a", "Alice", "-alice", "a".repeat(33), "al ice"]) {
      expect(decodes({ kind: "registration", handle })).toBe(false)
    }
  })

  it("a grant names exactly one target with its role", () => {
    expect(decodes({ kind: "grant", workspace_id: WS, workspace_role: "admin" })).toBe(true)
    expect(decodes({ kind: "grant", resource_id: RES, resource_role: "editor" })).toBe(true)
    expect(decodes({ kind: "grant" })).toBe(false)
    expect(decodes({ kind: "grant", ttl_seconds: 3600 })).toBe(false)
    expect(decodes({ kind: "grant", workspace_id: WS, workspace_role: "admin", resource_id: RES, resource_role: "reader" })).toBe(false)
    expect(decodes({ kind: "registration", handle: "alice", workspace_id: WS, workspace_role: "member", resource_id: RES, resource_role: "reader" })).toBe(false)
    expect(decodes({ kind: "grant", workspace_id: "ws_nothex", workspace_role: "admin" })).toBe(false)
  })

  it("unknown kinds and roles are refused", () => {
    expect(decodes({ kind: "admin", handle: "alice" })).toBe(false)
    for (const role of ["owner", "root", "Admin"]) expect(decodes({ kind: "registration", handle: "alice", role })).toBe(false)
    for (const workspace_role of ["owner", "editor"]) expect(decodes({ kind: "grant", workspace_id: WS, workspace_role })).toBe(false)
    for (const resource_role of ["admin", "member", "root"]) expect(decodes({ kind: "grant", resource_id: RES, resource_role })).toBe(false)
  })

  it.prop("ttl_seconds is an integer from 60 s to 30 days", [
    fc.oneof(
      fc.integer({ min: -100, max: MAX_TTL_SECONDS + 100 }),
      fc.constantFrom(59, 60, 2_592_000, 2_592_001, 60.5),
      fc.double()
    )
  ], ([ttl_seconds]) => {
    const ok = Number.isInteger(ttl_seconds) && ttl_seconds >= 60 && ttl_seconds <= 2_592_000
    expect(decodes({ kind: "grant", workspace_id: WS, workspace_role: "member", ttl_seconds })).toBe(ok)
    expect(decodes({ kind: "registration", handle: "alice", ttl_seconds })).toBe(ok)
  })

  it("the ttl bounds are 60 s and 30 days", () => {
    expect([MIN_TTL_SECONDS, MAX_TTL_SECONDS]).toEqual([60, 30 * 24 * 3600])
  })

  it.prop("a grant is a whole workspace grant, a whole resource grant, or (when optional) nothing", [
    fc.record({ wsId: fc.boolean(), wsRole: fc.boolean(), resId: fc.boolean(), resRole: fc.boolean() })
  ], ([has]) => {
    const terms = {
      ...(has.wsId ? { workspace_id: WS } : {}),
      ...(has.wsRole ? { workspace_role: "member" } : {}),
      ...(has.resId ? { resource_id: RES } : {}),
      ...(has.resRole ? { resource_role: "reader" } : {})
    }
    const none = !has.wsId && !has.wsRole && !has.resId && !has.resRole
    const whole = (has.wsId && has.wsRole && !has.resId && !has.resRole) ||
      (has.resId && has.resRole && !has.wsId && !has.wsRole)
    expect(grantProblem(terms, true) === undefined).toBe(whole)
    expect(grantProblem(terms, false) === undefined).toBe(whole || none)
    expect(decodes({ kind: "grant", ...terms })).toBe(whole)
    expect(decodes({ kind: "registration", handle: "alice", ...terms })).toBe(whole || none)
  })
})
