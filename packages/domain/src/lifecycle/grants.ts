/**
 * Applying what an invite grants — a workspace membership or a direct
 * resource access — and redeeming a grant invite. The grant's target is
 * locked and re-read inside the redeeming transaction, so a target deleted,
 * revoked or turned personal meanwhile grants nothing.
 *
 * An invite is only as good as its minter. This is checked at redemption,
 * not cascaded when the minter loses authority: authority is lost in many
 * ways (deletion, revocation, demotion, removal, an access changed or
 * removed, a move out of scope), and one check where the grant is applied
 * covers every one of them, present and future. An invite whose minter no
 * longer holds the authority to mint it is refused as canceled
 * (`minter_lost_authority`) and grants nothing; it stays pending in the
 * store, where `purge-expired` eventually records it as expired.
 */
import { Clock, Effect, Either, Option, type Redacted } from "effect"
import { EventLog } from "../events/ports.js"
import type { NewEvent } from "../events/schemas.js"
import { UserStore } from "../identity/ports.js"
import type { Principal, User } from "../identity/schemas.js"
import { requireActiveHeld } from "../identity/usecases.js"
import { ResourceRevoked } from "../resources/errors.js"
import { effectiveRoleOf } from "../resources/policy.js"
import { ResourceStore } from "../resources/ports.js"
import { Access, allows } from "../resources/schemas.js"
import { newAccessId } from "../resources/usecases.js"
import { Conflict, NotFound } from "../shared/errors.js"
import { type Timestamp, timestampOf } from "../shared/time.js"
import { tokenDigest } from "../shared/tokens.js"
import { spanned } from "../shared/spans.js"
import { InTransaction, Transactor } from "../shared/transactor.js"
import type { UserId } from "../shared/ids.js"
import { InviteCanceled } from "../sharing/errors.js"
import { checkRedeemable, Invite } from "../sharing/invites.js"
import { FastGrantRedemption, InviteStore, type WorkspaceGrantFacts } from "../sharing/ports.js"
import { parseInviteToken, settleClaim } from "../sharing/usecases.js"
import { PersonalWorkspaceInvariantError } from "../workspaces/errors.js"
import { WorkspaceStore } from "../workspaces/ports.js"
import { AlreadyMember, type WorkspaceRole } from "../workspaces/schemas.js"

/**
 * Refuses an invite whose minter could not mint it now: a deleted or
 * revoked minter; for a registration invite, one who is no longer a system
 * admin; for a workspace grant, no longer its admin (nor a system admin); for
 * a resource grant, no longer an administrator of it. System-minted invites
 * (`created_by` null) stand. `minter` is the minter's row as this
 * transaction holds it (`null` for the system); `workspaceRole`, for a
 * workspace grant, the minter's role in the held workspace.
 */
export const requireMinterAuthority = Effect.fnUntraced(function*(
  invite: Invite,
  minter: Option.Option<User> | null,
  workspaceRole: WorkspaceRole | null = null
) {
  if (minter === null) return
  const authority = minterAuthority(invite, minter, workspaceRole)
  if (authority === true) return
  if (authority === "by resource role" && Option.isSome(minter) && invite.resource_id !== null) {
    if (allows(yield* effectiveRoleOf(minter.value.id, invite.resource_id), "administer")) return
  }
  // built only when refused: an error captures a stack trace
  return yield* new InviteCanceled({ inviteId: invite.id, reason: "minter_lost_authority" })
})

/**
 * `requireMinterAuthority`'s rules that need no read: `true` when the held
 * minter may mint `invite` now, `false` when not, and for a resource grant
 * by a minter who is not a system admin, that their role on the resource
 * decides.
 */
const minterAuthority = (
  invite: Invite,
  minter: Option.Option<User>,
  workspaceRole: WorkspaceRole | null
): boolean | "by resource role" => {
  if (Option.isNone(minter) || minter.value.status !== "active") return false
  if (minter.value.role === "admin") return true
  if (invite.kind === "registration") return false
  if (invite.workspace_id !== null) return workspaceRole === "admin"
  if (invite.resource_id !== null) return "by resource role"
  return true
}

const memberAdded = (invite: Invite, userId: UserId): NewEvent => ({
  type: "workspace.member_added",
  actor: userId,
  workspace_id: invite.workspace_id,
  data: { user_id: userId, role: invite.workspace_role, invite_id: invite.id }
})

const inviteRedeemed = (invite: Invite, by: UserId): NewEvent => ({
  type: "invite.redeemed",
  actor: by,
  workspace_id: invite.workspace_id,
  resource_id: invite.resource_id,
  data: { invite_id: invite.id, kind: invite.kind, redeemed_by: by }
})

/** The claimed invite as this redemption stored it: nothing to validate again. */
const redeemedAs = (invite: Invite, at: Timestamp, by: UserId) =>
  new Invite({ ...invite, status: "redeemed", redeemed_at: at, redeemed_by: by }, true)

/**
 * Whether a workspace grant's redemption by `by`, on what its transaction
 * found, is the plain success of `redeemInvite`: the caller active, the
 * claim applied to a grant still redeemable at `millis`, into a team
 * workspace, minted by the held minter who may still mint it, and the
 * member inserted. Then the redeemed invite and the events `redeemInvite`
 * appends for it, in its order; `null` for anything else, which the general
 * path decides and explains. The same rules as the general path, read from
 * the same functions (`checkRedeemable`, `minterAuthority`).
 */
export const plainWorkspaceGrant = (facts: WorkspaceGrantFacts, by: UserId, millis: number) => {
  if (Option.isNone(facts.actor) || facts.actor.value.status !== "active" || Option.isNone(facts.invite)) return null
  const invite = facts.invite.value
  if (invite.workspace_id === null || invite.workspace_role === null || invite.created_by === null) return null
  if (Option.isNone(facts.minter) || facts.minter.value.id !== invite.created_by) return null
  if (Option.isNone(facts.workspace) || facts.workspace.value.isPersonal || !facts.added) return null
  if (Either.isLeft(checkRedeemable(invite, "grant", millis))) return null
  if (minterAuthority(invite, facts.minter, facts.workspace.value.role) !== true) return null
  return { result: redeemedAs(invite, timestampOf(millis), by), events: [inviteRedeemed(invite, by), memberAdded(invite, by)] }
}

/** The minter's user row, held (shared) until commit; `null` for a system-minted invite. */
const holdMinter = (invite: Invite) =>
  invite.created_by === null ? Effect.succeed(null) : Effect.flatMap(UserStore, (users) => users.hold(invite.created_by!))

/**
 * Creates what an invite grants, inside the caller's transaction; returns
 * its events. Everything the grant and its minter's authority depend on is
 * locked first, in the lock order: the minter's user row (shared), then the
 * target workspace — or, for a resource, its workspace and every resource on
 * its path — so a demotion, removal, access change, move or deletion either
 * commits before (and is seen) or waits until this grant has committed.
 *
 * A workspace grant holds the minter and its workspace shared and reads
 * only the minter's role in it (`WorkspaceStore.holdWithMinter`): every writer that could take the
 * minter's authority away or delete the workspace locks it exclusively and
 * waits, while redemptions into the same workspace do not wait for each
 * other, and none reads the member list — whose length would otherwise make
 * each redemption dearer than the last. Exactly-once is the invite's guarded
 * write (`consumeInvite`), never these locks.
 */
export const applyGrant = Effect.fnUntraced(function*(invite: Invite, userId: UserId, minterHeld: User | null = null) {
  if (invite.workspace_id !== null && invite.workspace_role !== null) {
    const store = yield* WorkspaceStore
    // `minterHeld`: the claim's statement already held the minter and the workspace, so the minter's role is read
    // and the member added at once; a refusal below fails the transaction, which takes the member back
    const early = minterHeld !== null && minterHeld.id === invite.created_by
      ? yield* store.readHeldAdding(invite.workspace_id, minterHeld.id, userId, invite.workspace_role)
      : null
    // otherwise the minter's row and the workspace held together (users before workspaces), then the minter's role
    const { minter, workspace } = early !== null
      ? { minter: Option.some(minterHeld!), workspace: early.workspace }
      : invite.created_by === null
      ? { minter: null, workspace: yield* store.hold(invite.workspace_id, userId) }
      : yield* store.holdWithMinter(invite.workspace_id, invite.created_by)
    if (Option.isNone(workspace)) return yield* new NotFound({ what: "workspace", id: invite.workspace_id })
    yield* requireMinterAuthority(invite, minter, workspace.value.role)
    if (workspace.value.isPersonal) {
      return yield* new PersonalWorkspaceInvariantError({ workspaceId: invite.workspace_id, reason: "members_mutation" })
    }
    if (early === null) yield* store.addMember(invite.workspace_id, userId, invite.workspace_role)
    else if (!early.added) return yield* new AlreadyMember({ workspaceId: invite.workspace_id, userId })
    return [memberAdded(invite, userId)]
  }
  const minter = yield* holdMinter(invite)
  if (invite.resource_id !== null && invite.resource_role !== null) {
    const store = yield* ResourceStore
    const target = yield* store.findById(invite.resource_id)
    if (Option.isNone(target)) return yield* new NotFound({ what: "resource", id: invite.resource_id })
    yield* Effect.flatMap(WorkspaceStore, (s) => s.lock(target.value.workspace_id))
    for (const id of [...(yield* store.pathToRoot(invite.resource_id))].sort()) yield* store.lock(id)
    const resource = yield* store.findById(invite.resource_id)
    if (Option.isNone(resource)) return yield* new NotFound({ what: "resource", id: invite.resource_id })
    if (resource.value.revoked_at !== null) return yield* new ResourceRevoked({ resourceId: invite.resource_id })
    yield* requireMinterAuthority(invite, minter)
    const access = new Access({ id: yield* newAccessId, resource_id: resource.value.id, user_id: userId, role: invite.resource_role })
    if (!(yield* store.insertAccess(access))) {
      return yield* new Conflict({ message: `${userId} already has a direct access on ${resource.value.id}` })
    }
    return [{
      type: "resource.access_granted",
      actor: userId,
      workspace_id: resource.value.workspace_id,
      resource_id: resource.value.id,
      data: { access_id: access.id, user_id: userId, role: access.role, invite_id: invite.id }
    }] as Array<NewEvent>
  }
  yield* requireMinterAuthority(invite, minter)
  return [] as Array<NewEvent>
})

/**
 * Redeems a grant invite for the authenticated caller, once. The caller is
 * held and re-read first, as `transactAs` does for every write, in the
 * claim's own statement where the store can (`InviteStore.claimAs`): the
 * claim applies only if they are still active.
 */
export const redeemInvite = spanned("redeemInvite", function*(principal: Principal, presented: Redacted.Redacted<string>) {
  const token = yield* parseInviteToken(presented)
  // before the transaction: nothing waits on the digest holding a connection
  const digest = yield* tokenDigest(token)
  const by = principal.user.id
  // a store that redeems a workspace grant in one call does, when this is one and every rule holds; else the general path
  const fast = yield* Effect.serviceOption(FastGrantRedemption)
  if (Option.isSome(fast) && Option.isNone(yield* Effect.serviceOption(InTransaction))) {
    // the time is the store's, read inside its transaction, as the general path reads it inside its own
    const done = yield* fast.value.redeemWorkspaceGrant(by, digest, (facts, millis) => plainWorkspaceGrant(facts, by, millis))
    if (Option.isSome(done)) return done.value
  }
  return yield* Transactor.run(Effect.gen(function*() {
    const millis = yield* Clock.currentTimeMillis
    const redemption = { at: timestampOf(millis), by, signPub: null, kexPub: null }
    const claim = yield* Effect.flatMap(InviteStore, (invites) => invites.claimAs(by, digest, "grant", redemption))
    yield* requireActiveHeld(claim.actor)
    const { at, invite } = yield* settleClaim(claim.invite, digest, "grant", redemption, millis)
    // the minter held by the claim counts only for the invite it claimed
    const grantEvents = yield* applyGrant(invite, by, Option.isSome(claim.invite) ? claim.minterHeld : null)
    yield* Effect.flatMap(EventLog, (log) => log.append(at, [inviteRedeemed(invite, by), ...grantEvents]))
    return redeemedAs(invite, at, by)
  }))
})
