/**
 * Sharing use cases: invites (mint, list, show, cancel, purge, and the
 * consumption a redemption starts with) and share links (create or rotate,
 * show, disable). Applying what an invite grants, and revoking a resource
 * with everything handed out on it, cross areas and live in `lifecycle/`.
 */
import { Chunk, Clock, Effect, Either, Option, Redacted, Stream } from "effect"
import { EventLog } from "../events/ports.js"
import type { NewEvent } from "../events/schemas.js"
import { UserExists } from "../identity/errors.js"
import { isSystemAdmin, requireSystemAdmin } from "../identity/policy.js"
import { UserStore } from "../identity/ports.js"
import { type Actor, actorName, actorUserId } from "../identity/schemas.js"
import { transactAs } from "../identity/usecases.js"
import { loadLiveResource, requireRole } from "../resources/policy.js"
import { ResourceStore } from "../resources/ports.js"
import type { LinkRole } from "../resources/schemas.js"
import { Conflict, NotFound } from "../shared/errors.js"
import { type InviteId, newInviteId, newShareLinkId, type ResourceId, type UserId } from "../shared/ids.js"
import { now, timestampOf, type Timestamp } from "../shared/time.js"
import { clampPage, keysetPage, keysetPages, type PageRequest } from "../shared/pages.js"
import { mintToken, parseToken, tokenDigest } from "../shared/tokens.js"
import { InviteAlreadyRedeemed, InviteNotFound } from "./errors.js"
import {
  cancelOutcome,
  checkRedeemable,
  DEFAULT_TTL_SECONDS,
  Invite,
  inviteState,
  type InviteStatus,
  type InviteTerms,
  withEffectiveState
} from "./invites.js"
import { canSeeInvite, requireMintAuthority } from "./policy.js"
import { ShareLink } from "./links.js"
import { type InviteKey, InviteStore, type Redemption, ShareLinkStore } from "./ports.js"
import { spanned } from "../shared/spans.js"

const append = (at: Timestamp, events: ReadonlyArray<NewEvent>) => Effect.flatMap(EventLog, (log) => log.append(at, events))

const nowMillis = Clock.currentTimeMillis

export const inviteTermsData = (invite: Invite) => ({
  invite_id: invite.id,
  kind: invite.kind,
  handle: invite.handle,
  role: invite.role,
  workspace_id: invite.workspace_id,
  workspace_role: invite.workspace_role,
  resource_id: invite.resource_id,
  resource_role: invite.resource_role,
  expires_at: invite.expires_at
})

/**
 * A registration invite reserves its handle: the handle must be free, and
 * at most one pending registration invite may hold it (the store's partial
 * unique index decides races). A pending invite whose expiry has passed is
 * recorded as expired first, so it never blocks a new one.
 */
const reserveHandle = spanned("reserveHandle", function*(handle: string, millis: number) {
  if (Option.isSome(yield* Effect.flatMap(UserStore, (u) => u.findByHandle(handle)))) {
    return yield* new UserExists({ field: "handle", message: `handle ${handle} is already registered` })
  }
  const invites = yield* InviteStore
  const expired: Array<NewEvent> = []
  for (const other of yield* invites.list({ handle, storedStatuses: ["pending"] })) {
    if (other.kind === "registration" && inviteState(other, millis) === "expired" && (yield* invites.markExpired(other.id))) {
      expired.push({ type: "invite.expired", actor: "system", data: { invite_id: other.id, expires_at: other.expires_at } })
    }
  }
  return expired
})

/**
 * Mints an invite with fixed terms. The minter's authority over the target
 * is checked inside the transaction that inserts it, under the target's lock.
 */
export const mintInvite = spanned("mintInvite", function*(actor: Actor, terms: InviteTerms) {
  const token = yield* mintToken("tsi")
  const digest = yield* tokenDigest(token)
  const invite = yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      yield* requireMintAuthority(actor, terms)
      const millis = yield* nowMillis
      const at = timestampOf(millis)
      const invite = new Invite({
        id: yield* newInviteId,
        kind: terms.kind,
        status: "pending",
        handle: terms.kind === "registration" ? terms.handle : null,
        role: terms.kind === "registration" ? terms.role ?? "member" : null,
        workspace_id: terms.workspace_id ?? null,
        workspace_role: terms.workspace_role ?? null,
        resource_id: terms.resource_id ?? null,
        resource_role: terms.resource_role ?? null,
        expires_at: timestampOf(millis + (terms.ttl_seconds ?? DEFAULT_TTL_SECONDS) * 1000),
        created_at: at,
        created_by: actorUserId(actor),
        redeemed_at: null,
        redeemed_by: null,
        redeemed_sign_pub: null,
        redeemed_kex_pub: null,
        canceled_at: null
      })
      const expired = invite.kind === "registration" && invite.handle !== null ? yield* reserveHandle(invite.handle, millis) : []
      yield* Effect.flatMap(InviteStore, (invites) => invites.insert(invite, digest))
      yield* append(at, [...expired, {
        type: "invite.minted",
        actor: actorName(actor),
        workspace_id: invite.workspace_id,
        resource_id: invite.resource_id,
        data: inviteTermsData(invite)
      }])
      return invite
    }))
  return { invite, token }
})

const loadVisibleInvite = spanned("loadVisibleInvite", function*(actor: Actor, id: InviteId) {
  const invite = yield* Effect.flatMap(InviteStore, (s) => s.findById(id))
  if (Option.isNone(invite) || !canSeeInvite(actor, invite.value)) {
    return yield* new InviteNotFound({ message: `no invite ${id}` })
  }
  return invite.value
})

/** Lists invites with their effective state; a system admin sees all, others what they minted. */
export const listInvites = spanned("listInvites", function*(actor: Actor, query: {
  readonly status?: InviteStatus | undefined
  readonly workspaceId?: string | undefined
  readonly resourceId?: string | undefined
}) {
  const millis = yield* nowMillis
  const invites = yield* Effect.flatMap(InviteStore, (s) => s.list({ workspaceId: query.workspaceId, resourceId: query.resourceId }))
  return invites
    .filter((invite) => canSeeInvite(actor, invite))
    .map((invite) => withEffectiveState(invite, millis))
    .filter((invite) => query.status === undefined || invite.status === query.status)
})

/**
 * One page of the invites the caller may see (a system admin: all; others:
 * those they minted), in (created_at, id) order, each with its effective
 * state; `status` selects by that state, in the store, so pages are full.
 */
export const listInvitesPage = spanned("listInvitesPage", function*(actor: Actor, query: {
  readonly status?: InviteStatus | undefined
  readonly workspaceId?: string | undefined
  readonly resourceId?: string | undefined
}, request: PageRequest<InviteKey>) {
  const millis = yield* nowMillis
  const minter = isSystemAdmin(actor) ? undefined : actorUserId(actor)
  if (minter === null) return { items: [], next: undefined }
  const store = yield* InviteStore
  const page = yield* keysetPage(
    request,
    (after, limit) => store.page({ ...query, createdBy: minter, now: timestampOf(millis) }, after, limit),
    (invite): InviteKey => [invite.created_at, invite.id]
  )
  return { items: page.items.map((invite) => withEffectiveState(invite, millis)), next: page.next }
})

export const getInvite = spanned("getInvite", function*(actor: Actor, id: InviteId) {
  const invite = yield* loadVisibleInvite(actor, id)
  return withEffectiveState(invite, yield* nowMillis)
})

/** Cancels a pending invite. Idempotent; a redeemed invite is a conflict (reason `invite_already_redeemed`). */
export const cancelInvite = spanned("cancelInvite", function*(actor: Actor, id: InviteId) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const invites = yield* InviteStore
      const invite = yield* loadVisibleInvite(actor, id)
      const millis = yield* nowMillis
      const outcome = cancelOutcome(invite, millis)
      if (outcome === "refuse") {
        return yield* new Conflict({ message: `invite ${id} is already redeemed`, reason: "invite_already_redeemed" })
      }
      if (outcome === "unchanged") return withEffectiveState(invite, millis)
      const at = timestampOf(millis)
      if (!(yield* invites.markCanceled(id, at))) {
        return yield* new Conflict({ message: `invite ${id} changed while it was being canceled` })
      }
      yield* append(at, [{
        type: "invite.canceled",
        actor: actorName(actor),
        workspace_id: invite.workspace_id,
        resource_id: invite.resource_id,
        data: { invite_id: id }
      }])
      return new Invite({ ...invite, status: "canceled", canceled_at: at })
    }))
})

/**
 * Consumes an invite inside the caller's transaction: flips it pending →
 * redeemed with one guarded write that also finds it by its digest
 * (`InviteStore.claim`: pending, of `kind`, not expired). When that does not
 * apply, the invite as stored says why (not found, redeemed, canceled,
 * expired, the other kind); one the domain reads as pending although the
 * store could not compare its expiry is flipped by id, guarded again.
 * Whoever loses the race sees the winner's state. `digest` is the token's,
 * taken before the transaction so that none waits on it.
 */
export const consumeInvite = Effect.fnUntraced(function*(
  digest: string,
  kind: Invite["kind"],
  redemption: { by: UserId; signPub: string | null; kexPub: string | null }
) {
  const millis = yield* nowMillis
  const at = timestampOf(millis)
  const claimed = yield* Effect.flatMap(InviteStore, (invites) => invites.claim(digest, kind, { at, ...redemption }))
  return yield* settleClaim(claimed, digest, kind, { at, ...redemption }, millis)
})

/**
 * What `consumeInvite` does once the claim has run (`claimed`, at
 * `redemption.at`, which is `millis`): the claimed invite, or why not.
 */
export const settleClaim = Effect.fnUntraced(function*(
  claimed: Option.Option<Invite>,
  digest: string,
  kind: Invite["kind"],
  redemption: Redemption,
  millis: number
) {
  const at = redemption.at
  if (Option.isSome(claimed)) return { invite: yield* checkRedeemable(claimed.value, kind, millis), at }
  const invites = yield* InviteStore
  const found = yield* invites.findByDigest(digest)
  if (Option.isNone(found)) return yield* new InviteNotFound({ message: "no such invite" })
  const invite = yield* checkRedeemable(found.value, kind, millis)
  if (!(yield* invites.markRedeemed(invite.id, redemption))) {
    const current = yield* invites.findById(invite.id)
    if (Option.isSome(current)) {
      const refusal = checkRedeemable(current.value, kind, millis)
      if (Either.isLeft(refusal)) return yield* refusal.left
    }
    return yield* new InviteAlreadyRedeemed({ inviteId: invite.id })
  }
  return { invite, at }
})

/** A presented invite token, refused before any lookup when its format or checksum is wrong. */
export const parseInviteToken = (presented: Redacted.Redacted<string>) =>
  Option.match(parseToken("tsi", Redacted.value(presented)), {
    onNone: () => Effect.fail(new InviteNotFound({ message: "not an invite token (checksum or format is wrong)" })),
    onSome: Effect.succeed
  })

/** How the purge walk runs: `apply` writes (the default is a dry run); `pageSize` rows per keyset page. */
export interface PurgeOptions {
  readonly apply: boolean
  readonly pageSize?: number | undefined
}

/**
 * Finds pending invites whose expiry has passed (or cannot be read) at the
 * time the walk starts and, with `apply`, records them as expired. The store
 * finds them one keyset page at a time (`pendingExpired`, in invite id
 * order), so the walk holds one page whatever the store's size; with
 * `apply` each page is recorded in its own transaction by one guarded
 * write, with an event per invite. Idempotent: a second run finds none, and a
 * run stopped half-way is finished by the next.
 */
export const purgeExpiredInvitesPages = (actor: Actor, options: PurgeOptions) =>
  Stream.unwrap(Effect.gen(function*() {
    yield* requireSystemAdmin(actor)
    const invites = yield* InviteStore
    const millis = yield* nowMillis
    const at = timestampOf(millis)
    const pages = keysetPages(clampPage(options.pageSize), (after: InviteId | null, limit) => invites.pendingExpired(after, limit, at), (i) => i.id)
    return pages.pipe(
      Stream.map((page) => page.filter((invite) => inviteState(invite, millis) === "expired")),
      Stream.filter((expired) => expired.length > 0),
      Stream.mapEffect((expired) => options.apply ? expirePage(actor, expired, at) : Effect.succeed(expired))
    )
  }))

/** Records one page of expired invites in one transaction and one guarded statement; those no longer pending are left out. */
const expirePage = (actor: Actor, expired: ReadonlyArray<Invite>, at: Timestamp) =>
  transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const changed = new Set<string>(yield* Effect.flatMap(InviteStore, (invites) => invites.markExpiredAll(expired.map((i) => i.id))))
      const done = expired.filter((invite) => changed.has(invite.id)).map((invite) => new Invite({ ...invite, status: "expired" }))
      if (done.length > 0) {
        yield* append(at, done.map((invite) => ({
          type: "invite.expired",
          actor: actorName(actor),
          workspace_id: invite.workspace_id,
          resource_id: invite.resource_id,
          data: { invite_id: invite.id, expires_at: invite.expires_at }
        })))
      }
      return done
    }))

/**
 * `purgeExpiredInvitesPages` as one report (for callers that expect few
 * rows; the CLI streams the pages). `applied` tells whether anything was
 * found to record.
 */
export const purgeExpiredInvites = spanned("purgeExpiredInvites", function*(actor: Actor, options: PurgeOptions) {
  const pages = yield* Stream.runCollect(purgeExpiredInvitesPages(actor, options))
  return { invites: Chunk.toArray(pages).flat(), applied: options.apply && Chunk.size(pages) > 0 }
})

/**
 * Creates the resource's share link, or rotates it: the active one is
 * disabled and the new one inserted in the same transaction, so the old
 * token stops working when this commits. Administrators only.
 */
export const putShareLink = spanned("putShareLink", function*(actor: Actor, resourceId: ResourceId, role: LinkRole) {
  const token = yield* mintToken("tsl")
  const digest = yield* tokenDigest(token)
  const link = yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      yield* Effect.flatMap(ResourceStore, (s) => s.lock(resourceId))
      const { resource, role: mine } = yield* loadLiveResource(actor, resourceId)
      yield* requireRole(mine, "administer", "managing the share link")
      const links = yield* ShareLinkStore
      const at = yield* now
      const previous = yield* links.findActive(resourceId)
      if (Option.isSome(previous)) yield* links.disable(previous.value.id, at)
      const link = new ShareLink({
        id: yield* newShareLinkId,
        resource_id: resourceId,
        role,
        created_at: at,
        created_by: actorUserId(actor),
        disabled_at: null
      })
      yield* links.insert(link, digest)
      yield* append(at, [{
        type: Option.isSome(previous) ? "share_link.rotated" : "share_link.created",
        actor: actorName(actor),
        workspace_id: resource.workspace_id,
        resource_id: resourceId,
        data: { share_link_id: link.id, role, ...(Option.isSome(previous) ? { previous_share_link_id: previous.value.id } : {}) }
      }])
      return link
    }))
  return { link, token }
})

/** The resource's active share link (never its token), or not found. Administrators only. */
export const getShareLink = spanned("getShareLink", function*(actor: Actor, resourceId: ResourceId) {
  const { role } = yield* loadLiveResource(actor, resourceId)
  yield* requireRole(role, "administer", "reading the share link")
  const link = yield* Effect.flatMap(ShareLinkStore, (links) => links.findActive(resourceId))
  if (Option.isNone(link)) return yield* new NotFound({ what: "share link of", id: resourceId })
  return link.value
})

/** Disables the resource's share link. Idempotent: with none active, nothing changes. Administrators only. */
export const disableShareLink = spanned("disableShareLink", function*(actor: Actor, resourceId: ResourceId) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      yield* Effect.flatMap(ResourceStore, (s) => s.lock(resourceId))
      const { resource, role } = yield* loadLiveResource(actor, resourceId)
      yield* requireRole(role, "administer", "managing the share link")
      const links = yield* ShareLinkStore
      const active = yield* links.findActive(resourceId)
      if (Option.isNone(active)) return { disabled: false, share_link: null as ShareLink | null }
      const at = yield* now
      yield* links.disable(active.value.id, at)
      yield* append(at, [{
        type: "share_link.disabled",
        actor: actorName(actor),
        workspace_id: resource.workspace_id,
        resource_id: resourceId,
        data: { share_link_id: active.value.id }
      }])
      return { disabled: true, share_link: new ShareLink({ ...active.value, disabled_at: at }) as ShareLink | null }
    }))
})
