/** Failures of invites (and, with them, everything handed out by a bearer secret). */
import { Schema } from "effect"
import { InviteId } from "../shared/ids.js"

export class InviteNotFound extends Schema.TaggedError<InviteNotFound>()("InviteNotFound", {
  message: Schema.String
}) {}

export class InviteAlreadyRedeemed extends Schema.TaggedError<InviteAlreadyRedeemed>()("InviteAlreadyRedeemed", {
  inviteId: InviteId
}) {}

export class InviteExpired extends Schema.TaggedError<InviteExpired>()("InviteExpired", {
  inviteId: InviteId
}) {}

export class InviteCanceled extends Schema.TaggedError<InviteCanceled>()("InviteCanceled", {
  inviteId: InviteId,
  /** Set when the invite was not canceled by anyone but is void: its minter may no longer grant it. */
  reason: Schema.optional(Schema.Literal("minter_lost_authority"))
}) {}

export class WrongInviteKind extends Schema.TaggedError<WrongInviteKind>()("WrongInviteKind", {
  inviteId: InviteId,
  expected: Schema.Literal("registration", "grant")
}) {}
