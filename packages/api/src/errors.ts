/**
 * The error wire format of SPEC §4: `{ error, message, ...details }`, one
 * class per code, each carrying its HTTP status. Only the transport layer
 * builds these; the domain never sees them.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"


export class Issue extends Schema.Class<Issue>("Issue")({
  path: Schema.String,
  message: Schema.String
}) {}

export class InvalidRequest extends Schema.Class<InvalidRequest>("InvalidRequest")({
  error: Schema.tag("invalid_request"),
  message: Schema.String,
  issues: Schema.Array(Issue)
}, HttpApiSchema.annotations({ status: 400 })) {}

export class InvalidKey extends Schema.Class<InvalidKey>("InvalidKey")({
  error: Schema.tag("invalid_key"),
  message: Schema.String,
  field: Schema.String
}, HttpApiSchema.annotations({ status: 400 })) {}

export class InvalidMove extends Schema.Class<InvalidMove>("InvalidMove")({
  error: Schema.tag("invalid_move"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 400 })) {}

export class WrongInviteKind extends Schema.Class<WrongInviteKind>("WrongInviteKind")({
  error: Schema.tag("wrong_invite_kind"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 400 })) {}

export class Unauthenticated extends Schema.Class<Unauthenticated>("Unauthenticated")({
  error: Schema.tag("unauthenticated"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 401 })) {}

export class Forbidden extends Schema.Class<Forbidden>("Forbidden")({
  error: Schema.tag("forbidden"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 403 })) {}

export class NotFound extends Schema.Class<NotFound>("NotFound")({
  error: Schema.tag("not_found"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 404 })) {}

export class InviteNotFound extends Schema.Class<InviteNotFound>("InviteNotFound")({
  error: Schema.tag("invite_not_found"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 404 })) {}

export class Conflict extends Schema.Class<Conflict>("Conflict")({
  error: Schema.Literal(
    "conflict",
    "already_member",
    "user_exists",
    "invite_already_redeemed",
    "last_admin",
    "last_owner",
    "last_system_admin"
  ),
  message: Schema.String,
  field: Schema.optional(Schema.String),
  workspace_ids: Schema.optional(Schema.Array(Schema.String)),
  resource_ids: Schema.optional(Schema.Array(Schema.String))
}, HttpApiSchema.annotations({ status: 409 })) {}

export class Gone extends Schema.Class<Gone>("Gone")({
  error: Schema.Literal("invite_expired", "invite_canceled", "resource_revoked"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 410 })) {}

export class PersonalWorkspaceInvariant extends Schema.Class<PersonalWorkspaceInvariant>("PersonalWorkspaceInvariant")({
  error: Schema.tag("personal_workspace_invariant"),
  message: Schema.String,
  workspace_id: Schema.String,
  reason: Schema.String
}, HttpApiSchema.annotations({ status: 422 })) {}

/** A body over `TESSERA_MAX_BODY_BYTES`, refused before it was parsed (and read no further than the limit). */
export class PayloadTooLarge extends Schema.Class<PayloadTooLarge>("PayloadTooLarge")({
  error: Schema.tag("payload_too_large"),
  message: Schema.String,
  max_bytes: Schema.Int
}, HttpApiSchema.annotations({ status: 413 })) {}

/** A body that is not declared `application/json`; it was not read. */
export class UnsupportedMediaType extends Schema.Class<UnsupportedMediaType>("UnsupportedMediaType")({
  error: Schema.tag("unsupported_media_type"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 415 })) {}

/** An unexpected failure: its transaction, if any, was rolled back; the cause is logged, not sent. */
export class Internal extends Schema.Class<Internal>("Internal")({
  error: Schema.tag("internal_error"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 500 })) {}

export class NotReady extends Schema.Class<NotReady>("NotReady")({
  error: Schema.tag("not_ready"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 503 })) {}

export type WireError =
  | InvalidRequest
  | InvalidKey
  | WrongInviteKind
  | InvalidMove
  | Unauthenticated
  | Forbidden
  | NotFound
  | InviteNotFound
  | Conflict
  | Gone
  | PayloadTooLarge
  | UnsupportedMediaType
  | PersonalWorkspaceInvariant
