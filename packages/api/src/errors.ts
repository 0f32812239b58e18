/**
 * The error wire format (docs/http.md): `{ error, message, ...details }`,
 * one class per code, each carrying its HTTP status, so that an operation
 * declares exactly the codes it can answer. Only the transport layer builds
 * these; the domain never sees them.
 *
 * Each class's `_tag` is its code (`LastAdmin#_tag` is `"last_admin"`), so
 * `Effect.catchTag("last_admin", …)` narrows a client's failure by the very
 * code docs/http.md lists. It is a getter on the class, never a schema
 * field: the wire body and the OpenAPI document stay `{ error, message, … }`.
 * The code rather than the class name, because the domain's own failures
 * are tagged by class name (`LastAdmin`, `Forbidden`): a union of domain and
 * wire failures stays unambiguous, and `toWire` can never take one for the other.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/** One way the request missed its schema: where (`path`, dot-separated; empty for the whole body) and how. */
export class Issue extends Schema.Class<Issue>("Issue")({
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * The request does not match its schema, or its body is not readable JSON.
 * `issues` lists each problem (at most 50; the message then says how many
 * there were), and is empty when the body as a whole was refused.
 */
export class InvalidRequest extends Schema.Class<InvalidRequest>("InvalidRequest")({
  error: Schema.tag("invalid_request"),
  message: Schema.String,
  issues: Schema.Array(Issue)
}, HttpApiSchema.annotations({ status: 400, description: "`invalid_request`: the request does not match its schema, or its body is not readable JSON" })) {
  get _tag() { return this.error }
}

export class InvalidKey extends Schema.Class<InvalidKey>("InvalidKey")({
  error: Schema.tag("invalid_key"),
  message: Schema.String,
  field: Schema.String
}, HttpApiSchema.annotations({ status: 400, description: "`invalid_key`: a public key is malformed or unusable" })) {
  get _tag() { return this.error }
}

export class InvalidMove extends Schema.Class<InvalidMove>("InvalidMove")({
  error: Schema.tag("invalid_move"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 400, description: "`invalid_move`: the resource cannot move there" })) {
  get _tag() { return this.error }
}

export class WrongInviteKind extends Schema.Class<WrongInviteKind>("WrongInviteKind")({
  error: Schema.tag("wrong_invite_kind"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 400, description: "`wrong_invite_kind`: the invite is of the other kind" })) {
  get _tag() { return this.error }
}

export class Unauthenticated extends Schema.Class<Unauthenticated>("Unauthenticated")({
  error: Schema.tag("unauthenticated"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 401, description: "`unauthenticated`: no usable credential" })) {
  get _tag() { return this.error }
}

export class Forbidden extends Schema.Class<Forbidden>("Forbidden")({
  error: Schema.tag("forbidden"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 403, description: "`forbidden`: the caller may see this but may not do it" })) {
  get _tag() { return this.error }
}

export class NotFound extends Schema.Class<NotFound>("NotFound")({
  error: Schema.tag("not_found"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 404, description: "`not_found`: no such thing, or none the caller may know of" })) {
  get _tag() { return this.error }
}

export class InviteNotFound extends Schema.Class<InviteNotFound>("InviteNotFound")({
  error: Schema.tag("invite_not_found"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 404, description: "`invite_not_found`: no such invite, or none the caller may know of" })) {
  get _tag() { return this.error }
}

/** A request that is well formed but conflicts with what is stored (a race lost, a state that forbids it). */
export class Conflict extends Schema.Class<Conflict>("Conflict")({
  error: Schema.tag("conflict"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 409, description: "`conflict`: the request conflicts with what is stored" })) {
  get _tag() { return this.error }
}

/** The user is already a member of the workspace. */
export class AlreadyMember extends Schema.Class<AlreadyMember>("AlreadyMember")({
  error: Schema.tag("already_member"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 409, description: "`already_member`: the user is a member already" })) {
  get _tag() { return this.error }
}

/** Another user already holds this handle or public key; `field` names which. */
export class UserExists extends Schema.Class<UserExists>("UserExists")({
  error: Schema.tag("user_exists"),
  message: Schema.String,
  field: Schema.String
}, HttpApiSchema.annotations({ status: 409, description: "`user_exists`: the handle or a key is taken" })) {
  get _tag() { return this.error }
}

/** The invite was redeemed already: it can be neither redeemed again nor canceled. */
export class InviteAlreadyRedeemed extends Schema.Class<InviteAlreadyRedeemed>("InviteAlreadyRedeemed")({
  error: Schema.tag("invite_already_redeemed"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 409, description: "`invite_already_redeemed`: the invite was redeemed already" })) {
  get _tag() { return this.error }
}

/** The change would leave these team workspaces without an admin. */
export class LastAdmin extends Schema.Class<LastAdmin>("LastAdmin")({
  error: Schema.tag("last_admin"),
  message: Schema.String,
  workspace_ids: Schema.Array(Schema.String)
}, HttpApiSchema.annotations({ status: 409, description: "`last_admin`: a team workspace would be left without an admin" })) {
  get _tag() { return this.error }
}

/** The change would leave these root resources without an owner. */
export class LastOwner extends Schema.Class<LastOwner>("LastOwner")({
  error: Schema.tag("last_owner"),
  message: Schema.String,
  resource_ids: Schema.Array(Schema.String)
}, HttpApiSchema.annotations({ status: 409, description: "`last_owner`: a root resource would be left without an owner" })) {
  get _tag() { return this.error }
}

/** The change would leave no active system admin. */
export class LastSystemAdmin extends Schema.Class<LastSystemAdmin>("LastSystemAdmin")({
  error: Schema.tag("last_system_admin"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 409, description: "`last_system_admin`: no active system admin would be left" })) {
  get _tag() { return this.error }
}

export class InviteExpired extends Schema.Class<InviteExpired>("InviteExpired")({
  error: Schema.tag("invite_expired"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 410, description: "`invite_expired`: the invite has expired" })) {
  get _tag() { return this.error }
}

/** Canceled by someone, or void because whoever minted it may no longer grant it. */
export class InviteCanceled extends Schema.Class<InviteCanceled>("InviteCanceled")({
  error: Schema.tag("invite_canceled"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 410, description: "`invite_canceled`: the invite was canceled or is void" })) {
  get _tag() { return this.error }
}

export class ResourceRevoked extends Schema.Class<ResourceRevoked>("ResourceRevoked")({
  error: Schema.tag("resource_revoked"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 410, description: "`resource_revoked`: the resource is revoked" })) {
  get _tag() { return this.error }
}

export class PersonalWorkspaceInvariant extends Schema.Class<PersonalWorkspaceInvariant>("PersonalWorkspaceInvariant")({
  error: Schema.tag("personal_workspace_invariant"),
  message: Schema.String,
  /** `null` when the workspace was never created (a refused creation). */
  workspace_id: Schema.NullOr(Schema.String),
  reason: Schema.String
}, HttpApiSchema.annotations({ status: 422, description: "`personal_workspace_invariant`: a personal workspace rule forbids this" })) {
  get _tag() { return this.error }
}

/** A body over `TESSERA_MAX_BODY_BYTES`, refused before it was parsed (and read no further than the limit). */
export class PayloadTooLarge extends Schema.Class<PayloadTooLarge>("PayloadTooLarge")({
  error: Schema.tag("payload_too_large"),
  message: Schema.String,
  max_bytes: Schema.Int
}, HttpApiSchema.annotations({ status: 413, description: "`payload_too_large`: the body is over the size limit" })) {
  get _tag() { return this.error }
}

/** A body that is not declared `application/json`; it was not read. */
export class UnsupportedMediaType extends Schema.Class<UnsupportedMediaType>("UnsupportedMediaType")({
  error: Schema.tag("unsupported_media_type"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 415, description: "`unsupported_media_type`: the body is not declared application/json" })) {
  get _tag() { return this.error }
}

/** An unexpected failure: its transaction, if any, was rolled back; the cause is logged, not sent. */
export class Internal extends Schema.Class<Internal>("Internal")({
  error: Schema.tag("internal_error"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 500, description: "`internal_error`: an unexpected failure; its transaction, if any, was rolled back" })) {
  get _tag() { return this.error }
}

/**
 * A method the path does not serve; the `Allow` header lists those it does.
 * Answered for every path of the API, so no operation declares it.
 */
export class MethodNotAllowed extends Schema.Class<MethodNotAllowed>("MethodNotAllowed")({
  error: Schema.tag("method_not_allowed"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 405, description: "`method_not_allowed`: the path does not serve this method" })) {
  get _tag() { return this.error }
}

export class NotReady extends Schema.Class<NotReady>("NotReady")({
  error: Schema.tag("not_ready"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 503, description: "`not_ready`: the store is unreachable or its schema is not current" })) {
  get _tag() { return this.error }
}

