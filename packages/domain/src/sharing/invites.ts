/**
 * Invites: single-use bearer secrets whose terms are fixed at mint time.
 * The state machine and expiry rule are pure functions of the stored invite
 * and the current time; expiry fails closed (an expiry that cannot be read is
 * expired).
 */
import { Either, Schema } from "effect"
import { Handle, SystemRole } from "../identity/schemas.js"
import { ResourceRole } from "../resources/schemas.js"
import { InviteId, ResourceId, UserId, WorkspaceId } from "../shared/ids.js"
import { parseTimestamp, Timestamp } from "../shared/time.js"
import { WorkspaceRole } from "../workspaces/schemas.js"
import { InviteAlreadyRedeemed, InviteCanceled, InviteExpired, WrongInviteKind } from "./errors.js"

export const InviteKind = Schema.Literal("registration", "grant")
export type InviteKind = typeof InviteKind.Type
export const InviteStatus = Schema.Literal("pending", "redeemed", "canceled", "expired")
export type InviteStatus = typeof InviteStatus.Type

export const DEFAULT_TTL_SECONDS = 7 * 24 * 3600
export const MIN_TTL_SECONDS = 60
export const MAX_TTL_SECONDS = 30 * 24 * 3600

export const TtlSeconds = Schema.Int.pipe(
  Schema.between(MIN_TTL_SECONDS, MAX_TTL_SECONDS, {
    message: () => `ttl_seconds must be an integer from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}`
  })
)

/** A stored invite as callers see it. `status` here is the stored state. */
export class Invite extends Schema.Class<Invite>("Invite")({
  id: InviteId,
  kind: InviteKind,
  status: InviteStatus,
  handle: Schema.NullOr(Handle),
  role: Schema.NullOr(SystemRole),
  workspace_id: Schema.NullOr(WorkspaceId),
  workspace_role: Schema.NullOr(WorkspaceRole),
  resource_id: Schema.NullOr(ResourceId),
  resource_role: Schema.NullOr(ResourceRole),
  // Kept as a plain string: a stored value that does not parse is expired.
  expires_at: Schema.String,
  created_at: Timestamp,
  created_by: Schema.NullOr(UserId),
  redeemed_at: Schema.NullOr(Timestamp),
  redeemed_by: Schema.NullOr(UserId),
  redeemed_sign_pub: Schema.NullOr(Schema.String),
  redeemed_kex_pub: Schema.NullOr(Schema.String),
  canceled_at: Schema.NullOr(Timestamp)
}) {}

/** The state an invite is in at `nowMillis`: a pending invite past (or with an unreadable) expiry is expired. */
export const inviteState = (invite: Pick<Invite, "status" | "expires_at">, nowMillis: number): InviteStatus => {
  if (invite.status !== "pending") return invite.status
  const expires = parseTimestamp(invite.expires_at)
  return expires === undefined || !(expires > nowMillis) ? "expired" : "pending"
}

/** The invite with its stored status replaced by its state at `nowMillis`. */
export const withEffectiveState = (invite: Invite, nowMillis: number): Invite => {
  const status = inviteState(invite, nowMillis)
  return status === invite.status ? invite : new Invite({ ...invite, status })
}

export type RedeemRefusal = InviteAlreadyRedeemed | InviteExpired | InviteCanceled | WrongInviteKind

/** Whether an invite may be redeemed now as the given kind (pure). */
export const checkRedeemable = (
  invite: Invite,
  kind: InviteKind,
  nowMillis: number
): Either.Either<Invite, RedeemRefusal> => {
  switch (inviteState(invite, nowMillis)) {
    case "redeemed":
      return Either.left(new InviteAlreadyRedeemed({ inviteId: invite.id }))
    case "canceled":
      return Either.left(new InviteCanceled({ inviteId: invite.id }))
    case "expired":
      return Either.left(new InviteExpired({ inviteId: invite.id }))
    case "pending":
      return invite.kind === kind
        ? Either.right(invite)
        : Either.left(new WrongInviteKind({ inviteId: invite.id, expected: kind }))
  }
}

/** What cancel does in each state: pending → canceled; canceled and expired stay; redeemed is refused. */
export const cancelOutcome = (invite: Invite, nowMillis: number): "cancel" | "unchanged" | "refuse" => {
  switch (inviteState(invite, nowMillis)) {
    case "pending":
      return "cancel"
    case "redeemed":
      return "refuse"
    default:
      return "unchanged"
  }
}

/** The grant a registration or grant invite may carry, and its TTL. */
export const GrantFields = {
  workspace_id: Schema.optional(WorkspaceId),
  workspace_role: Schema.optional(WorkspaceRole),
  resource_id: Schema.optional(ResourceId),
  resource_role: Schema.optional(ResourceRole),
  ttl_seconds: Schema.optional(TtlSeconds)
}

/** The terms of a registration invite: a fixed handle and system role, with an optional grant. */
export const RegistrationTerms = Schema.Struct({
  kind: Schema.Literal("registration"),
  handle: Handle,
  role: Schema.optional(SystemRole),
  ...GrantFields
})

/** The terms of a grant invite: exactly one workspace membership or resource access. */
export const GrantTerms = Schema.Struct({
  kind: Schema.Literal("grant"),
  ...GrantFields
})

type GrantShape = {
  readonly workspace_id?: unknown
  readonly workspace_role?: unknown
  readonly resource_id?: unknown
  readonly resource_role?: unknown
}

/** A grant names a workspace with its role, or a resource with its role, never both (pure). */
export const grantProblem = (terms: GrantShape, required: boolean): string | undefined => {
  const ws = terms.workspace_id !== undefined || terms.workspace_role !== undefined
  const res = terms.resource_id !== undefined || terms.resource_role !== undefined
  if (ws && res) return "a grant names a workspace or a resource, not both"
  if (ws && (terms.workspace_id === undefined || terms.workspace_role === undefined)) {
    return "a workspace grant needs both workspace_id and workspace_role"
  }
  if (res && (terms.resource_id === undefined || terms.resource_role === undefined)) {
    return "a resource grant needs both resource_id and resource_role"
  }
  if (required && !ws && !res) return "a grant invite needs workspace_id and workspace_role, or resource_id and resource_role"
  return undefined
}

export const InviteTerms = Schema.Union(RegistrationTerms, GrantTerms).pipe(
  Schema.filter((terms) => grantProblem(terms, terms.kind === "grant") ?? true)
)
export type InviteTerms = typeof InviteTerms.Type
