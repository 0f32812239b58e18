/**
 * Storage ports of the identity area. Implementations run every call inside
 * the caller's transaction when there is one; writes require it
 * (`InTransaction`). Guarded writes return whether they applied so the use
 * case can tell a lost race from a success.
 *
 * Lock order (every writer, every store): user rows first, in id order; then
 * workspace rows, in id order; then resource rows. A transaction never takes
 * a user lock after a workspace or resource lock, so two writers cannot wait
 * on each other. On SQLite a write transaction holds the whole file from its
 * first statement (`BEGIN IMMEDIATE`), so the row locks are no-ops there.
 */
import { Context, Effect, Option } from "effect"
import type { ApiKeyId, ShareLinkId, UserId } from "../shared/ids.js"
import type { Timestamp } from "../shared/time.js"
import type { InTransaction } from "../shared/transactor.js"
import type { UserExists } from "./errors.js"
import type { ApiKey, LinkBearer, User } from "./schemas.js"

export class UserStore extends Context.Tag("Tessera/UserStore")<UserStore, {
  /** Fails with `UserExists` when the handle or a key is taken (unique indexes). */
  readonly insert: (user: User) => Effect.Effect<void, UserExists, InTransaction>
  readonly findById: (id: UserId) => Effect.Effect<Option.Option<User>>
  readonly findByHandle: (handle: string) => Effect.Effect<Option.Option<User>>
  readonly list: Effect.Effect<ReadonlyArray<User>>
  /** Users with an id after `after` (all when `null`), in id order, at most `limit` (a keyset page). */
  readonly page: (after: UserId | null, limit: number) => Effect.Effect<ReadonlyArray<User>>
  readonly count: Effect.Effect<number>
  readonly countActiveAdmins: Effect.Effect<number>
  readonly revoke: (id: UserId, at: Timestamp) => Effect.Effect<void, never, InTransaction>
  /**
   * Reads the user under a shared lock held to commit: a concurrent delete
   * or revoke waits for this transaction, and this one sees theirs if they
   * committed first. Shared, so one user's requests do not queue on each other.
   */
  readonly hold: (id: UserId) => Effect.Effect<Option.Option<User>, never, InTransaction>
  /** Holds the user's row exclusively until the transaction ends (deletion). */
  readonly lock: (id: UserId) => Effect.Effect<void, never, InTransaction>
  readonly delete: (id: UserId) => Effect.Effect<void, never, InTransaction>
}>() {}

export class ApiKeyStore extends Context.Tag("Tessera/ApiKeyStore")<ApiKeyStore, {
  readonly insert: (key: ApiKey, digest: string) => Effect.Effect<void, never, InTransaction>
  /** The active user owning the key with this digest. */
  readonly findActiveOwner: (
    digest: string
  ) => Effect.Effect<Option.Option<{ readonly user: User; readonly apiKeyId: ApiKeyId }>>
  readonly deleteForUser: (userId: UserId) => Effect.Effect<number, never, InTransaction>
}>() {}

/**
 * Share links as credentials: what an active `tsl_` token resolves to.
 * (Creating, rotating and disabling links is the sharing area's port.)
 */
export class LinkCredentialStore extends Context.Tag("Tessera/LinkCredentialStore")<LinkCredentialStore, {
  /** The bearer of the active link with this digest, on a live resource. */
  readonly findActive: (digest: string) => Effect.Effect<Option.Option<LinkBearer>>
  /** Re-reads the link under a shared lock held to commit: disabling or rotating it waits for this transaction. */
  readonly hold: (id: ShareLinkId) => Effect.Effect<Option.Option<LinkBearer>, never, InTransaction>
}>() {}
