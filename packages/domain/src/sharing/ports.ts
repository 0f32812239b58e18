/**
 * Storage port of invites. Writes require `InTransaction`; guarded writes
 * (`pending → …`) return whether they applied, so the use case can tell a
 * lost race from a success.
 */
import { Context, Effect, Option } from "effect"
import type { NewEvent } from "../events/schemas.js"
import type { User } from "../identity/schemas.js"
import type { Conflict } from "../shared/errors.js"
import type { InviteId, ResourceId, ShareLinkId, UserId, WorkspaceId } from "../shared/ids.js"
import type { Timestamp } from "../shared/time.js"
import type { InTransaction } from "../shared/transactor.js"
import type { Invite, InviteKind } from "./invites.js"
import type { ShareLink } from "./links.js"
import type { HeldWorkspace } from "../workspaces/ports.js"

export interface InviteQuery {
  readonly workspaceId?: string | undefined
  readonly resourceId?: string | undefined
  readonly handle?: string | undefined
  readonly createdBy?: string | undefined
  /** Stored statuses to include; omitted means all. */
  readonly storedStatuses?: ReadonlyArray<Invite["status"]> | undefined
}

/** Which invites a page of the invite list holds: all those matching every field given. */
export interface InvitePageQuery {
  readonly workspaceId?: string | undefined
  readonly resourceId?: string | undefined
  /** Only those this user minted. */
  readonly createdBy?: UserId | undefined
  /** Only those in this state at `now` (a pending invite past, or with an unreadable, expiry is expired). */
  readonly status?: Invite["status"] | undefined
  readonly now: Timestamp
}

/** Where an invite stands in the invite list's order: its creation time, then its id. */
export type InviteKey = readonly [created_at: Timestamp, id: InviteId]

export interface Redemption {
  readonly at: Timestamp
  readonly by: UserId
  readonly signPub: string | null
  readonly kexPub: string | null
}

export class InviteStore extends Context.Tag("Tessera/InviteStore")<InviteStore, {
  /**
   * Fails with `Conflict` when a pending registration invite already holds
   * the handle (a partial unique index, so concurrent mints on any store
   * leave exactly one).
   */
  readonly insert: (invite: Invite, digest: string) => Effect.Effect<void, Conflict, InTransaction>
  readonly findById: (id: InviteId) => Effect.Effect<Option.Option<Invite>>
  readonly findByDigest: (digest: string) => Effect.Effect<Option.Option<Invite>>
  readonly list: (query: InviteQuery) => Effect.Effect<ReadonlyArray<Invite>>
  /**
   * A keyset page of the invites `query` selects, in (created_at, id)
   * order: those after `after` (all when `null`), at most `limit`, with
   * their stored status.
   */
  readonly page: (query: InvitePageQuery, after: InviteKey | null, limit: number) => Effect.Effect<ReadonlyArray<Invite>>
  /**
   * pending → redeemed for the invite with this digest, in one guarded
   * write, when it is pending, of `kind`, and its expiry is a time in the
   * kernel's one form after `redemption.at` (text order is then time
   * order). The invite as it was when the write applied (pending, no
   * redemption); `None` when it did not apply, for the caller to read why.
   */
  readonly claim: (
    digest: string,
    kind: InviteKind,
    redemption: Redemption
  ) => Effect.Effect<Option.Option<Invite>, never, InTransaction>
  /**
   * `UserStore.hold` of the caller, then `claim` only if they are active,
   * in one statement where the store can (PostgreSQL): the caller's row is
   * held shared first, as every write on their behalf holds it. `actor` is
   * their row as held (`None` when they no longer exist). For a claimed
   * workspace grant with a minter, the store may hold the minter's row and
   * the workspace in the same statement, after the invite, as
   * `WorkspaceStore.holdWithMinter` would (users before workspaces, both
   * shared): `minterHeld` is then the minter as held, and the caller reads
   * the minter's role with `WorkspaceStore.readHeld`; `null` when it did
   * not (the caller holds them itself).
   */
  readonly claimAs: (
    actorId: UserId,
    digest: string,
    kind: InviteKind,
    redemption: Redemption
  ) => Effect.Effect<{
    readonly actor: Option.Option<User>
    readonly invite: Option.Option<Invite>
    readonly minterHeld: User | null
  }, never, InTransaction>
  /** pending → redeemed, guarded on the stored status; `false` when someone else got there first. */
  readonly markRedeemed: (id: InviteId, redemption: Redemption) => Effect.Effect<boolean, never, InTransaction>
  /** pending → canceled, guarded; `false` when it was no longer pending. */
  readonly markCanceled: (id: InviteId, at: Timestamp) => Effect.Effect<boolean, never, InTransaction>
  /**
   * Cancels, in one statement, every invite still pending at `at` that
   * grants membership in the workspace or an access on one of its
   * resources (the workspace is being deleted); returns their ids.
   */
  readonly cancelPendingForWorkspace: (workspaceId: WorkspaceId, at: Timestamp) => Effect.Effect<ReadonlyArray<InviteId>, never, InTransaction>
  /**
   * Cancels, in one statement, every invite still pending at `at` whose
   * resource is `rootId` or below it; returns how many.
   */
  readonly cancelPendingInSubtree: (rootId: ResourceId, at: Timestamp) => Effect.Effect<number, never, InTransaction>
  /** pending → expired, guarded; `false` when it was no longer pending. */
  readonly markExpired: (id: InviteId) => Effect.Effect<boolean, never, InTransaction>
  /** `markExpired` for many (at most `MAX_PAGE`) in one statement; returns the ids it changed. */
  readonly markExpiredAll: (ids: ReadonlyArray<InviteId>) => Effect.Effect<ReadonlyArray<InviteId>, never, InTransaction>
  /**
   * One keyset page of the invites stored as pending whose expiry is not a
   * well-formed time after `now` (as text, the way every statement compares
   * times): ids after `after` (all when `null`), in id order, at most
   * `limit` (≤ `MAX_PAGE`). A superset of the expired ones for the caller
   * to decide with `inviteState`: an expiry written in another readable
   * form is in it too.
   */
  readonly pendingExpired: (after: InviteId | null, limit: number, now: Timestamp) => Effect.Effect<ReadonlyArray<Invite>>
  /**
   * Cancels, in one statement, every invite the user minted that is still
   * pending at `at` (the user is being deleted); returns how many.
   */
  readonly cancelPendingMintedBy: (userId: UserId, at: Timestamp) => Effect.Effect<number, never, InTransaction>
}>() {}

export class ShareLinkStore extends Context.Tag("Tessera/ShareLinkStore")<ShareLinkStore, {
  /**
   * Fails with `Conflict` when the resource already has an active link (a
   * partial unique index: of two concurrent creations, one wins).
   */
  readonly insert: (link: ShareLink, digest: string) => Effect.Effect<void, Conflict, InTransaction>
  /** The resource's active link, if any. */
  readonly findActive: (resourceId: ResourceId) => Effect.Effect<Option.Option<ShareLink>>
  /** active → disabled, guarded; `false` when it was already disabled. */
  readonly disable: (id: ShareLinkId, at: Timestamp) => Effect.Effect<boolean, never, InTransaction>
  /**
   * Disables, in one statement, every active link on `rootId` or below it;
   * `own` tells whether the root's own link was among them.
   */
  readonly disableInSubtree: (
    rootId: ResourceId,
    at: Timestamp
  ) => Effect.Effect<{ readonly own: boolean; readonly total: number }, never, InTransaction>
}>() {}

/**
 * What a workspace grant's redemption found, as its transaction held it:
 * the caller, the invite the claim took (`None` when it did not apply),
 * the minter and the workspace with the minter's role in it (held shared,
 * users before workspaces), and whether the caller's membership row was
 * inserted.
 */
export interface WorkspaceGrantFacts {
  readonly actor: Option.Option<User>
  readonly invite: Option.Option<Invite>
  readonly minter: Option.Option<User>
  readonly workspace: Option.Option<HeldWorkspace>
  readonly added: boolean
}

/**
 * A store's redemption of a workspace grant outside the runtime's
 * per-statement path (docs/performance.md, "Redemption in one call (SQLite)",
 * "Redemption in one call (PostgreSQL)" and "Group commit"): what
 * `redeemInvite` does for it, with its locks — the caller held, the claim,
 * the minter and the workspace held with the minter's role, the member
 * inserted — then `decide` on what it found, at `millis`: the clock read
 * inside the transaction, once it began, which is also the claim's and the
 * events' time. Given events, they are appended and kept; given `null`,
 * what it wrote is rolled back. Redemptions that arrive together may share
 * one transaction: each is kept or rolled back on its own decision (or, on
 * PostgreSQL, all of them roll back), and none is answered as kept before
 * the commit that keeps it. `None` when it was rolled back, failed before
 * committing, or could not run (the tracer on, statements observed, a store
 * that has none of its own): the caller then takes the general path, which
 * starts afresh. Only for a caller outside any transaction.
 */
export class FastGrantRedemption extends Context.Tag("Tessera/FastGrantRedemption")<FastGrantRedemption, {
  readonly redeemWorkspaceGrant: <A>(
    actorId: UserId,
    digest: string,
    decide: (facts: WorkspaceGrantFacts, millis: number) => { readonly result: A; readonly events: ReadonlyArray<NewEvent> } | null
  ) => Effect.Effect<Option.Option<A>>
}>() {}
