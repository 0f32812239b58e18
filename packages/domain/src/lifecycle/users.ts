/**
 * The flows that make and unmake a user across every area: bootstrap of
 * the first system admin, registration with an invite, and hard deletion.
 * Each runs as one transaction; deletion takes its locks in the documented
 * order (users, then workspaces, then resources) so that it never waits on
 * a writer that waits on it.
 */
import { Effect, Option, Redacted } from "effect"
import { EventLog } from "../events/ports.js"
import type { NewEvent } from "../events/schemas.js"
import { AlreadyBootstrapped, InvalidKey, MalformedToken, UserExists } from "../identity/errors.js"
import { ed25519PublicKeyProblem, x25519PublicKeyProblem } from "../identity/keys.js"
import { requireSystemAdmin } from "../identity/policy.js"
import { ApiKeyStore, UserStore } from "../identity/ports.js"
import { type Actor, actorName, ApiKey, type Handle, type SystemRole, User } from "../identity/schemas.js"
import { guardLastSystemAdmin, loadUser, transactAs } from "../identity/usecases.js"
import { LastOwner } from "../resources/errors.js"
import { ResourceStore } from "../resources/ports.js"
import { Access } from "../resources/schemas.js"
import { newAccessId } from "../resources/usecases.js"
import { Conflict } from "../shared/errors.js"
import { newApiKeyId, newUserId, type UserId } from "../shared/ids.js"
import { now, type Timestamp } from "../shared/time.js"
import { mintToken, parseToken, tokenDigest } from "../shared/tokens.js"
import { Transactor } from "../shared/transactor.js"
import { InviteStore } from "../sharing/ports.js"
import { consumeInvite, parseInviteToken } from "../sharing/usecases.js"
import { LastAdmin } from "../workspaces/errors.js"
import { makePersonalWorkspace } from "../workspaces/personal.js"
import { WorkspaceStore } from "../workspaces/ports.js"
import { soleAdminSeats } from "../workspaces/usecases.js"
import { applyGrant } from "./grants.js"
import { spanned } from "../shared/spans.js"

const append = (at: Timestamp, events: ReadonlyArray<NewEvent>) => Effect.flatMap(EventLog, (log) => log.append(at, events))

/** Creates a user with their personal workspace and one API key, inside the caller's transaction. */
const createUser = spanned("createUser", function*(
  fields: { id: UserId; handle: Handle; role: SystemRole; sign_pub: string | null; kex_pub: string | null },
  at: Timestamp,
  apiKeyToken: Redacted.Redacted<string>
) {
  const user = new User({ ...fields, status: "active", created_at: at, revoked_at: null })
  yield* Effect.flatMap(UserStore, (users) => users.insert(user))
  const workspace = yield* makePersonalWorkspace(user, at)
  const created = yield* Effect.flatMap(WorkspaceStore, (ws) => ws.insert(workspace))
  if (!created) return yield* new UserExists({ field: "store", message: "a personal workspace already exists for this user" })
  const key = new ApiKey({ id: yield* newApiKeyId, user_id: user.id, created_at: at })
  yield* Effect.flatMap(ApiKeyStore, (keys) => Effect.flatMap(tokenDigest(apiKeyToken), (d) => keys.insert(key, d)))
  return { user, workspace, apiKey: key }
})

/**
 * Creates the first system admin. With `apiKey` the admin's key is exactly
 * that (it must be a well-formed `tsk_` token); without, a fresh one is made.
 * On a store that already has a user nothing changes.
 */
export const bootstrapAdmin = spanned("bootstrapAdmin", function*(options: {
  readonly handle: Handle
  readonly apiKey: Option.Option<Redacted.Redacted<string>>
}) {
  let token: Redacted.Redacted<string>
  if (Option.isSome(options.apiKey)) {
    const parsed = parseToken("tsk", Redacted.value(options.apiKey.value))
    if (Option.isNone(parsed)) {
      return yield* new MalformedToken({ message: "the bootstrap token is not a well-formed tsk_ API key" })
    }
    token = parsed.value
  } else {
    token = yield* mintToken("tsk")
  }
  const at = yield* now
  const created = yield* Transactor.run(Effect.gen(function*() {
    const users = yield* UserStore
    if ((yield* users.count) > 0) return yield* new AlreadyBootstrapped({ message: "the store already has users" })
    const created = yield* createUser({ id: yield* newUserId, handle: options.handle, role: "admin", sign_pub: null, kex_pub: null }, at, token)
    yield* append(at, [
      { type: "user.created", actor: "system", data: { user_id: created.user.id, handle: created.user.handle, role: "admin", via: "bootstrap" } },
      { type: "workspace.created", actor: "system", workspace_id: created.workspace.id, data: { is_personal: true, owner_user_id: created.user.id } }
    ])
    return created
  }).pipe(Effect.catchTag("UserExists", () => new AlreadyBootstrapped({ message: "the store already has users" }))))
  return { user: created.user, apiKey: token }
})

const checkKeys = (signPub: string, kexPub: string) => {
  const signProblem = ed25519PublicKeyProblem(signPub)
  if (signProblem !== undefined) return Effect.fail(new InvalidKey({ field: "sign_pub", problem: signProblem }))
  const kexProblem = x25519PublicKeyProblem(kexPub)
  if (kexProblem !== undefined) return Effect.fail(new InvalidKey({ field: "kex_pub", problem: kexProblem }))
  return Effect.void
}

/**
 * Registers a new identity with a registration invite and the user's public
 * keys. Consumes the invite and creates the user, their personal workspace,
 * the invite's grant and an API key in one transaction: if any part fails
 * (for instance the handle or a key is already registered) the invite stays
 * pending.
 */
export const register = spanned("register", function*(request: {
  readonly token: Redacted.Redacted<string>
  readonly signPub: string
  readonly kexPub: string
}) {
  yield* checkKeys(request.signPub, request.kexPub)
  const token = yield* parseInviteToken(request.token)
  const digest = yield* tokenDigest(token)
  const userId = yield* newUserId
  const apiKey = yield* mintToken("tsk")
  return yield* Transactor.run(Effect.gen(function*() {
    const { at, invite } = yield* consumeInvite(digest, "registration", {
      by: userId,
      signPub: request.signPub,
      kexPub: request.kexPub
    })
    const { user, workspace } = yield* createUser(
      { id: userId, handle: invite.handle!, role: invite.role ?? "member", sign_pub: request.signPub, kex_pub: request.kexPub },
      at,
      apiKey
    )
    const grantEvents = yield* applyGrant(invite, user.id)
    yield* append(at, [
      { type: "invite.redeemed", actor: user.id, workspace_id: invite.workspace_id, data: { invite_id: invite.id, kind: invite.kind, redeemed_by: user.id } },
      { type: "user.created", actor: user.id, data: { user_id: user.id, handle: user.handle, role: user.role, via: "registration", invite_id: invite.id } },
      { type: "workspace.created", actor: "system", workspace_id: workspace.id, data: { is_personal: true, owner_user_id: user.id } },
      ...grantEvents
    ])
    return { user, apiKey, personalWorkspace: workspace }
  }))
})

export type DeleteUserReport = {
  readonly user_id: UserId
  readonly personal_workspaces_deleted: number
  readonly memberships_removed: number
  readonly accesses_removed: number
  readonly api_keys_deleted: number
  readonly invites_canceled: number
}

/**
 * Hard-deletes a user in one transaction: the user row, their API keys,
 * their personal workspace with everything in it (pending invites for its
 * resources included), their memberships and direct accesses elsewhere, and
 * the pending invites they minted (nothing
 * that refers to a deleted user may still grant anything). Refused with
 * `LastAdmin` while they are the only admin of a team workspace, or
 * `LastOwner` while the only owner of a root resource outside their personal
 * workspace, unless `transferTo` names another active user, who then takes
 * over exactly those seats in the same transaction.
 *
 * Locks: the user exclusively and the heir shared, in id order; then the
 * personal workspace and every team workspace they are in, in id order
 * (creation of a resource in the personal workspace takes the same lock);
 * then the root resources they own, in id order.
 *
 * However many grants the user holds, the owned roots are found, locked and
 * judged sole or shared in two statements, and the invites they minted are
 * canceled in one; only the seats actually passed to an heir cost a
 * statement each.
 */
export const deleteUser = spanned("deleteUser", function*(
  actor: Actor,
  id: UserId,
  transferTo: Option.Option<UserId>
) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      yield* requireSystemAdmin(actor)
      const users = yield* UserStore
      for (const lockId of [id, ...Option.toArray(transferTo)].sort()) {
        yield* (lockId === id ? users.lock(lockId) : users.hold(lockId))
      }
      const target = yield* loadUser(id)
      if (Option.isSome(transferTo)) {
        const heir = yield* loadUser(transferTo.value)
        if (heir.status !== "active" || heir.id === id) {
          return yield* new Conflict({ message: "transfer_to must name another active user" })
        }
      }
      yield* guardLastSystemAdmin(target)
      const at = yield* now
      const workspaces = yield* WorkspaceStore
      const personal = Option.getOrUndefined(yield* workspaces.findPersonal(id))
      const teams = (yield* workspaces.listForUser(id)).filter((w) => !w.is_personal).map((w) => w.id)
      for (const lockId of [...teams, ...(personal !== undefined ? [personal.id] : [])].sort()) yield* workspaces.lock(lockId)
      const resources = yield* ResourceStore
      if (personal !== undefined) yield* resources.lockWorkspaceResources(personal.id)
      const heldSeats = yield* soleAdminSeats(id)
      if (heldSeats.length > 0) {
        if (Option.isNone(transferTo)) return yield* new LastAdmin({ workspaceIds: heldSeats.map((w) => w.id) })
        const heir = transferTo.value
        for (const seat of heldSeats) {
          if (seat.members.some((m) => m.user_id === heir)) yield* workspaces.setMemberRole(seat.id, heir, "admin")
          else yield* workspaces.addMember(seat.id, heir, "admin").pipe(Effect.orDie)
        }
        yield* append(at, heldSeats.map((seat) => ({
          type: "workspace.admin_transferred",
          actor: actorName(actor),
          workspace_id: seat.id,
          data: { from_user_id: id, to_user_id: heir }
        })))
      }
      const soleRoots = (yield* resources.lockOwnedRoots(id, personal?.id ?? null)).filter((root) => root.sole).map((root) => root.id)
      if (soleRoots.length > 0) {
        if (Option.isNone(transferTo)) return yield* new LastOwner({ resourceIds: soleRoots })
        const heir = transferTo.value
        for (const rootId of soleRoots) {
          const existing = (yield* resources.accesses([rootId])).find((a) => a.user_id === heir)
          if (existing !== undefined) yield* resources.setAccessRole(existing.id, "owner")
          else yield* resources.insertAccess(new Access({ id: yield* newAccessId, resource_id: rootId, user_id: heir, role: "owner" }))
        }
        yield* append(at, soleRoots.map((rootId) => ({
          type: "resource.owner_transferred",
          actor: actorName(actor),
          resource_id: rootId,
          data: { from_user_id: id, to_user_id: heir }
        })))
      }
      const invites = yield* InviteStore
      let invitesCanceled = yield* invites.cancelPendingMintedBy(id, at)
      if (personal !== undefined) {
        invitesCanceled += (yield* invites.cancelPendingForWorkspace(personal.id, at)).length
        yield* resources.deleteWorkspaceResources(personal.id)
      }
      const personalWorkspacesDeleted = yield* workspaces.deletePersonalOf(id)
      const membershipsRemoved = yield* workspaces.removeMembershipsOf(id)
      const accessesRemoved = yield* resources.deleteAccessesOfUser(id)
      const apiKeysDeleted = yield* Effect.flatMap(ApiKeyStore, (keys) => keys.deleteForUser(id))
      yield* users.delete(id)
      const report: DeleteUserReport = {
        user_id: id,
        personal_workspaces_deleted: personalWorkspacesDeleted,
        memberships_removed: membershipsRemoved,
        accesses_removed: accessesRemoved,
        api_keys_deleted: apiKeysDeleted,
        invites_canceled: invitesCanceled
      }
      yield* append(at, [{ type: "user.deleted", actor: actorName(actor), data: { ...report, handle: target.handle } }])
      return report
    }))
})
