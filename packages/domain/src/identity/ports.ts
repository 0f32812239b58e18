/**
 * Storage ports of the identity area. Implementations run every call inside
 * the caller's transaction when there is one; guarded writes return whether
 * they applied so the use case can tell a lost race from a success.
 */
import { Context, Effect, Option } from "effect"
import type { ApiKeyId, InviteId, UserId } from "../shared/ids.js"
import type { Timestamp } from "../shared/time.js"
import type { UserExists } from "./errors.js"
import type { Invite } from "./invites.js"
import type { ApiKey, User } from "./schemas.js"

export class UserStore extends Context.Tag("Tessera/UserStore")<UserStore, {
  /** Fails with `UserExists` when the handle or a key is taken (unique indexes). */
  readonly insert: (user: User) => Effect.Effect<void, UserExists>
  readonly findById: (id: UserId) => Effect.Effect<Option.Option<User>>
  readonly findByHandle: (handle: string) => Effect.Effect<Option.Option<User>>
  readonly list: Effect.Effect<ReadonlyArray<User>>
  readonly count: Effect.Effect<number>
  readonly countActiveAdmins: Effect.Effect<number>
  readonly revoke: (id: UserId, at: Timestamp) => Effect.Effect<void>
  /** Holds the user's row lock until the transaction ends (SQLite: the write transaction already holds the file). */
  readonly lock: (id: UserId) => Effect.Effect<void>
  readonly delete: (id: UserId) => Effect.Effect<void>
}>() {}

export class ApiKeyStore extends Context.Tag("Tessera/ApiKeyStore")<ApiKeyStore, {
  readonly insert: (key: ApiKey, digest: string) => Effect.Effect<void>
  /** The active user owning the key with this digest. */
  readonly findActiveOwner: (
    digest: string
  ) => Effect.Effect<Option.Option<{ readonly user: User; readonly apiKeyId: ApiKeyId }>>
  readonly deleteForUser: (userId: UserId) => Effect.Effect<number>
}>() {}

export interface InviteQuery {
  readonly workspaceId?: string | undefined
  readonly resourceId?: string | undefined
  readonly handle?: string | undefined
  readonly createdBy?: string | undefined
  /** Stored statuses to include; omitted means all. */
  readonly storedStatuses?: ReadonlyArray<Invite["status"]> | undefined
}

export interface Redemption {
  readonly at: Timestamp
  readonly by: UserId
  readonly signPub: string | null
  readonly kexPub: string | null
}

export class InviteStore extends Context.Tag("Tessera/InviteStore")<InviteStore, {
  readonly insert: (invite: Invite, digest: string) => Effect.Effect<void>
  readonly findById: (id: InviteId) => Effect.Effect<Option.Option<Invite>>
  readonly findByDigest: (digest: string) => Effect.Effect<Option.Option<Invite>>
  readonly list: (query: InviteQuery) => Effect.Effect<ReadonlyArray<Invite>>
  /** pending → redeemed, guarded on the stored status; `false` when someone else got there first. */
  readonly markRedeemed: (id: InviteId, redemption: Redemption) => Effect.Effect<boolean>
  /** pending → canceled, guarded; `false` when it was no longer pending. */
  readonly markCanceled: (id: InviteId, at: Timestamp) => Effect.Effect<boolean>
  /** pending → expired, guarded; `false` when it was no longer pending. */
  readonly markExpired: (id: InviteId) => Effect.Effect<boolean>
}>() {}
