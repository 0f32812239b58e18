/**
 * Identity entities: users, API keys and the authenticated principal.
 * The same schemas describe stored rows and the wire format (snake_case,
 * nullable columns as `null`), so no mapping layer can drift.
 */
import { Schema } from "effect"
import { ApiKeyId, type ResourceId, type ShareLinkId, UserId } from "../shared/ids.js"
import { Timestamp } from "../shared/time.js"

/** A user's unique name; its pattern already excludes control characters. */
export const Handle = Schema.String.pipe(
  Schema.pattern(/^[a-z0-9][a-z0-9_-]{1,31}$/, {
    message: () => "a handle is 2-32 characters of a-z, 0-9, _ and -, starting with a letter or digit"
  }),
  Schema.brand("Handle"),
  Schema.annotations({ identifier: "Handle" })
)
export type Handle = typeof Handle.Type

export const SystemRole = Schema.Literal("admin", "member")
export type SystemRole = typeof SystemRole.Type

export const UserStatus = Schema.Literal("active", "revoked")
export type UserStatus = typeof UserStatus.Type

/** 32 bytes as 64 lowercase hex; curve checks live in `keys.ts`. */
export const PublicKeyHex = Schema.String.pipe(Schema.annotations({ description: "32-byte key, 64 lowercase hex" }))

export class User extends Schema.Class<User>("User")({
  id: UserId,
  handle: Handle,
  role: SystemRole,
  status: UserStatus,
  sign_pub: Schema.NullOr(Schema.String),
  kex_pub: Schema.NullOr(Schema.String),
  created_at: Timestamp,
  revoked_at: Schema.NullOr(Timestamp)
}) {}

export class ApiKey extends Schema.Class<ApiKey>("ApiKey")({
  id: ApiKeyId,
  user_id: UserId,
  created_at: Timestamp
}) {}

/** Who is calling: an active user authenticated by one of their API keys. */
export interface Principal {
  readonly user: User
  readonly apiKeyId: ApiKeyId
}

/**
 * The operator acting directly on the store (the CLI, start-up bootstrap,
 * maintenance jobs). It has a system admin's rights and is recorded as
 * `system` in events; it is never reachable over HTTP.
 */
export const SystemActor = { _tag: "System" } as const
export type SystemActor = typeof SystemActor

/**
 * Someone presenting an active share link: no account, no workspace — one
 * role (`reader` or `editor`) on one resource and its subtree. Events record
 * them as `share_link:<id>`.
 */
export interface LinkBearer {
  readonly _tag: "ShareLink"
  readonly linkId: ShareLinkId
  readonly resourceId: ResourceId
  readonly role: "reader" | "editor"
}

/** Who performs a use case: an authenticated user, a share link's bearer, or the system itself. */
export type Actor = Principal | LinkBearer | SystemActor

export const isSystem = (actor: Actor): actor is SystemActor => "_tag" in actor && actor._tag === "System"

export const isLinkBearer = (actor: Actor): actor is LinkBearer => "_tag" in actor && actor._tag === "ShareLink"

/** An authenticated user (not the system, not a link). */
export const isUser = (actor: Actor): actor is Principal => !("_tag" in actor)

/** The actor as events record it: a user id, `share_link:<id>` or `system`. */
export const actorName = (actor: Actor): string =>
  isUser(actor) ? actor.user.id : isLinkBearer(actor) ? `share_link:${actor.linkId}` : "system"

/** The acting user's id, or `null` for the system and for a link's bearer. */
export const actorUserId = (actor: Actor): UserId | null => (isUser(actor) ? actor.user.id : null)
