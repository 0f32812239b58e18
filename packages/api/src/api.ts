/**
 * The HTTP contract of Tessera v1 (docs/http.md), shared by the server and
 * by typed clients. Request schemas reject unknown fields; every operation
 * declares exactly the wire errors of `errors.ts` it can answer, with a
 * summary, a description and, for a body, an example; the OpenAPI document
 * is generated from it.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, HttpApiSecurity, OpenApi } from "@effect/platform"
import {
  Access,
  AccessGrant,
  AccessId,
  AccessReason,
  GrantFields,
  Action,
  CreateResource,
  CreateWorkspace,
  MAX_CHECKS,
  PatchResource,
  Position,
  Resource,
  Event,
  Handle,
  Invite,
  InviteId,
  InviteStatus,
  type LinkBearer,
  LinkRole,
  Member,
  type Principal,
  ResourceId,
  ResourceRole,
  ShareLink,
  ShareLinkId,
  SystemRole,
  Timestamp,
  User,
  UserId,
  Workspace,
  WorkspaceId,
  WorkspacePatch,
  WorkspaceRole
} from "@tessera/domain"
import type { HttpMethod } from "@effect/platform/HttpMethod"
import { Context, Redacted, Schema } from "effect"
import * as Errors from "./errors.js"
import { ListCursor } from "./pages.js"
import { EventStreamGroup } from "./stream.js"

/** Strict request bodies: an unknown field is an error, not silently dropped. */
const strict = <S extends Schema.Schema.Any>(schema: S) =>
  schema.annotations({ parseOptions: { onExcessProperty: "error", errors: "all" } }) as unknown as S

/** A request body with examples for the OpenAPI document; they are checked against the body's type. */
const body = <S extends Schema.Schema.Any>(schema: S, ...examples: readonly [Schema.Schema.Type<S>, ...Array<Schema.Schema.Type<S>>]) =>
  strict(schema).annotations({ examples }) as unknown as S

/**
 * A query parameter that may be left out. Exact: a query string never holds
 * `undefined`, so a bad value is one issue, not a second "expected undefined".
 */
const param = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** A whole number in a query string: `integer` in the OpenAPI document, one issue when it is not one. */
const IntegerParam = (minimum: number, maximum?: number) => {
  const range = maximum === undefined ? `at least ${minimum}` : `from ${minimum} to ${maximum}`
  return Schema.NumberFromString.pipe(
    Schema.filter((n) => Number.isInteger(n) && n >= minimum && (maximum === undefined || n <= maximum)),
    Schema.annotations({
      message: () => ({ message: `must be an integer ${range}`, override: true }),
      jsonSchema: { type: "integer", minimum, ...(maximum === undefined ? {} : { maximum }) }
    })
  )
}

/**
 * The query of a paged list (docs/http.md, "Paging"): `limit` (1 to 1000,
 * default 100) and `cursor`, the previous page's `next_cursor`.
 */
const pageQuery = <C extends Schema.Schema.Any>(cursor: C) => ({ limit: param(IntegerParam(1, 1000)), cursor: param(cursor) })

/** A page of a list: its items under `field`, and `next_cursor`, absent on the last page. */
const pageOf = <F extends string, A extends Schema.Schema.Any, C extends Schema.Schema.Any>(field: F, item: A, cursor: C) =>
  Schema.Struct({ [field]: Schema.Array(item), next_cursor: Schema.optionalWith(cursor, { exact: true }) } as {
    [K in F]: Schema.Array$<A>
  } & { next_cursor: Schema.optionalWith<C, { exact: true }> })

/** How every list pages, for its description. */
const PAGED = "Paged: `limit` is 1 to 1000 (default 100); pass `next_cursor` as the next page's `cursor`; it is " +
  "absent on the last page."

/**
 * The errors of reading a JSON body: not JSON or not its schema (400), over
 * the size limit (413), not declared `application/json` (415).
 */
const readsBody = <Name extends string, Method extends HttpMethod, P, U, Pl, H, S, E, R, RE>(
  endpoint: HttpApiEndpoint.HttpApiEndpoint<Name, Method, P, U, Pl, H, S, E, R, RE>
) => endpoint.addError(Errors.InvalidRequest).addError(Errors.PayloadTooLarge).addError(Errors.UnsupportedMediaType)

/** The summary and description of an operation or group in the OpenAPI document and `/docs`. */
const doc = (summary: string, description: string) => OpenApi.annotations({ summary, description })

/** The user calling with an API key (`tsk_`). */
export class CurrentPrincipal extends Context.Tag("Tessera/CurrentPrincipal")<CurrentPrincipal, Principal>() {}

/** Whoever calls a resource's endpoints: a user (`tsk_`) or the bearer of a share link (`tsl_`). */
export class CurrentActor extends Context.Tag("Tessera/CurrentActor")<CurrentActor, Principal | LinkBearer>() {}

/**
 * Accounts only: an API key. A share link presented here is 401 — it opens
 * its resource's subtree and nothing else (not `/v1/me`, workspaces,
 * invites, users, events or the batch check).
 */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("Tessera/Authentication", {
  failure: Errors.Unauthenticated,
  provides: CurrentPrincipal,
  security: {
    bearer: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "An API key (`tsk_…`), as `Authorization: Bearer <key>`.")
    )
  }
}) {}

/**
 * A resource's endpoints: an API key or a share link. What a link may do
 * there is the domain's decision (its role on its subtree; 404 elsewhere).
 * A disabled or rotated link is 401 at once.
 */
export class BearerAuthentication extends HttpApiMiddleware.Tag<BearerAuthentication>()("Tessera/BearerAuthentication", {
  failure: Errors.Unauthenticated,
  provides: CurrentActor,
  security: {
    bearerOrLink: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "An API key (`tsk_…`) or a share link's token (`tsl_…`), as `Authorization: Bearer <token>`.")
    )
  }
}) {}

const Secret = Schema.Redacted(Schema.String)

/** Example values for the OpenAPI document. */
const ex = {
  user: UserId.make("usr_6f1c2a9d4b3e4f5a8c7d0e1f2a3b4c5d"),
  other: UserId.make("usr_0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
  workspace: WorkspaceId.make("ws_3c4d5e6f708192a3b4c5d6e7f8091a2b"),
  resource: ResourceId.make("res_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"),
  target: ResourceId.make("res_1a2b3c4d5e6f708192a3b4c5d6e7f809"),
  inviteToken: Redacted.make(`tsi_${"5f".repeat(36)}`),
  signPub: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
  kexPub: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
}

// --- health ---------------------------------------------------------------

export class HealthGroup extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("healthz", "/healthz")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ok") }))
      .annotateContext(doc("Liveness", "Answers while the process serves HTTP; it does not touch the store."))
  )
  .add(
    HttpApiEndpoint.get("readyz", "/readyz")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ready") }))
      .addError(Errors.NotReady)
      .annotateContext(doc(
        "Readiness",
        "Ready when the store answers within two seconds and its schema is current; otherwise 503 `not_ready`."
      ))
  )
  .annotateContext(doc("Health", "Liveness and readiness probes for orchestrators. No credential needed."))
{}

// --- registration (no account yet) ---------------------------------------

export const RegisterRequest = body(
  Schema.Struct({
    token: Secret,
    sign_pub: Schema.String,
    kex_pub: Schema.String
  }),
  { token: ex.inviteToken, sign_pub: ex.signPub, kex_pub: ex.kexPub }
)

export class RegisterResponse extends Schema.Class<RegisterResponse>("RegisterResponse")({
  user: User,
  api_key: Secret,
  personal_workspace: Workspace
}) {}

export class RegistrationGroup extends HttpApiGroup.make("registration")
  .add(
    HttpApiEndpoint.post("register", "/v1/register")
      .setPayload(RegisterRequest)
      .addSuccess(RegisterResponse, { status: 201 })
      .pipe(readsBody)
      .addError(Errors.InvalidKey)
      .addError(Errors.WrongInviteKind)
      .addError(Errors.NotFound)
      .addError(Errors.InviteNotFound)
      .addError(Errors.Conflict)
      .addError(Errors.AlreadyMember)
      .addError(Errors.UserExists)
      .addError(Errors.InviteAlreadyRedeemed)
      .addError(Errors.InviteExpired)
      .addError(Errors.InviteCanceled)
      .addError(Errors.ResourceRevoked)
      .addError(Errors.PersonalWorkspaceInvariant)
      .annotateContext(doc(
        "Register with a registration invite",
        "Redeems a registration invite's token and creates its user with the invite's handle and role, their " +
          "personal workspace, and their API key, returned only in this reply. `sign_pub` (Ed25519) and `kex_pub` " +
          "(X25519) are 32-byte public keys as 64 lowercase hex characters."
      ))
  )
  .annotateContext(doc("Registration", "Becoming a user: the one operation that needs no API key, only an invite's token."))
{}

// --- invites --------------------------------------------------------------

export const MintInviteRequest = body(
  Schema.Struct({
    kind: Schema.Literal("registration", "grant"),
    handle: Schema.optional(Handle),
    role: Schema.optional(SystemRole),
    ...GrantFields
  }),
  { kind: "registration", handle: Handle.make("ada"), role: "member", ttl_seconds: 86400 },
  { kind: "grant", workspace_id: ex.workspace, workspace_role: "member" }
)

export class MintInviteResponse extends Schema.Class<MintInviteResponse>("MintInviteResponse")({
  invite: Invite,
  token: Secret
}) {}

const InviteBody = Schema.Struct({ invite: Invite })
const inviteIdPath = HttpApiSchema.param("id", InviteId)
/** Where a page of invites starts: after this creation time and invite id. */
export const InvitesCursor = ListCursor("invites", Schema.Tuple(Timestamp, InviteId))

export class InvitesGroup extends HttpApiGroup.make("invites")
  .add(
    HttpApiEndpoint.post("mint", "/v1/invites")
      .setPayload(MintInviteRequest)
      .addSuccess(MintInviteResponse, { status: 201 })
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.Conflict)
      .addError(Errors.UserExists)
      .addError(Errors.ResourceRevoked)
      .addError(Errors.PersonalWorkspaceInvariant)
      .annotateContext(doc(
        "Mint an invite",
        "A registration invite (system admins; a fixed `handle` and `role`) or a grant invite (exactly one " +
          "workspace membership or resource access, which the minter must be allowed to grant). The token is " +
          "returned only in this reply."
      ))
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/invites")
      .setUrlParams(strict(Schema.Struct({
        status: param(InviteStatus),
        workspace_id: param(WorkspaceId),
        resource_id: param(ResourceId),
        ...pageQuery(InvitesCursor)
      })))
      .addSuccess(pageOf("invites", Invite, InvitesCursor))
      .addError(Errors.InvalidRequest)
      .annotateContext(doc(
        "List invites",
        "The invites the caller may see (a system admin: all of them; anyone else: those they minted), " +
          "optionally filtered by status (as it is now: a pending invite past its expiry is `expired`), workspace " +
          `or resource, oldest first (by \`created_at\`, then id). Tokens are never listed. ${PAGED}`
      ))
  )
  .add(
    HttpApiEndpoint.post("redeem", "/v1/invites/redeem")
      .setPayload(body(Schema.Struct({ token: Secret }), { token: ex.inviteToken }))
      .addSuccess(InviteBody)
      .pipe(readsBody)
      .addError(Errors.WrongInviteKind)
      .addError(Errors.NotFound)
      .addError(Errors.InviteNotFound)
      .addError(Errors.Conflict)
      .addError(Errors.AlreadyMember)
      .addError(Errors.InviteAlreadyRedeemed)
      .addError(Errors.InviteExpired)
      .addError(Errors.InviteCanceled)
      .addError(Errors.ResourceRevoked)
      .addError(Errors.PersonalWorkspaceInvariant)
      .annotateContext(doc(
        "Redeem a grant invite",
        "Gives the caller the membership or access the grant invite carries, once. An invite whose minter may " +
          "no longer grant it is void (410 `invite_canceled`)."
      ))
  )
  .add(
    HttpApiEndpoint.get("show")`/v1/invites/${inviteIdPath}`
      .addSuccess(InviteBody)
      .addError(Errors.InvalidRequest)
      .addError(Errors.InviteNotFound)
      .annotateContext(doc("Show an invite", "One invite the caller may see, with its current status."))
  )
  .add(
    HttpApiEndpoint.del("cancel")`/v1/invites/${inviteIdPath}`
      .addSuccess(InviteBody)
      .addError(Errors.InvalidRequest)
      .addError(Errors.InviteNotFound)
      .addError(Errors.Conflict)
      .addError(Errors.InviteAlreadyRedeemed)
      .annotateContext(doc(
        "Cancel an invite",
        "Cancels a pending invite; cancelling a canceled or expired one changes nothing. A redeemed invite " +
          "cannot be canceled (409 `invite_already_redeemed`)."
      ))
  )
  .middleware(Authentication)
  .annotateContext(doc("Invites", "Single-use tokens that register a user or grant a membership or an access."))
{}

// --- me and users ---------------------------------------------------------

const UserBody = Schema.Struct({ user: User })
/** Where a page of users starts: after this user id. */
export const UsersCursor = ListCursor("users", UserId)
const userIdPath = HttpApiSchema.param("id", UserId)

export class DeleteUserReport extends Schema.Class<DeleteUserReport>("DeleteUserReport")({
  user_id: UserId,
  personal_workspaces_deleted: Schema.Int,
  memberships_removed: Schema.Int,
  accesses_removed: Schema.Int,
  api_keys_deleted: Schema.Int,
  invites_canceled: Schema.Int
}) {}

export class UsersGroup extends HttpApiGroup.make("users")
  .add(
    HttpApiEndpoint.get("me", "/v1/me")
      .addSuccess(UserBody)
      .annotateContext(doc("The caller", "The user owning the API key."))
  )
  .add(
    HttpApiEndpoint.get("myWorkspace", "/v1/me/workspace")
      .addSuccess(Workspace)
      .addError(Errors.Forbidden)
      .addError(Errors.Conflict)
      .annotateContext(doc(
        "The caller's personal workspace",
        "The caller's personal workspace, created on the spot if it is missing."
      ))
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/users")
      .setUrlParams(strict(Schema.Struct(pageQuery(UsersCursor))))
      .addSuccess(pageOf("users", User, UsersCursor))
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .annotateContext(doc("List users", `Every user, active and revoked, in id order. System admins only. ${PAGED}`))
  )
  .add(
    HttpApiEndpoint.get("show")`/v1/users/${userIdPath}`
      .addSuccess(UserBody)
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .annotateContext(doc("Show a user", "The caller themselves, or anyone for a system admin."))
  )
  .add(
    HttpApiEndpoint.post("revoke")`/v1/users/${userIdPath}/revoke`
      .addSuccess(UserBody)
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.LastSystemAdmin)
      .annotateContext(doc(
        "Revoke a user",
        "Disables the user and their API keys at once; their memberships and accesses stay. System admins only; " +
          "the last active system admin cannot be revoked."
      ))
  )
  .add(
    HttpApiEndpoint.del("delete")`/v1/users/${userIdPath}`
      .setUrlParams(strict(Schema.Struct({ transfer_to: param(UserId) })))
      .addSuccess(DeleteUserReport)
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.Conflict)
      .addError(Errors.LastAdmin)
      .addError(Errors.LastOwner)
      .addError(Errors.LastSystemAdmin)
      .annotateContext(doc(
        "Delete a user",
        "Deletes the user, their personal workspace, memberships, accesses, API keys and pending invites in one " +
          "transaction. What only they administer or own is refused (409 `last_admin`, `last_owner`) unless " +
          "`transfer_to` names who takes it over. System admins only."
      ))
  )
  .middleware(Authentication)
  .annotateContext(doc("Users", "The caller, and the users a system admin manages."))
{}

// --- workspaces -----------------------------------------------------------

const workspaceIdPath = HttpApiSchema.param("id", WorkspaceId)
/** Where a page of workspaces starts: after this workspace id. */
export const WorkspacesCursor = ListCursor("workspaces", WorkspaceId)
const memberIdPath = HttpApiSchema.param("user_id", UserId)

/** What deleting a team workspace took with it, in its one transaction. */
export class DeleteWorkspaceReport extends Schema.Class<DeleteWorkspaceReport>("DeleteWorkspaceReport")({
  workspace_id: WorkspaceId,
  deleted: Schema.Literal(true),
  members_removed: Schema.Int,
  resources_deleted: Schema.Int,
  accesses_deleted: Schema.Int,
  share_links_deleted: Schema.Int,
  invites_canceled: Schema.Int
}) {}

export const CreateWorkspaceRequest = body(CreateWorkspace, { name: "Research", about: "Papers and notes of the research team." })
export const PatchWorkspaceRequest = body(
  WorkspacePatch,
  { name: "Research (archive)" },
  { members: [{ user_id: ex.user, role: "admin" }, { user_id: ex.other, role: "member" }] }
)

export class WorkspacesGroup extends HttpApiGroup.make("workspaces")
  .add(
    HttpApiEndpoint.post("create", "/v1/workspaces")
      .setPayload(CreateWorkspaceRequest)
      .addSuccess(Workspace, { status: 201 })
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .addError(Errors.PersonalWorkspaceInvariant)
      .annotateContext(doc(
        "Create a team workspace",
        "A team workspace whose only member is the caller, as admin. Personal workspaces are made by the system " +
          "only: asking for one is 422 `personal_workspace_invariant` with `workspace_id: null`."
      ))
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/workspaces")
      .setUrlParams(strict(Schema.Struct(pageQuery(WorkspacesCursor))))
      .addSuccess(pageOf("workspaces", Workspace, WorkspacesCursor))
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .annotateContext(doc("List workspaces", `The workspaces the caller belongs to, in id order. ${PAGED}`))
  )
  .add(
    HttpApiEndpoint.get("show")`/v1/workspaces/${workspaceIdPath}`
      .addSuccess(Workspace)
      .addError(Errors.InvalidRequest)
      .addError(Errors.NotFound)
      .annotateContext(doc("Show a workspace", "A workspace the caller belongs to; any workspace for a system admin."))
  )
  .add(
    HttpApiEndpoint.patch("update")`/v1/workspaces/${workspaceIdPath}`
      .setPayload(PatchWorkspaceRequest)
      .addSuccess(Workspace)
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.LastAdmin)
      .addError(Errors.PersonalWorkspaceInvariant)
      .annotateContext(doc(
        "Update a workspace",
        "Changes the fields given; `members` replaces the member list. Workspace admins only. A personal " +
          "workspace's members, kind and owner are fixed (422); a change leaving no admin is 409 `last_admin`."
      ))
  )
  .add(
    HttpApiEndpoint.del("delete")`/v1/workspaces/${workspaceIdPath}`
      .addSuccess(DeleteWorkspaceReport)
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.PersonalWorkspaceInvariant)
      .annotateContext(doc(
        "Delete a team workspace",
        "Deletes the workspace with its memberships, resources, accesses, share links and pending invites in one " +
          "transaction, and reports what it took. Workspace admins only; a personal workspace goes only with its user."
      ))
  )
  .add(
    HttpApiEndpoint.post("addMember")`/v1/workspaces/${workspaceIdPath}/members`
      .setPayload(body(Schema.Struct({ user_id: UserId, role: WorkspaceRole }), { user_id: ex.other, role: "member" }))
      .addSuccess(Member, { status: 201 })
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.AlreadyMember)
      .addError(Errors.LastAdmin)
      .addError(Errors.PersonalWorkspaceInvariant)
      .annotateContext(doc("Add a member", "Adds an active user to a team workspace. Workspace admins only."))
  )
  .add(
    HttpApiEndpoint.patch("setMemberRole")`/v1/workspaces/${workspaceIdPath}/members/${memberIdPath}`
      .setPayload(body(Schema.Struct({ role: WorkspaceRole }), { role: "admin" }))
      .addSuccess(Member)
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.AlreadyMember)
      .addError(Errors.LastAdmin)
      .addError(Errors.PersonalWorkspaceInvariant)
      .annotateContext(doc(
        "Change a member's role",
        "Makes a member admin or member. Workspace admins only; demoting the last admin is 409 `last_admin`."
      ))
  )
  .add(
    HttpApiEndpoint.del("removeMember")`/v1/workspaces/${workspaceIdPath}/members/${memberIdPath}`
      .addSuccess(Schema.Struct({ workspace_id: WorkspaceId, user_id: UserId, removed: Schema.Literal(true) }))
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.AlreadyMember)
      .addError(Errors.LastAdmin)
      .addError(Errors.PersonalWorkspaceInvariant)
      .annotateContext(doc(
        "Remove a member",
        "Removes a member from a team workspace; admins remove anyone, a member only themselves. Removing the " +
          "last admin is 409 `last_admin`."
      ))
  )
  .middleware(Authentication)
  .annotateContext(doc("Workspaces", "Team workspaces and their members, and each user's personal workspace."))
{}

// --- resources ------------------------------------------------------------

const resourceIdPath = HttpApiSchema.param("id", ResourceId)
const accessIdPath = HttpApiSchema.param("access_id", AccessId)

export class ResourceView extends Schema.Class<ResourceView>("ResourceView")({
  ...Resource.fields,
  effective_role: Schema.NullOr(ResourceRole)
}) {}

/** Where a page of children starts: after this position and resource id. */
export const ChildrenCursor = ListCursor("children", Schema.Tuple(Schema.Int, ResourceId))
/** Where a page of a workspace's roots starts: after this position and resource id. */
export const RootsCursor = ListCursor("roots", Schema.Tuple(Schema.Int, ResourceId))
/** Where a page of accesses starts: after this access id. */
export const AccessesCursor = ListCursor("accesses", Access.fields.id)
const SIBLING_ORDER = "in sibling order (position, then id). Creating and revoking never renumber siblings; a move " +
  "does, and the moved resource may then appear twice or not at all (docs/http.md, \"Paging\")."

export class MoveResponse extends Schema.Class<MoveResponse>("MoveResponse")({
  resource: Resource,
  scope_changed: Schema.Boolean,
  accesses_deleted: Schema.Int,
  invites_canceled: Schema.Int,
  owners_restored: Schema.Int
}) {}

/** What revoking a resource swept; a second revocation reports zeros. */
export class RevokeReport extends Schema.Class<RevokeReport>("RevokeReport")({
  resource_id: ResourceId,
  revoked: Schema.Literal(true),
  descendants_revoked: Schema.Int,
  invites_revoked: Schema.Int,
  /** The resource's own link was disabled. */
  share_link_disabled: Schema.Boolean,
  /** Links disabled in the whole subtree, the resource's own included. */
  share_links_disabled: Schema.Int
}) {}

/** A new or rotated share link and its token, shown only in this reply. */
export class ShareLinkCreated extends Schema.Class<ShareLinkCreated>("ShareLinkCreated")({
  share_link: ShareLink,
  token: Secret
}) {}

export class ShareLinkDisabled extends Schema.Class<ShareLinkDisabled>("ShareLinkDisabled")({
  /** `false` when no link was active (disabling is idempotent). */
  disabled: Schema.Boolean,
  share_link: Schema.NullOr(ShareLink)
}) {}

/**
 * Resources. The endpoints naming a resource accept a share link as well as
 * an API key (`BearerAuthentication`), and so does creating a resource, whose
 * parent a link with editor rights may name; listing a workspace's roots and
 * the batch check are for accounts only (`Authentication`).
 */
export class ResourcesGroup extends HttpApiGroup.make("resources")
  .add(
    HttpApiEndpoint.post("create")`/v1/workspaces/${workspaceIdPath}/resources`
      .setPayload(body(
        CreateResource,
        { title: "Quarterly report", kind: "document" },
        { title: "Figures", kind: "folder", parent_id: ex.resource, link_reach: "workspace", link_role: "reader" }
      ))
      .addSuccess(Resource, { status: 201 })
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc(
        "Create a resource",
        "A root (any member of the workspace; the creator becomes its owner) or, with `parent_id`, a child " +
          "(editor rights on the parent, which a share link with editor rights also gives)."
      ))
  )
  .add(
    HttpApiEndpoint.get("show")`/v1/resources/${resourceIdPath}`
      .addSuccess(ResourceView)
      .addError(Errors.InvalidRequest)
      .addError(Errors.NotFound)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc("Show a resource", "A resource the caller may read, with the caller's effective role on it."))
  )
  .add(
    HttpApiEndpoint.patch("update")`/v1/resources/${resourceIdPath}`
      .setPayload(body(PatchResource, { title: "Quarterly report (final)" }, { link_reach: "workspace", link_role: "editor" }))
      .addSuccess(ResourceView)
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc(
        "Update a resource",
        "Title and kind need edit rights; the link settings (`link_reach`, `link_role`) administer rights."
      ))
  )
  .add(
    HttpApiEndpoint.del("revoke")`/v1/resources/${resourceIdPath}`
      .setUrlParams(strict(Schema.Struct({ dry_run: param(Schema.BooleanFromString) })))
      .addSuccess(RevokeReport)
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .annotateContext(doc(
        "Revoke a resource",
        "Revokes the resource and its descendants, voids their pending invites and disables their share links, " +
          "in one transaction; revoking again reports zeros. `dry_run=true` reports the same and changes nothing."
      ))
  )
  .add(
    HttpApiEndpoint.get("children")`/v1/resources/${resourceIdPath}/children`
      .setUrlParams(strict(Schema.Struct(pageQuery(ChildrenCursor))))
      .addSuccess(pageOf("resources", Resource, ChildrenCursor))
      .addError(Errors.InvalidRequest)
      .addError(Errors.NotFound)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc("List children", `The resource's live direct children, ${SIBLING_ORDER} ${PAGED}`))
  )
  .add(
    HttpApiEndpoint.get("accesses")`/v1/resources/${resourceIdPath}/accesses`
      .setUrlParams(strict(Schema.Struct({ include: param(Schema.Literal("inherited")), ...pageQuery(AccessesCursor) })))
      .addSuccess(pageOf("accesses", Access, AccessesCursor))
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc(
        "List accesses",
        "The resource's direct accesses; with `include=inherited`, also those it inherits from its ancestors; in " +
          `access id order. ${PAGED}`
      ))
  )
  .add(
    HttpApiEndpoint.post("grant")`/v1/resources/${resourceIdPath}/accesses`
      .setPayload(body(Schema.Struct({ user_id: UserId, role: ResourceRole }), { user_id: ex.other, role: "editor" }))
      .addSuccess(Access, { status: 201 })
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.Conflict)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc(
        "Grant an access",
        "Gives an active user a direct role on the resource. Administer rights needed, owner rights to grant " +
          "`owner`; a user who already has a direct access is 409 `conflict`."
      ))
  )
  .add(
    HttpApiEndpoint.patch("changeAccess")`/v1/resources/${resourceIdPath}/accesses/${accessIdPath}`
      .setPayload(body(Schema.Struct({ role: ResourceRole }), { role: "commenter" }))
      .addSuccess(Access)
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.LastOwner)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc(
        "Change an access",
        "Changes a direct access's role; leaving a root without an owner is 409 `last_owner`."
      ))
  )
  .add(
    HttpApiEndpoint.del("removeAccess")`/v1/resources/${resourceIdPath}/accesses/${accessIdPath}`
      .addSuccess(Access)
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.LastOwner)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc(
        "Remove an access",
        "Deletes a direct access and returns it; removing a root's last owner is 409 `last_owner`."
      ))
  )
  .add(
    HttpApiEndpoint.post("move")`/v1/resources/${resourceIdPath}/move`
      .setPayload(body(
        Schema.Struct({ target_id: ResourceId, position: Schema.optional(Position), dry_run: Schema.optional(Schema.Boolean) }),
        { target_id: ex.target, position: "last-child" },
        { target_id: ex.target, position: "right", dry_run: true }
      ))
      .addSuccess(MoveResponse)
      .pipe(readsBody)
      .addError(Errors.InvalidMove)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc(
        "Move a resource",
        "Moves the resource relative to `target_id` (`position`, `last-child` by default). Leaving its scope " +
          "deletes its direct accesses and cancels its pending invites; becoming a root makes the owners it had " +
          "through its old scope its direct owners. `dry_run` reports the same and changes nothing, the resource " +
          "shown where it would go with its stored `updated_at`."
      ))
  )
  .add(
    HttpApiEndpoint.put("putShareLink")`/v1/resources/${resourceIdPath}/share-link`
      .setPayload(body(Schema.Struct({ role: LinkRole }), { role: "reader" }))
      .addSuccess(ShareLinkCreated, { status: 201 })
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.Conflict)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc(
        "Create or rotate the share link",
        "Creates the resource's share link with this role, or rotates it: the old token stops working at once. " +
          "The token is returned only in this reply. Administer rights needed."
      ))
  )
  .add(
    HttpApiEndpoint.get("showShareLink")`/v1/resources/${resourceIdPath}/share-link`
      .addSuccess(Schema.Struct({ share_link: ShareLink }))
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc("Show the share link", "The resource's active share link, without its token."))
  )
  .add(
    HttpApiEndpoint.del("disableShareLink")`/v1/resources/${resourceIdPath}/share-link`
      .addSuccess(ShareLinkDisabled)
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc(
        "Disable the share link",
        "Disables the resource's share link at once; disabling when none is active reports `disabled: false`."
      ))
  )
  // Every endpoint above: an API key or a share link. Those below name no resource a link could open.
  .middlewareEndpoints(BearerAuthentication)
  .add(
    HttpApiEndpoint.get("roots")`/v1/workspaces/${workspaceIdPath}/resources`
      .setUrlParams(strict(Schema.Struct(pageQuery(RootsCursor))))
      .addSuccess(pageOf("resources", Resource, RootsCursor))
      .addError(Errors.InvalidRequest)
      .addError(Errors.NotFound)
      .middleware(Authentication)
      .annotateContext(doc("List a workspace's roots", `The live root resources of a workspace the caller may see, ${SIBLING_ORDER} ${PAGED}`))
  )
  .add(
    HttpApiEndpoint.post("check", "/v1/check")
      .setPayload(body(
        Schema.Struct({
          checks: Schema.Array(strict(Schema.Struct({ user_id: UserId, resource_id: ResourceId, action: Action }))).pipe(
            Schema.maxItems(MAX_CHECKS)
          ),
          explain: Schema.optional(Schema.Boolean)
        }),
        { checks: [{ user_id: ex.user, resource_id: ex.resource, action: "edit" }, { user_id: ex.other, resource_id: ex.resource, action: "read" }] },
        { checks: [{ user_id: ex.other, resource_id: ex.resource, action: "edit" }], explain: true }
      ))
      .addSuccess(Schema.Struct({
        results: Schema.Array(Schema.Struct({
          allowed: Schema.Boolean,
          role: Schema.NullOr(ResourceRole),
          /** With `explain: true` only: the grants that decide `role`, or the one reason there is none. */
          because: Schema.optional(Schema.Array(AccessReason))
        }))
      }))
      .pipe(readsBody)
      .addError(Errors.Forbidden)
      .middleware(Authentication)
      .annotateContext(doc(
        "Check permissions in a batch",
        `Up to ${MAX_CHECKS} (user, resource, action) checks, answered in order with whether each is allowed and ` +
          "the user's effective role. With `explain: true` each result also carries `because`: the grants that " +
          "decide the role (`direct`, `inherited`, `workspace_admin`, `workspace_link`), or the reason for none " +
          "(`no_grant`, `not_member`, `revoked`, `user_inactive`, `not_found`); the role is the checked role. " +
          "System admins only."
      ))
  )
  .annotateContext(doc(
    "Resources",
    "Resource trees, their accesses, moves, share links and revocation, and the batch permission check. The " +
      "operations naming a resource also accept a share link's token as the bearer."
  ))
{}

// --- access: who has access, why, and what a user can reach --------------

/** Where a page of principals starts: after this role and user. */
export const PrincipalsCursor = ListCursor("principals", Schema.Struct({ role: ResourceRole, user_id: UserId }))
/** Where a page of reachable resources starts: after this resource id. */
export const ReachableCursor = ListCursor("reachable", Schema.Struct({ after: ResourceId }))

const pageLimit = param(IntegerParam(1, 1000))

/** A user with a role on a resource, and the grants that give it. */
export class ResourcePrincipalView extends Schema.Class<ResourcePrincipalView>("ResourcePrincipal")({
  user_id: UserId,
  role: ResourceRole,
  /** The decisive grants: each alone gives `role`. */
  because: Schema.Array(AccessGrant)
}) {}

/** An active share link on the resource's path: whoever presents its token gets `role`. */
export class PathShareLinkView extends Schema.Class<PathShareLinkView>("PathShareLink")({
  id: ShareLinkId,
  resource_id: ResourceId,
  role: LinkRole
}) {}

export class PrincipalsPage extends Schema.Class<PrincipalsPage>("PrincipalsPage")({
  principals: Schema.Array(ResourcePrincipalView),
  share_links: Schema.Array(PathShareLinkView),
  /** Absent on the last page. */
  next_cursor: Schema.optionalWith(PrincipalsCursor, { exact: true })
}) {}

export class ReachablePage extends Schema.Class<ReachablePage>("ReachablePage")({
  resources: Schema.Array(Resource),
  /** Absent on the last page. */
  next_cursor: Schema.optionalWith(ReachableCursor, { exact: true })
}) {}

const ReachableParams = strict(Schema.Struct({
  action: param(Action),
  workspace_id: param(WorkspaceId),
  limit: pageLimit,
  cursor: param(ReachableCursor)
}))

const reachableDescription = "Every live resource on which the user can perform `action` (`read` by default; " +
  "`comment`, `edit`, `administer` or `own`), optionally only in `workspace_id`, in id order: exactly the " +
  "resources the check would allow, computed by the store in one statement per page. `limit` is 1 to 1000 " +
  "(default 100); pass `next_cursor` as the next page's `cursor`; it is absent on the last page."

/**
 * The share panel, and what a user can reach (docs/access.md): answered by
 * the same rule as the check, never one check per user or resource. The
 * explanation of a decision is `explain: true` on the batch check.
 */
export class AccessGroup extends HttpApiGroup.make("access")
  .add(
    HttpApiEndpoint.get("principals")`/v1/resources/${resourceIdPath}/principals`
      .setUrlParams(strict(Schema.Struct({ limit: pageLimit, cursor: param(PrincipalsCursor) })))
      .addSuccess(PrincipalsPage)
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .addError(Errors.ResourceRevoked)
      .annotateContext(doc(
        "Who has access (the share panel)",
        "Every active user with an effective role on the resource, ordered by role (`owner` first) then user " +
          "id, each with the grants that give it: `direct` (an access on the resource), `inherited` (an access on " +
          "an ancestor), `workspace_admin`, `workspace_link` (the resource or an ancestor shared with the " +
          "workspace). Beside them, the active share links on the resource's path, which grant to whoever " +
          "holds their token. Administrator rights needed (a system admin may always ask); a share link's " +
          "bearer is refused (403). `limit` is 1 to 1000 (default 100); pass `next_cursor` as the next page's " +
          "`cursor`; it is absent on the last page."
      ))
  )
  .middlewareEndpoints(BearerAuthentication)
  .add(
    HttpApiEndpoint.get("myResources", "/v1/me/resources")
      .setUrlParams(ReachableParams)
      .addSuccess(ReachablePage)
      .addError(Errors.InvalidRequest)
      .middleware(Authentication)
      .annotateContext(doc("What the caller can reach", reachableDescription))
  )
  .add(
    HttpApiEndpoint.get("userResources")`/v1/users/${userIdPath}/resources`
      .setUrlParams(ReachableParams)
      .addSuccess(ReachablePage)
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .addError(Errors.NotFound)
      .middleware(Authentication)
      .annotateContext(doc("What a user can reach", `${reachableDescription} System admins, or the user themself.`))
  )
  .annotateContext(doc(
    "Access",
    "Who has access to a resource and through what, and which resources a user can reach, exactly as the " +
      "check decides. Why a user has a role is `explain: true` on the batch check."
  ))
{}

// --- events ---------------------------------------------------------------

/** Where a page of events starts: after this `seq`. */
export const EventsCursor = ListCursor("events", Schema.Int.pipe(Schema.nonNegative()))

export class EventsGroup extends HttpApiGroup.make("events")
  .add(
    HttpApiEndpoint.get("list", "/v1/events")
      .setUrlParams(strict(Schema.Struct({
        after: param(IntegerParam(0)),
        ...pageQuery(EventsCursor),
        workspace_id: param(WorkspaceId)
      })))
      .addSuccess(Schema.Struct({
        events: Schema.Array(Event),
        next_after: Schema.Int,
        next_cursor: Schema.optionalWith(EventsCursor, { exact: true })
      }))
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .annotateContext(doc(
        "List events",
        "The event log in `seq` order: the events after `after` (default 0), at most `limit` of them (1 to " +
          "1000, default 100); pass `next_cursor` as the next page's `cursor` (absent on the last page), or " +
          "`next_after` as its `after`; `cursor`, when given, is where the page starts. `workspace_id` keeps one " +
          "workspace's events. A system admin reads every event; anyone else names with `workspace_id` a workspace " +
          "they administer and reads its events."
      ))
  )
  .middleware(Authentication)
  .annotateContext(doc("Events", "The append-only log of every change, for audit and synchronisation."))
{}

/**
 * `HttpApi.make` declares the framework's own 400 (`HttpApiDecodeError`,
 * `{_tag, issues, message}`) on every operation. The server never sends it:
 * its wire format answers `invalid_request`, declared where a request has a
 * path, query or body to decode. So the contract starts from the one error
 * every operation can answer: 500 `internal_error`.
 */
const api = <const Id extends string>(identifier: Id): HttpApi.HttpApi<Id, never, Errors.Internal> =>
  Object.assign(HttpApi.make(identifier), { errorSchema: Errors.Internal }) as never

/**
 * A status answered with several codes (409 `conflict` or
 * `invite_already_redeemed`) is described by the first one only; this
 * describes it by all of them, so `/docs` lists every code beside its status.
 */
const describeEveryCode = (spec: Record<string, any>): Record<string, any> => {
  const describe = (ref: string): string => spec.components.schemas[ref.slice("#/components/schemas/".length)].description
  for (const item of Object.values<any>(spec.paths)) {
    for (const operation of Object.values<any>(item)) {
      for (const response of Object.values<any>(operation.responses ?? {})) {
        const members: ReadonlyArray<{ $ref: string }> | undefined = response.content?.["application/json"]?.schema?.anyOf
        if (members !== undefined && members.every((m) => typeof m.$ref === "string")) {
          response.description = members.map((m) => describe(m.$ref)).join("; ")
        }
      }
    }
  }
  return spec
}

export class TesseraApi extends api("tessera")
  .add(HealthGroup)
  .add(RegistrationGroup)
  .add(InvitesGroup)
  .add(UsersGroup)
  .add(WorkspacesGroup)
  .add(ResourcesGroup)
  .add(AccessGroup)
  .add(EventsGroup)
  .add(EventStreamGroup.middleware(Authentication))
  .annotateContext(OpenApi.annotations({
    title: "Tessera",
    version: "1",
    description: "A sharing and membership kernel: users, invites, workspaces, resources and their accesses. " +
      "Every error answers `{ error, message, ...details }`; see each operation for the codes it can return.",
    servers: [{ url: "/", description: "The server this document is served from" }],
    transform: describeEveryCode
  }))
{}
