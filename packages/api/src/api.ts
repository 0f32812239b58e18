/**
 * The HTTP contract of Tessera v1 (SPEC §4), shared by the server and by
 * typed clients. Request schemas reject unknown fields; every failure is one
 * of the wire errors in `errors.ts`.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, HttpApiSecurity, OpenApi } from "@effect/platform"
import {
  Access,
  AccessId,
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
  SystemRole,
  User,
  UserId,
  Workspace,
  WorkspaceId,
  WorkspacePatch,
  WorkspaceRole
} from "@tessera/domain"
import { Context, Schema } from "effect"
import * as Errors from "./errors.js"

/** Strict request bodies: an unknown field is an error, not silently dropped. */
const strict = <S extends Schema.Schema.Any>(schema: S) =>
  schema.annotations({ parseOptions: { onExcessProperty: "error", errors: "all" } }) as unknown as S

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
  security: { bearer: HttpApiSecurity.bearer }
}) {}

/**
 * A resource's endpoints: an API key or a share link. What a link may do
 * there is the domain's decision (its role on its subtree; 404 elsewhere).
 * A disabled or rotated link is 401 at once.
 */
export class BearerAuthentication extends HttpApiMiddleware.Tag<BearerAuthentication>()("Tessera/BearerAuthentication", {
  failure: Errors.Unauthenticated,
  provides: CurrentActor,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

const Secret = Schema.Redacted(Schema.String)

// --- health ---------------------------------------------------------------

export class HealthGroup extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Schema.Struct({ status: Schema.Literal("ok") })))
  .add(
    HttpApiEndpoint.get("readyz", "/readyz")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ready") }))
      .addError(Errors.NotReady)
  )
{}

// --- registration (no account yet) ---------------------------------------

export const RegisterRequest = strict(Schema.Struct({
  token: Secret,
  sign_pub: Schema.String,
  kex_pub: Schema.String
}))

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
  )
{}

// --- invites --------------------------------------------------------------

export const MintInviteRequest = strict(Schema.Struct({
  kind: Schema.Literal("registration", "grant"),
  handle: Schema.optional(Handle),
  role: Schema.optional(SystemRole),
  ...GrantFields
}))

export class MintInviteResponse extends Schema.Class<MintInviteResponse>("MintInviteResponse")({
  invite: Invite,
  token: Secret
}) {}

const InviteBody = Schema.Struct({ invite: Invite })
const inviteIdPath = HttpApiSchema.param("id", InviteId)

export class InvitesGroup extends HttpApiGroup.make("invites")
  .add(
    HttpApiEndpoint.post("mint", "/v1/invites")
      .setPayload(MintInviteRequest)
      .addSuccess(MintInviteResponse, { status: 201 })
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/invites")
      .setUrlParams(strict(Schema.Struct({
        status: Schema.optional(InviteStatus),
        workspace_id: Schema.optional(WorkspaceId),
        resource_id: Schema.optional(ResourceId)
      })))
      .addSuccess(Schema.Struct({ invites: Schema.Array(Invite) }))
  )
  .add(HttpApiEndpoint.post("redeem", "/v1/invites/redeem").setPayload(strict(Schema.Struct({ token: Secret }))).addSuccess(InviteBody))
  .add(HttpApiEndpoint.get("show")`/v1/invites/${inviteIdPath}`.addSuccess(InviteBody))
  .add(HttpApiEndpoint.del("cancel")`/v1/invites/${inviteIdPath}`.addSuccess(InviteBody))
  .middleware(Authentication)
{}

// --- me and users ---------------------------------------------------------

const UserBody = Schema.Struct({ user: User })
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
  .add(HttpApiEndpoint.get("me", "/v1/me").addSuccess(UserBody))
  .add(HttpApiEndpoint.get("myWorkspace", "/v1/me/workspace").addSuccess(Workspace))
  .add(HttpApiEndpoint.get("list", "/v1/users").addSuccess(Schema.Struct({ users: Schema.Array(User) })))
  .add(HttpApiEndpoint.get("show")`/v1/users/${userIdPath}`.addSuccess(UserBody))
  .add(HttpApiEndpoint.post("revoke")`/v1/users/${userIdPath}/revoke`.addSuccess(UserBody))
  .add(
    HttpApiEndpoint.del("delete")`/v1/users/${userIdPath}`
      .setUrlParams(strict(Schema.Struct({ transfer_to: Schema.optional(UserId) })))
      .addSuccess(DeleteUserReport)
  )
  .middleware(Authentication)
{}

// --- workspaces -----------------------------------------------------------

const workspaceIdPath = HttpApiSchema.param("id", WorkspaceId)
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

export const CreateWorkspaceRequest = strict(CreateWorkspace)
export const PatchWorkspaceRequest = strict(WorkspacePatch)

export class WorkspacesGroup extends HttpApiGroup.make("workspaces")
  .add(HttpApiEndpoint.post("create", "/v1/workspaces").setPayload(CreateWorkspaceRequest).addSuccess(Workspace, { status: 201 }))
  .add(HttpApiEndpoint.get("list", "/v1/workspaces").addSuccess(Schema.Struct({ workspaces: Schema.Array(Workspace) })))
  .add(HttpApiEndpoint.get("show")`/v1/workspaces/${workspaceIdPath}`.addSuccess(Workspace))
  .add(HttpApiEndpoint.patch("update")`/v1/workspaces/${workspaceIdPath}`.setPayload(PatchWorkspaceRequest).addSuccess(Workspace))
  .add(HttpApiEndpoint.del("delete")`/v1/workspaces/${workspaceIdPath}`.addSuccess(DeleteWorkspaceReport))
  .add(
    HttpApiEndpoint.post("addMember")`/v1/workspaces/${workspaceIdPath}/members`
      .setPayload(strict(Schema.Struct({ user_id: UserId, role: WorkspaceRole })))
      .addSuccess(Member, { status: 201 })
  )
  .add(
    HttpApiEndpoint.patch("setMemberRole")`/v1/workspaces/${workspaceIdPath}/members/${memberIdPath}`
      .setPayload(strict(Schema.Struct({ role: WorkspaceRole })))
      .addSuccess(Member)
  )
  .add(
    HttpApiEndpoint.del("removeMember")`/v1/workspaces/${workspaceIdPath}/members/${memberIdPath}`
      .addSuccess(Schema.Struct({ workspace_id: WorkspaceId, user_id: UserId, removed: Schema.Literal(true) }))
  )
  .middleware(Authentication)
{}

// --- resources ------------------------------------------------------------

const resourceIdPath = HttpApiSchema.param("id", ResourceId)
const accessIdPath = HttpApiSchema.param("access_id", AccessId)

export class ResourceView extends Schema.Class<ResourceView>("ResourceView")({
  ...Resource.fields,
  effective_role: Schema.NullOr(ResourceRole)
}) {}

const Resources = Schema.Struct({ resources: Schema.Array(Resource) })

export class MoveResponse extends Schema.Class<MoveResponse>("MoveResponse")({
  resource: Resource,
  scope_changed: Schema.Boolean,
  accesses_deleted: Schema.Int,
  invites_canceled: Schema.Int,
  owners_restored: Schema.Int
}) {}

/** What revoking a resource swept (SPEC §3.7); a second revocation reports zeros. */
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
      .setPayload(strict(CreateResource))
      .addSuccess(Resource, { status: 201 })
  )
  .add(HttpApiEndpoint.get("show")`/v1/resources/${resourceIdPath}`.addSuccess(ResourceView))
  .add(HttpApiEndpoint.patch("update")`/v1/resources/${resourceIdPath}`.setPayload(strict(PatchResource)).addSuccess(ResourceView))
  .add(
    HttpApiEndpoint.del("revoke")`/v1/resources/${resourceIdPath}`
      .setUrlParams(strict(Schema.Struct({ dry_run: Schema.optional(Schema.BooleanFromString) })))
      .addSuccess(RevokeReport)
  )
  .add(HttpApiEndpoint.get("children")`/v1/resources/${resourceIdPath}/children`.addSuccess(Resources))
  .add(
    HttpApiEndpoint.get("accesses")`/v1/resources/${resourceIdPath}/accesses`
      .setUrlParams(strict(Schema.Struct({ include: Schema.optional(Schema.Literal("inherited")) })))
      .addSuccess(Schema.Struct({ accesses: Schema.Array(Access) }))
  )
  .add(
    HttpApiEndpoint.post("grant")`/v1/resources/${resourceIdPath}/accesses`
      .setPayload(strict(Schema.Struct({ user_id: UserId, role: ResourceRole })))
      .addSuccess(Access, { status: 201 })
  )
  .add(
    HttpApiEndpoint.patch("changeAccess")`/v1/resources/${resourceIdPath}/accesses/${accessIdPath}`
      .setPayload(strict(Schema.Struct({ role: ResourceRole })))
      .addSuccess(Access)
  )
  .add(HttpApiEndpoint.del("removeAccess")`/v1/resources/${resourceIdPath}/accesses/${accessIdPath}`.addSuccess(Access))
  .add(
    HttpApiEndpoint.post("move")`/v1/resources/${resourceIdPath}/move`
      .setPayload(strict(Schema.Struct({ target_id: ResourceId, position: Schema.optional(Position), dry_run: Schema.optional(Schema.Boolean) })))
      .addSuccess(MoveResponse)
  )
  .add(
    HttpApiEndpoint.put("putShareLink")`/v1/resources/${resourceIdPath}/share-link`
      .setPayload(strict(Schema.Struct({ role: LinkRole })))
      .addSuccess(ShareLinkCreated, { status: 201 })
  )
  .add(HttpApiEndpoint.get("showShareLink")`/v1/resources/${resourceIdPath}/share-link`.addSuccess(Schema.Struct({ share_link: ShareLink })))
  .add(HttpApiEndpoint.del("disableShareLink")`/v1/resources/${resourceIdPath}/share-link`.addSuccess(ShareLinkDisabled))
  // Every endpoint above: an API key or a share link. Those below name no resource a link could open.
  .middlewareEndpoints(BearerAuthentication)
  .add(HttpApiEndpoint.get("roots")`/v1/workspaces/${workspaceIdPath}/resources`.addSuccess(Resources).middleware(Authentication))
  .add(
    HttpApiEndpoint.post("check", "/v1/check")
      .setPayload(strict(Schema.Struct({
        checks: Schema.Array(strict(Schema.Struct({ user_id: UserId, resource_id: ResourceId, action: Action }))).pipe(Schema.maxItems(MAX_CHECKS))
      })))
      .addSuccess(Schema.Struct({ results: Schema.Array(Schema.Struct({ allowed: Schema.Boolean, role: Schema.NullOr(ResourceRole) })) }))
      .middleware(Authentication)
  )
{}

// --- events ---------------------------------------------------------------

export class EventsGroup extends HttpApiGroup.make("events")
  .add(
    HttpApiEndpoint.get("list", "/v1/events")
      .setUrlParams(strict(Schema.Struct({
        after: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())),
        limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000))),
        workspace_id: Schema.optional(WorkspaceId)
      })))
      .addSuccess(Schema.Struct({ events: Schema.Array(Event), next_after: Schema.Int }))
  )
  .middleware(Authentication)
{}

export class TesseraApi extends HttpApi.make("tessera")
  .add(HealthGroup)
  .add(RegistrationGroup)
  .add(InvitesGroup)
  .add(UsersGroup)
  .add(WorkspacesGroup)
  .add(ResourcesGroup)
  .add(EventsGroup)
  .addError(Errors.InvalidRequest)
  .addError(Errors.InvalidKey)
  .addError(Errors.WrongInviteKind)
  .addError(Errors.InvalidMove)
  .addError(Errors.Unauthenticated)
  .addError(Errors.Forbidden)
  .addError(Errors.NotFound)
  .addError(Errors.InviteNotFound)
  .addError(Errors.Conflict)
  .addError(Errors.Gone)
  .addError(Errors.PayloadTooLarge)
  .addError(Errors.UnsupportedMediaType)
  .addError(Errors.PersonalWorkspaceInvariant)
  .addError(Errors.Internal)
  .annotateContext(OpenApi.annotations({
    title: "Tessera",
    version: "1",
    description: "A sharing and membership kernel: users, invites, workspaces, resources and their accesses."
  }))
{}
