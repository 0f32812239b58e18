/**
 * Identity failures. Each carries what a caller needs to act on it and
 * nothing about transport; apps/http maps them to wire codes.
 */
import { Schema } from "effect"
import { UserId } from "../shared/ids.js"

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

/** The store already has users, so there is nothing to bootstrap. */
export class AlreadyBootstrapped extends Schema.TaggedError<AlreadyBootstrapped>()("AlreadyBootstrapped", {
  message: Schema.String
}) {}

/** A configured or presented API key that is not a well-formed `tsk_` token. */
export class MalformedToken extends Schema.TaggedError<MalformedToken>()("MalformedToken", {
  message: Schema.String
}) {}
