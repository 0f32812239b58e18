/**
 * Failures every area raises. Each carries what a caller needs to act on it
 * and nothing about transport; apps/http maps them to the wire codes.
 */
import { Schema } from "effect"

/** The credential is missing, malformed, unknown or revoked — or its user vanished mid-request. */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  message: Schema.String
}) {}

/** The caller can see the thing but may not do this to it. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  message: Schema.String
}) {}

/** A referenced thing that does not exist, or that the caller has no access to at all. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  what: Schema.String,
  id: Schema.String
}) {}

/**
 * A request that is well-formed but conflicts with stored state. `reason`
 * names the conflicts a caller is expected to tell apart from a lost race.
 */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  message: Schema.String,
  reason: Schema.optional(Schema.Literal("invite_already_redeemed"))
}) {}
