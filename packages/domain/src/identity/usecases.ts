/**
 * Identity use cases: bootstrap, authentication, invites, registration,
 * users. Each reads through the ports, applies the pure rules, and performs
 * all of its writes and events inside one `Transactor.run`.
 */
import { Clock, Effect, Either, Option, Redacted } from "effect"
import { EventLog } from "../events/ports.js"
import { LastOwner, ResourceRevoked } from "../resources/errors.js"
import { ResourceStore } from "../resources/ports.js"
import { Access, allows } from "../resources/schemas.js"
import { effectiveRoleOf } from "../resources/usecases.js"
import { Crypto, toHex } from "../shared/crypto.js"
import type { NewEvent } from "../events/schemas.js"
import { newApiKeyId, newInviteId, newUserId, type InviteId, type ResourceId, type UserId } from "../shared/ids.js"
import { now, timestampOf, type Timestamp } from "../shared/time.js"
import { Transactor } from "../shared/transactor.js"
import { PersonalWorkspaceInvariantError } from "../workspaces/errors.js"
import { makePersonalWorkspace } from "../workspaces/personal.js"
import { WorkspaceStore } from "../workspaces/ports.js"
import { LastAdmin } from "../workspaces/rules.js"
import { soleAdminSeats } from "../workspaces/usecases.js"
import type { Workspace } from "../workspaces/schemas.js"
import {
  AlreadyBootstrapped,
  Conflict,
  Forbidden,
  InvalidKey,
  InviteAlreadyRedeemed,
  InviteNotFound,
  LastSystemAdmin,
  MalformedToken,
  NotFound,
  Unauthenticated,
  UserExists,
  UserNotFound
} from "./errors.js"
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
import { ed25519PublicKeyProblem, x25519PublicKeyProblem } from "./keys.js"
import { ApiKeyStore, InviteStore, UserStore } from "./ports.js"
import { type Actor, actorName, actorUserId, ApiKey, type Handle, isSystemAdmin, type Principal, type SystemRole, User } from "./schemas.js"
import { mintToken, parseToken, tokenDigest } from "./tokens.js"

const append = (at: Timestamp, events: ReadonlyArray<NewEvent>) => Effect.flatMap(EventLog, (log) => log.append(at, events))

const nowMillis = Clock.currentTimeMillis

export const requireSystemAdmin = (principal: Actor) =>
  isSystemAdmin(principal)
    ? Effect.void
    : Effect.fail(new Forbidden({ message: "this needs a system admin" }))

/** Resolves a bearer API key to its active owner. A malformed token is refused before any lookup. */
export const authenticate = Effect.fn("authenticate")(function*(presented: Redacted.Redacted<string>) {
  const token = parseToken("tsk", Redacted.value(presented))
  if (Option.isNone(token)) return yield* new Unauthenticated({ message: "malformed API key" })
  const digest = yield* tokenDigest(token.value)
  const owner = yield* Effect.flatMap(ApiKeyStore, (keys) => keys.findActiveOwner(digest))
  if (Option.isNone(owner)) return yield* new Unauthenticated({ message: "unknown or revoked API key" })
  return owner.value satisfies Principal
})

/** Creates a user with their personal workspace and one API key (no transaction of its own). */
const createUser = Effect.fn("createUser")(function*(
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
export const bootstrapAdmin = Effect.fn("bootstrapAdmin")(function*(options: {
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

const findWorkspaceTarget = Effect.fn("findWorkspaceTarget")(function*(id: string) {
  const workspace = yield* Effect.flatMap(WorkspaceStore, (ws) => ws.findById(id as Workspace["id"]))
  if (Option.isNone(workspace)) return yield* new NotFound({ what: "workspace", id })
  if (workspace.value.is_personal) {
    return yield* new PersonalWorkspaceInvariantError({ workspaceId: id, reason: "members_mutation" })
  }
  return workspace.value
})

const findResourceTarget = Effect.fn("findResourceTarget")(function*(id: string) {
  const resource = yield* Effect.flatMap(ResourceStore, (s) => s.findById(id as ResourceId))
  if (Option.isNone(resource)) return yield* new NotFound({ what: "resource", id })
  if (resource.value.revoked_at !== null) return yield* new ResourceRevoked({ resourceId: id })
  return resource.value
})

const isWorkspaceAdmin = (workspace: Workspace, userId: UserId) =>
  workspace.members.some((m) => m.user_id === userId && m.role === "admin")

/**
 * Mints an invite with fixed terms. System admins mint any invite; a
 * workspace admin mints grant invites for their workspace. Resource grants
 * need the resources area and are refused as `not_found` until it exists.
 */
export const mintInvite = Effect.fn("mintInvite")(function*(principal: Actor, terms: InviteTerms) {
  const admin = isSystemAdmin(principal)
  if (terms.kind === "registration" && !admin) {
    return yield* new Forbidden({ message: "only a system admin mints registration invites" })
  }
  if (terms.workspace_id !== undefined) {
    const workspace = yield* findWorkspaceTarget(terms.workspace_id)
    const caller = actorUserId(principal)
    if (!admin && (caller === null || !isWorkspaceAdmin(workspace, caller))) {
      return yield* new Forbidden({ message: "only an admin of the workspace mints invites for it" })
    }
  } else if (terms.resource_id !== undefined) {
    const resource = yield* findResourceTarget(terms.resource_id)
    if (terms.resource_role === "owner") {
      return yield* new Forbidden({ message: "an invite grants at most administrator; owners are granted directly" })
    }
    const caller = actorUserId(principal)
    if (!admin && (caller === null || !allows(yield* effectiveRoleOf(caller, resource.id), "administer"))) {
      return yield* new Forbidden({ message: "only an administrator of the resource mints invites for it" })
    }
  } else if (!admin) {
    return yield* new Forbidden({ message: "this needs a system admin" })
  }

  const at = yield* now
  const millis = yield* nowMillis
  const token = yield* mintToken("tsi")
  const digest = yield* tokenDigest(token)
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
    created_by: actorUserId(principal),
    redeemed_at: null,
    redeemed_by: null,
    redeemed_sign_pub: null,
    redeemed_kex_pub: null,
    canceled_at: null
  })
  yield* Transactor.run(Effect.gen(function*() {
    const invites = yield* InviteStore
    if (invite.kind === "registration" && invite.handle !== null) {
      if (Option.isSome(yield* Effect.flatMap(UserStore, (u) => u.findByHandle(invite.handle!)))) {
        return yield* new UserExists({ field: "handle", message: `handle ${invite.handle} is already registered` })
      }
      const open = yield* invites.list({ handle: invite.handle, storedStatuses: ["pending"] })
      if (open.some((other) => other.kind === "registration" && inviteState(other, millis) === "pending")) {
        return yield* new Conflict({ message: `a pending invite already holds handle ${invite.handle}` })
      }
    }
    yield* invites.insert(invite, digest)
    yield* append(at, [{
      type: "invite.minted",
      actor: actorName(principal),
      workspace_id: invite.workspace_id,
      resource_id: invite.resource_id,
      data: inviteTermsData(invite)
    }])
  }))
  return { invite, token }
})

const inviteTermsData = (invite: Invite) => ({
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

const canSeeInvite = (principal: Actor, invite: Invite) =>
  isSystemAdmin(principal) || invite.created_by === actorUserId(principal)

const loadVisibleInvite = Effect.fn("loadVisibleInvite")(function*(principal: Actor, id: InviteId) {
  const invite = yield* Effect.flatMap(InviteStore, (s) => s.findById(id))
  if (Option.isNone(invite) || !canSeeInvite(principal, invite.value)) {
    return yield* new InviteNotFound({ message: `no invite ${id}` })
  }
  return invite.value
})

/** Lists invites with their effective state; a system admin sees all, others what they minted. */
export const listInvites = Effect.fn("listInvites")(function*(principal: Actor, query: {
  readonly status?: InviteStatus | undefined
  readonly workspaceId?: string | undefined
  readonly resourceId?: string | undefined
}) {
  const millis = yield* nowMillis
  const invites = yield* Effect.flatMap(InviteStore, (s) =>
    s.list({ workspaceId: query.workspaceId, resourceId: query.resourceId }))
  return invites
    .filter((invite) => canSeeInvite(principal, invite))
    .map((invite) => withEffectiveState(invite, millis))
    .filter((invite) => query.status === undefined || invite.status === query.status)
})

export const getInvite = Effect.fn("getInvite")(function*(principal: Actor, id: InviteId) {
  const invite = yield* loadVisibleInvite(principal, id)
  return withEffectiveState(invite, yield* nowMillis)
})

/** Cancels a pending invite. Idempotent; a redeemed invite is a conflict. */
export const cancelInvite = Effect.fn("cancelInvite")(function*(principal: Actor, id: InviteId) {
  return yield* Transactor.run(Effect.gen(function*() {
    const invites = yield* InviteStore
    const invite = yield* loadVisibleInvite(principal, id)
    const millis = yield* nowMillis
    const outcome = cancelOutcome(invite, millis)
    if (outcome === "refuse") return yield* new Conflict({ message: `invite ${id} is already redeemed` })
    if (outcome === "unchanged") return withEffectiveState(invite, millis)
    const at = timestampOf(millis)
    if (!(yield* invites.markCanceled(id, at))) {
      return yield* new Conflict({ message: `invite ${id} changed while it was being canceled` })
    }
    yield* append(at, [{
      type: "invite.canceled",
      actor: actorName(principal),
      workspace_id: invite.workspace_id,
      resource_id: invite.resource_id,
      data: { invite_id: id }
    }])
    return new Invite({ ...invite, status: "canceled", canceled_at: at })
  }))
})

/**
 * Consumes an invite inside the caller's transaction: checks it is a
 * pending invite of `kind`, then flips it with a guarded write. Whoever loses
 * the race sees the winner's state.
 */
const consumeInvite = Effect.fn("consumeInvite")(function*(
  token: Redacted.Redacted<string>,
  kind: Invite["kind"],
  redemption: { by: UserId; signPub: string | null; kexPub: string | null }
) {
  const invites = yield* InviteStore
  const digest = yield* tokenDigest(token)
  const found = yield* invites.findByDigest(digest)
  if (Option.isNone(found)) return yield* new InviteNotFound({ message: "no such invite" })
  const millis = yield* nowMillis
  const invite = yield* checkRedeemable(found.value, kind, millis)
  const at = timestampOf(millis)
  if (!(yield* invites.markRedeemed(invite.id, { at, ...redemption }))) {
    const current = yield* invites.findById(invite.id)
    if (Option.isSome(current)) {
      const refusal = checkRedeemable(current.value, kind, millis)
      if (Either.isLeft(refusal)) return yield* refusal.left
    }
    return yield* new InviteAlreadyRedeemed({ inviteId: invite.id })
  }
  return { invite, at }
})

const parseInviteToken = (presented: Redacted.Redacted<string>) =>
  Option.match(parseToken("tsi", Redacted.value(presented)), {
    onNone: () => Effect.fail(new InviteNotFound({ message: "not an invite token (checksum or format is wrong)" })),
    onSome: Effect.succeed
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
export const register = Effect.fn("register")(function*(request: {
  readonly token: Redacted.Redacted<string>
  readonly signPub: string
  readonly kexPub: string
}) {
  yield* checkKeys(request.signPub, request.kexPub)
  const token = yield* parseInviteToken(request.token)
  const userId = yield* newUserId
  const apiKey = yield* mintToken("tsk")
  return yield* Transactor.run(Effect.gen(function*() {
    const { invite, at } = yield* consumeInvite(token, "registration", {
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

/** Creates what an invite grants: a workspace membership or a direct resource access. */
const applyGrant = Effect.fn("applyGrant")(function*(invite: Invite, userId: UserId) {
  if (invite.workspace_id !== null && invite.workspace_role !== null) {
    const workspace = yield* findWorkspaceTarget(invite.workspace_id)
    yield* Effect.flatMap(WorkspaceStore, (ws) => ws.addMember(workspace.id, userId, invite.workspace_role!))
    return [{
      type: "workspace.member_added",
      actor: userId,
      workspace_id: workspace.id,
      data: { user_id: userId, role: invite.workspace_role, invite_id: invite.id }
    }] as Array<NewEvent>
  }
  if (invite.resource_id !== null && invite.resource_role !== null) {
    const resource = yield* findResourceTarget(invite.resource_id)
    const access = new Access({ id: `acc_${toHex(yield* Crypto.randomBytes(16))}`, resource_id: resource.id, user_id: userId, role: invite.resource_role })
    if (!(yield* Effect.flatMap(ResourceStore, (s) => s.insertAccess(access)))) {
      return yield* new Conflict({ message: `${userId} already has a direct access on ${resource.id}` })
    }
    return [{
      type: "resource.access_granted",
      actor: userId,
      workspace_id: resource.workspace_id,
      resource_id: resource.id,
      data: { access_id: access.id, user_id: userId, role: access.role, invite_id: invite.id }
    }] as Array<NewEvent>
  }
  return [] as Array<NewEvent>
})

/** Redeems a grant invite for the authenticated caller, once. */
export const redeemInvite = Effect.fn("redeemInvite")(function*(principal: Principal, presented: Redacted.Redacted<string>) {
  const token = yield* parseInviteToken(presented)
  return yield* Transactor.run(Effect.gen(function*() {
    yield* Effect.flatMap(UserStore, (u) => u.lock(principal.user.id))
    const redeemer = yield* Effect.flatMap(UserStore, (u) => u.findById(principal.user.id))
    if (Option.isNone(redeemer) || redeemer.value.status !== "active") {
      return yield* new Unauthenticated({ message: "the redeeming user no longer exists or is revoked" })
    }
    const { invite, at } = yield* consumeInvite(token, "grant", { by: principal.user.id, signPub: null, kexPub: null })
    const grantEvents = yield* applyGrant(invite, principal.user.id)
    yield* append(at, [
      { type: "invite.redeemed", actor: principal.user.id, workspace_id: invite.workspace_id, resource_id: invite.resource_id, data: { invite_id: invite.id, kind: invite.kind, redeemed_by: principal.user.id } },
      ...grantEvents
    ])
    return new Invite({ ...invite, status: "redeemed", redeemed_at: at, redeemed_by: principal.user.id })
  }))
})

export const listUsers = Effect.fn("listUsers")(function*(principal: Actor) {
  yield* requireSystemAdmin(principal)
  return yield* Effect.flatMap(UserStore, (users) => users.list)
})

const loadUser = (id: UserId) =>
  Effect.flatMap(UserStore, (users) => users.findById(id)).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(new UserNotFound({ userId: id })),
      onSome: Effect.succeed
    }))
  )

/** A system admin sees any user; anyone sees themself. */
export const getUser = Effect.fn("getUser")(function*(principal: Actor, id: UserId) {
  if (actorUserId(principal) !== id) yield* requireSystemAdmin(principal)
  return yield* loadUser(id)
})

const guardLastSystemAdmin = Effect.fn("guardLastSystemAdmin")(function*(target: User) {
  if (target.role !== "admin" || target.status !== "active") return
  if ((yield* Effect.flatMap(UserStore, (u) => u.countActiveAdmins)) <= 1) {
    return yield* new LastSystemAdmin({ userId: target.id })
  }
})

/** Revokes a user: their credentials stop working at once, their data stays. Idempotent. */
export const revokeUser = Effect.fn("revokeUser")(function*(principal: Actor, id: UserId) {
  yield* requireSystemAdmin(principal)
  return yield* Transactor.run(Effect.gen(function*() {
    const target = yield* loadUser(id)
    if (target.status === "revoked") return target
    yield* guardLastSystemAdmin(target)
    const at = yield* now
    yield* Effect.flatMap(UserStore, (users) => users.revoke(id, at))
    yield* append(at, [{ type: "user.revoked", actor: actorName(principal), data: { user_id: id } }])
    return new User({ ...target, status: "revoked", revoked_at: at })
  }))
})

/**
 * Hard-deletes a user in one transaction: the user row, their API keys,
 * their personal workspace, their memberships elsewhere, and the pending
 * invites they minted (nothing that refers to a deleted user may still grant
 * anything). Refused with `LastAdmin` while they are the only admin of a team
 * workspace (`LastAdmin`) or the only owner of a root resource (`LastOwner`),
 * unless `transferTo` names an active user, who then takes over exactly
 * those seats in the same transaction.
 */
export const deleteUser = Effect.fn("deleteUser")(function*(
  principal: Actor,
  id: UserId,
  transferTo: Option.Option<UserId>
) {
  yield* requireSystemAdmin(principal)
  return yield* Transactor.run(Effect.gen(function*() {
    // Lock the users, then every team workspace the user is in, in id order:
    // concurrent member changes and grants wait, and then see the user gone.
    for (const lockId of [id, ...Option.toArray(transferTo)].sort()) yield* Effect.flatMap(UserStore, (u) => u.lock(lockId))
    const target = yield* loadUser(id)
    if (Option.isSome(transferTo)) {
      const heir = yield* loadUser(transferTo.value)
      if (heir.status !== "active" || heir.id === id) {
        return yield* new Conflict({ message: "transfer_to must name another active user" })
      }
    }
    yield* guardLastSystemAdmin(target)
    const at = yield* now
    const millis = yield* nowMillis
    const workspaces = yield* WorkspaceStore
    const teams = (yield* workspaces.listForUser(id)).filter((w) => !w.is_personal).map((w) => w.id).sort()
    for (const team of teams) yield* workspaces.lock(team)
    const heldSeats = yield* soleAdminSeats(id)
    if (heldSeats.length > 0) {
      if (Option.isNone(transferTo)) return yield* new LastAdmin({ workspaceIds: heldSeats.map((w) => w.id) })
      for (const seat of heldSeats) {
        const heir = transferTo.value
        if (seat.members.some((m) => m.user_id === heir)) yield* workspaces.setMemberRole(seat.id, heir, "admin")
        else yield* workspaces.addMember(seat.id, heir, "admin").pipe(Effect.orDie)
      }
      yield* append(at, heldSeats.map((seat) => ({
        type: "workspace.admin_transferred",
        actor: actorName(principal),
        workspace_id: seat.id,
        data: { from_user_id: id, to_user_id: transferTo.value }
      })))
    }
    const resources = yield* ResourceStore
    // The personal workspace goes with its owner, resources and all.
    const personal = Option.getOrUndefined(yield* workspaces.findPersonal(id))
    const soleRoots: Array<ResourceId> = []
    for (const held of (yield* resources.accessesOfUser(id)).filter((a) => a.role === "owner")) {
      const root = yield* resources.findById(held.resource_id)
      if (Option.isNone(root) || root.value.parent_id !== null || root.value.workspace_id === personal?.id) continue
      yield* resources.lock(root.value.id)
      const owners = (yield* resources.accesses([root.value.id])).filter((a) => a.role === "owner")
      if (owners.every((a) => a.user_id === id)) soleRoots.push(root.value.id)
    }
    if (soleRoots.length > 0) {
      if (Option.isNone(transferTo)) return yield* new LastOwner({ resourceIds: soleRoots })
      const heir = transferTo.value
      for (const rootId of soleRoots) {
        const existing = (yield* resources.accesses([rootId])).find((a) => a.user_id === heir)
        if (existing !== undefined) yield* resources.setAccessRole(existing.id, "owner")
        else yield* resources.insertAccess(new Access({ id: `acc_${toHex(yield* Crypto.randomBytes(16))}`, resource_id: rootId, user_id: heir, role: "owner" }))
      }
      yield* append(at, soleRoots.map((rootId) => ({
        type: "resource.owner_transferred",
        actor: actorName(principal),
        resource_id: rootId,
        data: { from_user_id: id, to_user_id: heir }
      })))
    }
    const invites = yield* InviteStore
    const minted = yield* invites.list({ createdBy: id, storedStatuses: ["pending"] })
    let invitesCanceled = 0
    for (const invite of minted) {
      if (inviteState(invite, millis) === "pending") {
        if (yield* invites.markCanceled(invite.id, at)) invitesCanceled++
      }
    }
    if (personal !== undefined) yield* resources.deleteWorkspaceResources(personal.id)
    const personalWorkspacesDeleted = yield* workspaces.deletePersonalOf(id)
    const membershipsRemoved = yield* workspaces.removeMembershipsOf(id)
    const accessesRemoved = yield* resources.deleteAccessesOfUser(id)
    const apiKeysDeleted = yield* Effect.flatMap(ApiKeyStore, (keys) => keys.deleteForUser(id))
    yield* Effect.flatMap(UserStore, (users) => users.delete(id))
    const report = {
      user_id: id,
      personal_workspaces_deleted: personalWorkspacesDeleted,
      memberships_removed: membershipsRemoved,
      accesses_removed: accessesRemoved,
      api_keys_deleted: apiKeysDeleted,
      invites_canceled: invitesCanceled
    }
    yield* append(at, [{ type: "user.deleted", actor: actorName(principal), data: { ...report, handle: target.handle } }])
    return report
  }))
})

/**
 * Finds pending invites whose expiry has passed (or cannot be read) and,
 * with `apply`, records them as expired. Idempotent: a second run finds none.
 */
export const purgeExpiredInvites = Effect.fn("purgeExpiredInvites")(function*(principal: Actor, options: {
  readonly apply: boolean
}) {
  yield* requireSystemAdmin(principal)
  const run = Effect.gen(function*() {
    const invites = yield* InviteStore
    const millis = yield* nowMillis
    const pending = yield* invites.list({ storedStatuses: ["pending"] })
    const expired = pending.filter((invite) => inviteState(invite, millis) === "expired")
    if (!options.apply || expired.length === 0) return { invites: expired, applied: false }
    const at = timestampOf(millis)
    const done: Array<Invite> = []
    for (const invite of expired) {
      if (yield* invites.markExpired(invite.id)) done.push(new Invite({ ...invite, status: "expired" }))
    }
    if (done.length > 0) {
      yield* append(at, done.map((invite) => ({
        type: "invite.expired",
        actor: actorName(principal),
        workspace_id: invite.workspace_id,
        resource_id: invite.resource_id,
        data: { invite_id: invite.id, expires_at: invite.expires_at }
      })))
    }
    return { invites: done, applied: true }
  })
  return yield* (options.apply ? Transactor.run(run) : run)
})
