/**
 * Identity failures. Each carries what a caller needs to act on it and
 * nothing about transport; apps/http maps them to SPEC §4 codes.
 */
import { Schema } from "effect"
import { InviteId, UserId } from "../shared/ids.js"

export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  message: Schema.String
}) {}

export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  message: Schema.String
}) {}

export class UserNotFound extends Schema.TaggedError<UserNotFound>()("UserNotFound", {
  userId: Schema.String
}) {}

export class UserExists extends Schema.TaggedError<UserExists>()("UserExists", {
  field: Schema.Literal("handle", "sign_pub", "kex_pub", "store"),
  message: Schema.String
}) {}

export class LastSystemAdmin extends Schema.TaggedError<LastSystemAdmin>()("LastSystemAdmin", {
  userId: UserId
}) {}

export class InvalidKey extends Schema.TaggedError<InvalidKey>()("InvalidKey", {
  field: Schema.Literal("sign_pub", "kex_pub"),
  problem: Schema.Literal("format", "not_on_curve", "small_order")
}) {}

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
  inviteId: InviteId
}) {}

export class WrongInviteKind extends Schema.TaggedError<WrongInviteKind>()("WrongInviteKind", {
  inviteId: InviteId,
  expected: Schema.Literal("registration", "grant")
}) {}

/** A request that is well-formed but conflicts with stored state. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  message: Schema.String
}) {}

/** A referenced thing that does not exist (or that the caller may not see). */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  what: Schema.String,
  id: Schema.String
}) {}

/** The store already has users, so there is nothing to bootstrap. */
export class AlreadyBootstrapped extends Schema.TaggedError<AlreadyBootstrapped>()("AlreadyBootstrapped", {
  message: Schema.String
}) {}

/** A configured or presented API key that is not a well-formed `tsk_` token. */
export class MalformedToken extends Schema.TaggedError<MalformedToken>()("MalformedToken", {
  message: Schema.String
}) {}
