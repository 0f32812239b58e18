/**
 * The reference model of the whole kernel: users, workspaces and their
 * members, resource trees with their sibling order, direct accesses, grant
 * and registration invites, share links, revocation and deletion — as plain
 * values, with `step(model, command)` giving the next model and what a
 * caller observes. It is what the stores are compared with
 * (`docs/model.md`), so it must stay a second, independent statement of the
 * rules: pure TypeScript, no `@tessera/domain` import, no I/O, no clock.
 *
 * Entities are named by creation order (`u3` is the fourth user, the
 * bootstrap admin being `u0`), never by a store's id. Nothing is ever
 * removed from the records: a deleted entity is flagged, so that a command
 * can still refer to it (and be refused) and names stay stable.
 *
 * Left out: time (invites are minted with the default seven-day expiry and
 * a run lasts seconds, so none expires), registration invites carrying a
 * grant, workspace patches other than members, titles and kinds.
 */

export type ResourceRole = "reader" | "commenter" | "editor" | "administrator" | "owner"
export type WorkspaceRole = "admin" | "member"
export type SystemRole = "admin" | "member"
export type LinkRole = "reader" | "editor"
export type LinkReach = "restricted" | "workspace"
export type Position = "first-child" | "last-child" | "first-sibling" | "last-sibling" | "left" | "right"
export type InviteStatus = "pending" | "redeemed" | "canceled"

export const RESOURCE_ROLES: ReadonlyArray<ResourceRole> = ["reader", "commenter", "editor", "administrator", "owner"]
export const POSITIONS: ReadonlyArray<Position> = ["first-child", "last-child", "first-sibling", "last-sibling", "left", "right"]

export const roleRank = (role: ResourceRole | null): number => (role === null ? -1 : RESOURCE_ROLES.indexOf(role))
export const maxRole = (a: ResourceRole | null, b: ResourceRole | null): ResourceRole | null => (roleRank(a) >= roleRank(b) ? a : b)
export const atLeast = (role: ResourceRole | null, needed: ResourceRole): boolean => roleRank(role) >= roleRank(needed)

export interface MUser {
  readonly name: string
  readonly handle: string
  readonly role: SystemRole
  status: "active" | "revoked"
  deleted: boolean
}

export interface MMember {
  readonly user: string
  role: WorkspaceRole
}

export interface MWorkspace {
  readonly name: string
  readonly personal: boolean
  readonly owner: string | null
  members: Array<MMember>
  deleted: boolean
}

export interface MResource {
  readonly name: string
  readonly workspace: string
  parent: string | null
  revoked: boolean
  reach: LinkReach
  linkRole: LinkRole
  deleted: boolean
}

export interface MAccess {
  readonly name: string
  readonly resource: string
  readonly user: string
  role: ResourceRole
  deleted: boolean
}

export interface MInvite {
  readonly name: string
  readonly kind: "registration" | "grant"
  /** `null`: minted by the system. */
  readonly minter: string | null
  readonly workspace: string | null
  readonly workspaceRole: WorkspaceRole | null
  readonly resource: string | null
  readonly resourceRole: ResourceRole | null
  status: InviteStatus
}

export interface MLink {
  readonly name: string
  readonly resource: string
  readonly role: LinkRole
  active: boolean
  /** The row went with its workspace. */
  deleted: boolean
}

export interface Model {
  readonly users: Record<string, MUser>
  readonly workspaces: Record<string, MWorkspace>
  readonly resources: Record<string, MResource>
  /** Sibling order: `siblingKey(workspace, parent)` → names in order (revoked ones included). */
  readonly children: Record<string, Array<string>>
  readonly accesses: Record<string, MAccess>
  readonly invites: Record<string, MInvite>
  readonly links: Record<string, MLink>
}

export const siblingKey = (workspace: string, parent: string | null) => `${workspace}/${parent ?? "-"}`

/** The store right after bootstrap: the system admin `u0` and their personal workspace `w0`. */
export const initialModel = (): Model => ({
  users: { u0: { name: "u0", handle: "admin", role: "admin", status: "active", deleted: false } },
  workspaces: { w0: { name: "w0", personal: true, owner: "u0", members: [{ user: "u0", role: "admin" }], deleted: false } },
  resources: {},
  children: {},
  accesses: {},
  invites: {},
  links: {}
})

export type Command =
  | { readonly _tag: "Register"; readonly actor: string; readonly role: SystemRole }
  | { readonly _tag: "CreateTeam"; readonly actor: string }
  | { readonly _tag: "AddMember"; readonly actor: string; readonly workspace: string; readonly user: string; readonly role: WorkspaceRole }
  | { readonly _tag: "SetMemberRole"; readonly actor: string; readonly workspace: string; readonly user: string; readonly role: WorkspaceRole }
  | { readonly _tag: "RemoveMember"; readonly actor: string; readonly workspace: string; readonly user: string }
  | { readonly _tag: "CreateResource"; readonly actor: string; readonly workspace: string; readonly parent: string | null }
  | {
    readonly _tag: "Move"
    readonly actor: string
    readonly resource: string
    readonly target: string
    readonly position: Position
    readonly dryRun: boolean
  }
  | { readonly _tag: "SetLinkReach"; readonly actor: string; readonly resource: string; readonly reach: LinkReach; readonly linkRole: LinkRole }
  | { readonly _tag: "Grant"; readonly actor: string; readonly resource: string; readonly user: string; readonly role: ResourceRole }
  | { readonly _tag: "ChangeAccess"; readonly actor: string; readonly access: string; readonly role: ResourceRole }
  | { readonly _tag: "RemoveAccess"; readonly actor: string; readonly access: string }
  | {
    readonly _tag: "MintInvite"
    readonly actor: string
    readonly target:
      | { readonly workspace: string; readonly role: WorkspaceRole }
      | { readonly resource: string; readonly role: ResourceRole }
  }
  | { readonly _tag: "RedeemInvite"; readonly actor: string; readonly invite: string }
  | { readonly _tag: "CancelInvite"; readonly actor: string; readonly invite: string }
  | { readonly _tag: "PutShareLink"; readonly actor: string; readonly resource: string; readonly role: LinkRole }
  | { readonly _tag: "DisableShareLink"; readonly actor: string; readonly resource: string }
  | { readonly _tag: "RevokeResource"; readonly actor: string; readonly resource: string; readonly dryRun: boolean }
  | { readonly _tag: "DeleteWorkspace"; readonly actor: string; readonly workspace: string }
  | { readonly _tag: "DeleteUser"; readonly actor: string; readonly user: string; readonly transferTo: string | null }
  | { readonly _tag: "RevokeUser"; readonly actor: string; readonly user: string }
  | { readonly _tag: "LinkRead"; readonly link: string; readonly resource: string }
  | { readonly _tag: "LinkCreateResource"; readonly link: string; readonly workspace: string; readonly parent: string }

/**
 * What a caller sees of one command: its value (reports, with entities by
 * name) or its failure as `Tag` or `Tag(detail)` — `NotFound(resource)`,
 * `PersonalWorkspaceInvariantError(members_mutation)`, `LastOwner(r1,r4)`.
 */
export type Outcome = { readonly ok: unknown } | { readonly error: string }

/** Names the model gave to what the command created, for the runner to bind the stores' ids to. */
export interface Created {
  readonly user?: string
  readonly workspace?: string
  readonly resource?: string
  readonly invite?: string
  readonly link?: string
}

export interface StepResult {
  readonly model: Model
  readonly outcome: Outcome
  readonly created: Created
}

// ---------------------------------------------------------------------------
// Reading the model

const live = <A extends { readonly deleted: boolean }>(record: Record<string, A>): Array<A> =>
  Object.values(record).filter((a) => !a.deleted)

export const liveUsers = (m: Model) => live(m.users)
export const liveWorkspaces = (m: Model) => live(m.workspaces)
export const liveResources = (m: Model) => live(m.resources)
export const liveAccesses = (m: Model) => live(m.accesses)

const userOf = (m: Model, name: string): MUser | undefined => {
  const user = m.users[name]
  return user === undefined || user.deleted ? undefined : user
}
const workspaceOf = (m: Model, name: string): MWorkspace | undefined => {
  const workspace = m.workspaces[name]
  return workspace === undefined || workspace.deleted ? undefined : workspace
}
const resourceOf = (m: Model, name: string): MResource | undefined => {
  const resource = m.resources[name]
  return resource === undefined || resource.deleted ? undefined : resource
}

export const isActive = (m: Model, user: string) => userOf(m, user)?.status === "active"

/** An active user whose system role is admin. */
export const isSystemAdmin = (m: Model, user: string) => {
  const u = userOf(m, user)
  return u !== undefined && u.status === "active" && u.role === "admin"
}

export const memberRole = (m: Model, workspace: string, user: string): WorkspaceRole | null =>
  workspaceOf(m, workspace)?.members.find((member) => member.user === user)?.role ?? null

/** The resource and its ancestors, up to its root. */
export const pathOf = (m: Model, resource: string): Array<string> => {
  const path: Array<string> = []
  let current: string | null = resource
  while (current !== null) {
    if (path.includes(current)) throw new Error(`model: cycle at ${current}`)
    path.push(current)
    current = m.resources[current]!.parent
  }
  return path
}

/** The subtree under and including `resource`, in no particular order. */
export const subtreeOf = (m: Model, resource: string): Array<string> => {
  const all = liveResources(m)
  const out = [resource]
  for (let i = 0; i < out.length; i++) {
    for (const r of all) if (r.parent === out[i]) out.push(r.name)
  }
  return out
}

export const accessOn = (m: Model, resource: string, user: string): MAccess | undefined =>
  liveAccesses(m).find((a) => a.resource === resource && a.user === user)

/**
 * A user's effective role (docs/consistency.md, the check): the highest of
 * their direct accesses on the path, the link role where a node is shared
 * with the workspace and they are a member, `administrator` for an admin of
 * the workspace; nothing when a node on the path is revoked.
 */
const userRole = (m: Model, user: string, resource: string, ignoreRevocation = false): ResourceRole | null => {
  const res = resourceOf(m, resource)
  if (res === undefined) return null
  const path = pathOf(m, resource)
  if (!ignoreRevocation && path.some((node) => m.resources[node]!.revoked)) return null
  const workspaceRole = memberRole(m, res.workspace, user)
  let role: ResourceRole | null = null
  for (const node of path) {
    role = maxRole(role, accessOn(m, node, user)?.role ?? null)
    const n = m.resources[node]!
    if (n.reach === "workspace" && workspaceRole !== null) role = maxRole(role, n.linkRole)
  }
  if (workspaceRole === "admin") role = maxRole(role, "administrator")
  return role
}

/** The role `check` answers: nothing for a user who is not active. */
export const checkedRole = (m: Model, user: string, resource: string): ResourceRole | null =>
  isActive(m, user) ? userRole(m, user, resource) : null

/**
 * A share link's role on a resource: its own role on its resource and
 * that resource's subtree, nothing elsewhere, nothing under a revoked node.
 */
export const linkRole = (m: Model, link: string, resource: string): ResourceRole | null => {
  const l = m.links[link]!
  if (resourceOf(m, resource) === undefined) return null
  const path = pathOf(m, resource)
  if (path.some((node) => m.resources[node]!.revoked) || !path.includes(l.resource)) return null
  return l.role
}

/** A link's token authenticates while the link is active and its resource live. */
export const linkOpens = (m: Model, link: string) => {
  const l = m.links[link]!
  return l.active && !m.resources[l.resource]!.revoked
}

/** An actor's role on a resource: a system admin acts as an owner everywhere. */
export const actorRole = (m: Model, actor: string, resource: string): ResourceRole | null =>
  isSystemAdmin(m, actor) ? "owner" : userRole(m, actor, resource)

// ---------------------------------------------------------------------------
// The rules, one command at a time

class Refused {
  constructor(readonly error: string) {}
}
const refuse = (error: string): never => {
  throw new Refused(error)
}

const nextName = (prefix: string, record: Record<string, unknown>) => `${prefix}${Object.keys(record).length}`

/** Every writer runs on behalf of its actor as stored now: a deleted or revoked user is unauthenticated. */
const authenticate = (m: Model, actor: string) => {
  if (!isActive(m, actor)) refuse("Unauthenticated")
}

const canSeeWorkspace = (m: Model, actor: string, workspace: MWorkspace) =>
  isSystemAdmin(m, actor) || workspace.members.some((member) => member.user === actor)
const canAdministerWorkspace = (m: Model, actor: string, workspace: MWorkspace) =>
  isSystemAdmin(m, actor) || workspace.members.some((member) => member.user === actor && member.role === "admin")

const visibleWorkspace = (m: Model, actor: string, name: string): MWorkspace => {
  const workspace = workspaceOf(m, name)
  if (workspace === undefined || !canSeeWorkspace(m, actor, workspace)) return refuse("NotFound(workspace)")
  return workspace
}

/**
 * A resource the actor may see at all, with their role. No role is not
 * found — unless a node on its path is revoked and the actor is a member of
 * its workspace, who may know it existed.
 */
const visibleResource = (m: Model, actor: string, name: string) => {
  const resource = resourceOf(m, name)
  if (resource === undefined) return refuse("NotFound(resource)")
  const role = actorRole(m, actor, name)
  if (role === null) {
    const revoked = pathOf(m, name).some((node) => m.resources[node]!.revoked)
    if (revoked && memberRole(m, resource.workspace, actor) !== null) refuse("ResourceRevoked")
    refuse("NotFound(resource)")
  }
  return { resource, role: role! }
}

const liveResource = (m: Model, actor: string, name: string) => {
  const loaded = visibleResource(m, actor, name)
  if (loaded.resource.revoked) refuse("ResourceRevoked")
  return loaded
}

const requireRole = (role: ResourceRole | null, needed: ResourceRole) => {
  if (!atLeast(role, needed)) refuse("Forbidden")
}

const detach = (m: Model, resource: MResource) => {
  const siblings = m.children[siblingKey(resource.workspace, resource.parent)]!
  siblings.splice(siblings.indexOf(resource.name), 1)
}

const siblingsOf = (m: Model, workspace: string, parent: string | null) =>
  (m.children[siblingKey(workspace, parent)] ??= [])

const addAccess = (m: Model, resource: string, user: string, role: ResourceRole) => {
  const name = nextName("a", m.accesses)
  ;(m.accesses as Record<string, MAccess>)[name] = { name, resource, user, role, deleted: false }
  return name
}

const pendingInvites = (m: Model) => Object.values(m.invites).filter((i) => i.status === "pending")

/** Deletes a workspace's resources with their accesses and share-link rows; returns the counts. */
const deleteWorkspaceResources = (m: Model, workspace: string) => {
  let resources = 0
  let accesses = 0
  let links = 0
  for (const r of liveResources(m).filter((r) => r.workspace === workspace)) {
    for (const a of liveAccesses(m).filter((a) => a.resource === r.name)) {
      a.deleted = true
      accesses++
    }
    for (const l of Object.values(m.links).filter((l) => l.resource === r.name && !l.deleted)) {
      l.deleted = true
      l.active = false
      links++
    }
    r.deleted = true
    resources++
  }
  for (const key of Object.keys(m.children)) if (key.startsWith(`${workspace}/`)) delete m.children[key]
  return { resources, accesses, links }
}

/** Cancels the pending invites into the workspace or onto one of its resources; returns how many. */
const cancelInvitesForWorkspace = (m: Model, workspace: string) => {
  let n = 0
  for (const invite of pendingInvites(m)) {
    const onResource = invite.resource !== null && m.resources[invite.resource]!.workspace === workspace &&
      !m.resources[invite.resource]!.deleted
    if (invite.workspace === workspace || onResource) {
      invite.status = "canceled"
      n++
    }
  }
  return n
}

/**
 * An invite is only as good as its minter (docs/consistency.md): checked at
 * redemption, the minter must still be an active user who could mint it.
 */
export const minterStillAuthorised = (m: Model, invite: MInvite): boolean => {
  if (invite.minter === null) return true
  const minter = userOf(m, invite.minter)
  if (minter === undefined || minter.status !== "active") return false
  if (minter.role === "admin") return true
  if (invite.kind === "registration") return false
  if (invite.workspace !== null) return memberRole(m, invite.workspace, minter.name) === "admin"
  if (invite.resource !== null) return atLeast(userRole(m, minter.name, invite.resource), "administrator")
  return true
}

type Applied = { ok: unknown; created?: Created }
/** One step's rule, the command being of its kind (`step` looks it up by tag). */
type Step = (m: Model, command: Command) => Applied

const steps: { [K in Command["_tag"]]: (m: Model, command: Extract<Command, { _tag: K }>) => Applied } = {
  Register: (m, c) => {
    // The actor mints a registration invite, and the new user redeems it at once.
    authenticate(m, c.actor)
    if (!isSystemAdmin(m, c.actor)) refuse("Forbidden")
    const user = nextName("u", m.users)
    const workspace = nextName("w", m.workspaces)
    const invite = nextName("i", m.invites)
    ;(m.invites as Record<string, MInvite>)[invite] = {
      name: invite,
      kind: "registration",
      minter: c.actor,
      workspace: null,
      workspaceRole: null,
      resource: null,
      resourceRole: null,
      status: "redeemed"
    }
    ;(m.users as Record<string, MUser>)[user] = { name: user, handle: `m-${user}`, role: c.role, status: "active", deleted: false }
    ;(m.workspaces as Record<string, MWorkspace>)[workspace] = {
      name: workspace,
      personal: true,
      owner: user,
      members: [{ user, role: "admin" }],
      deleted: false
    }
    return { ok: { user }, created: { user, workspace, invite } }
  },

  CreateTeam: (m, c) => {
    authenticate(m, c.actor)
    const workspace = nextName("w", m.workspaces)
    ;(m.workspaces as Record<string, MWorkspace>)[workspace] = {
      name: workspace,
      personal: false,
      owner: null,
      members: [{ user: c.actor, role: "admin" }],
      deleted: false
    }
    return { ok: { workspace }, created: { workspace } }
  },

  AddMember: (m, c) => {
    authenticate(m, c.actor)
    const workspace = visibleWorkspace(m, c.actor, c.workspace)
    if (!canAdministerWorkspace(m, c.actor, workspace)) refuse("Forbidden")
    if (workspace.personal) refuse("PersonalWorkspaceInvariantError(members_mutation)")
    if (!isActive(m, c.user)) refuse("UserNotFound")
    if (workspace.members.some((member) => member.user === c.user)) refuse("AlreadyMember")
    workspace.members.push({ user: c.user, role: c.role })
    return { ok: "ok" }
  },

  SetMemberRole: (m, c) => {
    authenticate(m, c.actor)
    const workspace = visibleWorkspace(m, c.actor, c.workspace)
    if (!canAdministerWorkspace(m, c.actor, workspace)) refuse("Forbidden")
    if (workspace.personal) refuse("PersonalWorkspaceInvariantError(members_mutation)")
    const admins = workspace.members.filter((member) => member.role === "admin").map((member) => member.user)
    if (c.role !== "admin" && admins.includes(c.user) && admins.length <= 1) refuse(`LastAdmin(${c.workspace})`)
    const member = workspace.members.find((member) => member.user === c.user)
    if (member === undefined) return refuse("NotFound(member)")
    member.role = c.role
    return { ok: "ok" }
  },

  RemoveMember: (m, c) => {
    authenticate(m, c.actor)
    const workspace = visibleWorkspace(m, c.actor, c.workspace)
    // Any member may leave; removing someone else takes an admin.
    if (c.user !== c.actor && !canAdministerWorkspace(m, c.actor, workspace)) refuse("Forbidden")
    if (workspace.personal) refuse("PersonalWorkspaceInvariantError(members_mutation)")
    const admins = workspace.members.filter((member) => member.role === "admin").map((member) => member.user)
    if (admins.includes(c.user) && admins.length <= 1) refuse(`LastAdmin(${c.workspace})`)
    const index = workspace.members.findIndex((member) => member.user === c.user)
    if (index === -1) refuse("NotFound(member)")
    workspace.members.splice(index, 1)
    return { ok: "ok" }
  },

  CreateResource: (m, c) => {
    authenticate(m, c.actor)
    const workspace = workspaceOf(m, c.workspace)
    if (workspace === undefined || (c.parent === null && !canSeeWorkspace(m, c.actor, workspace))) refuse("NotFound(workspace)")
    if (c.parent !== null) {
      const parent = visibleResource(m, c.actor, c.parent)
      if (parent.resource.workspace !== c.workspace) refuse("NotFound(resource)")
      if (parent.resource.revoked) refuse("ResourceRevoked")
      requireRole(parent.role, "editor")
    }
    const resource = nextName("r", m.resources)
    ;(m.resources as Record<string, MResource>)[resource] = {
      name: resource,
      workspace: c.workspace,
      parent: c.parent,
      revoked: false,
      reach: "restricted",
      linkRole: "reader",
      deleted: false
    }
    siblingsOf(m, c.workspace, c.parent).push(resource)
    // Every live root keeps a direct owner: its creator.
    if (c.parent === null) addAccess(m, resource, c.actor, "owner")
    return { ok: { resource }, created: { resource } }
  },

  Move: (m, c) => {
    authenticate(m, c.actor)
    const { resource, role } = liveResource(m, c.actor, c.resource)
    // The target as the actor may know it: not seen at all is not found.
    const target = resourceOf(m, c.target)
    if (target === undefined) return refuse("NotFound(resource)")
    if (actorRole(m, c.actor, c.target) === null) {
      const mayKnow = memberRole(m, target.workspace, c.actor) !== null &&
        pathOf(m, c.target).some((node) => m.resources[node]!.revoked)
      if (!mayKnow) refuse("NotFound(resource)")
    }
    if (target.workspace !== resource.workspace) refuse("InvalidMove")
    if (target.revoked) refuse("InvalidMove")
    const resourcePath = pathOf(m, c.resource)
    const targetPath = pathOf(m, c.target)
    if (c.resource === c.target) refuse("InvalidMove")
    if (targetPath.includes(c.resource)) refuse("InvalidMove")
    requireRole(role, "administrator")
    const asChild = c.position === "first-child" || c.position === "last-child"
    const newParent = asChild ? c.target : (targetPath[1] ?? null)
    if (newParent !== null) {
      const parentRole = actorRole(m, c.actor, newParent)
      if (parentRole === null) refuse("NotFound(resource)")
      requireRole(parentRole, "administrator")
    } else if (!isSystemAdmin(m, c.actor) && memberRole(m, resource.workspace, c.actor) === null) {
      refuse("Forbidden")
    }
    const rootBefore = resourcePath[resourcePath.length - 1]!
    const rootAfter = newParent === null ? c.resource : targetPath[targetPath.length - 1]!
    const wasRoot = resourcePath.length === 1
    const becomesRoot = newParent === null
    // A move leaves its permission scope when it was or becomes a root, or changes tree.
    const scopeChanged = wasRoot || becomesRoot || rootBefore !== rootAfter
    const direct = scopeChanged ? liveAccesses(m).filter((a) => a.resource === c.resource) : []
    const pending = scopeChanged ? pendingInvites(m).filter((i) => i.resource === c.resource) : []
    const owners = scopeChanged && becomesRoot
      ? [...new Set(liveAccesses(m).filter((a) => resourcePath.includes(a.resource) && a.role === "owner").map((a) => a.user))]
      : []
    const report = {
      parent: newParent,
      scope_changed: scopeChanged,
      accesses_deleted: direct.length,
      invites_canceled: pending.length,
      owners_restored: owners.length
    }
    if (c.dryRun) return { ok: report }
    detach(m, resource)
    resource.parent = newParent
    const siblings = siblingsOf(m, resource.workspace, newParent)
    const index = c.position === "first-child" || c.position === "first-sibling" ? 0
      : c.position === "left" ? siblings.indexOf(c.target)
      : c.position === "right" ? siblings.indexOf(c.target) + 1
      : siblings.length
    siblings.splice(index, 0, c.resource)
    if (scopeChanged) {
      for (const a of direct) a.deleted = true
      for (const i of pending) i.status = "canceled"
      for (const owner of owners) addAccess(m, c.resource, owner, "owner")
    }
    return { ok: report }
  },

  SetLinkReach: (m, c) => {
    authenticate(m, c.actor)
    const { resource, role } = liveResource(m, c.actor, c.resource)
    requireRole(role, "administrator")
    resource.reach = c.reach
    resource.linkRole = c.linkRole
    return { ok: "ok" }
  },

  Grant: (m, c) => {
    authenticate(m, c.actor)
    const { role } = liveResource(m, c.actor, c.resource)
    requireRole(role, c.role === "owner" ? "owner" : "administrator")
    if (!isActive(m, c.user)) refuse("UserNotFound")
    if (accessOn(m, c.resource, c.user) !== undefined) refuse("Conflict")
    addAccess(m, c.resource, c.user, c.role)
    return { ok: "ok" }
  },

  ChangeAccess: (m, c) => {
    authenticate(m, c.actor)
    const access = m.accesses[c.access]!
    const { resource, role } = visibleResource(m, c.actor, access.resource)
    if (access.deleted) refuse("NotFound(access)")
    requireRole(role, c.role === "owner" || access.role === "owner" ? "owner" : "administrator")
    if (c.role !== "owner") guardLastOwner(m, resource, access)
    access.role = c.role
    return { ok: "ok" }
  },

  RemoveAccess: (m, c) => {
    authenticate(m, c.actor)
    const access = m.accesses[c.access]!
    const { resource, role } = visibleResource(m, c.actor, access.resource)
    if (access.deleted) refuse("NotFound(access)")
    requireRole(role, access.role === "owner" ? "owner" : "administrator")
    guardLastOwner(m, resource, access)
    access.deleted = true
    return { ok: "ok" }
  },

  MintInvite: (m, c) => {
    authenticate(m, c.actor)
    if ("workspace" in c.target) {
      const workspace = workspaceOf(m, c.target.workspace)
      if (workspace === undefined || !canSeeWorkspace(m, c.actor, workspace)) refuse("NotFound(workspace)")
      if (workspace!.personal) refuse("PersonalWorkspaceInvariantError(members_mutation)")
      if (!canAdministerWorkspace(m, c.actor, workspace!)) refuse("Forbidden")
    } else {
      const { resource, role } = visibleResource(m, c.actor, c.target.resource)
      if (resource.revoked) refuse("ResourceRevoked")
      requireRole(role, "administrator")
      if (c.target.role === "owner") refuse("Forbidden")
    }
    const invite = nextName("i", m.invites)
    ;(m.invites as Record<string, MInvite>)[invite] = {
      name: invite,
      kind: "grant",
      minter: c.actor,
      workspace: "workspace" in c.target ? c.target.workspace : null,
      workspaceRole: "workspace" in c.target ? c.target.role : null,
      resource: "resource" in c.target ? c.target.resource : null,
      resourceRole: "resource" in c.target ? c.target.role : null,
      status: "pending"
    }
    return { ok: { invite }, created: { invite } }
  },

  RedeemInvite: (m, c) => {
    authenticate(m, c.actor)
    const invite = m.invites[c.invite]!
    if (invite.status === "redeemed") refuse("InviteAlreadyRedeemed")
    if (invite.status === "canceled") refuse("InviteCanceled")
    if (invite.kind !== "grant") refuse("WrongInviteKind")
    if (invite.workspace !== null) {
      const workspace = workspaceOf(m, invite.workspace)
      if (workspace === undefined) return refuse("NotFound(workspace)")
      if (!minterStillAuthorised(m, invite)) refuse("InviteCanceled(minter_lost_authority)")
      if (workspace.members.some((member) => member.user === c.actor)) refuse("AlreadyMember")
      workspace.members.push({ user: c.actor, role: invite.workspaceRole! })
    } else {
      const resource = resourceOf(m, invite.resource!)
      if (resource === undefined) return refuse("NotFound(resource)")
      if (resource.revoked) refuse("ResourceRevoked")
      if (!minterStillAuthorised(m, invite)) refuse("InviteCanceled(minter_lost_authority)")
      if (accessOn(m, resource.name, c.actor) !== undefined) refuse("Conflict")
      addAccess(m, resource.name, c.actor, invite.resourceRole!)
    }
    invite.status = "redeemed"
    return { ok: "ok" }
  },

  CancelInvite: (m, c) => {
    authenticate(m, c.actor)
    const invite = m.invites[c.invite]!
    if (!isSystemAdmin(m, c.actor) && invite.minter !== c.actor) refuse("InviteNotFound")
    if (invite.status === "redeemed") refuse("Conflict")
    invite.status = "canceled"
    return { ok: { status: "canceled" } }
  },

  PutShareLink: (m, c) => {
    authenticate(m, c.actor)
    const { role } = liveResource(m, c.actor, c.resource)
    requireRole(role, "administrator")
    const previous = Object.values(m.links).find((l) => l.resource === c.resource && l.active)
    if (previous !== undefined) previous.active = false
    const link = nextName("l", m.links)
    ;(m.links as Record<string, MLink>)[link] = { name: link, resource: c.resource, role: c.role, active: true, deleted: false }
    return { ok: "ok", created: { link } }
  },

  DisableShareLink: (m, c) => {
    authenticate(m, c.actor)
    const { role } = liveResource(m, c.actor, c.resource)
    requireRole(role, "administrator")
    const active = Object.values(m.links).find((l) => l.resource === c.resource && l.active)
    if (active === undefined) return { ok: { disabled: false } }
    active.active = false
    return { ok: { disabled: true } }
  },

  RevokeResource: (m, c) => {
    authenticate(m, c.actor)
    if (resourceOf(m, c.resource) === undefined) refuse("NotFound(resource)")
    // Revoking again needs the owner rights revoking took the first time.
    const role = isSystemAdmin(m, c.actor) ? "owner" : userRole(m, c.actor, c.resource, true)
    if (role === null) refuse("NotFound(resource)")
    requireRole(role, "owner")
    const subtree = subtreeOf(m, c.resource)
    const revoked = subtree.filter((r) => !m.resources[r]!.revoked)
    const invites = pendingInvites(m).filter((i) => i.resource !== null && subtree.includes(i.resource))
    const links = Object.values(m.links).filter((l) => l.active && subtree.includes(l.resource))
    const report = {
      revoked: true,
      descendants_revoked: revoked.filter((r) => r !== c.resource).length,
      invites_revoked: invites.length,
      share_link_disabled: links.some((l) => l.resource === c.resource),
      share_links_disabled: links.length
    }
    if (c.dryRun) return { ok: report }
    for (const r of revoked) m.resources[r]!.revoked = true
    for (const i of invites) i.status = "canceled"
    for (const l of links) l.active = false
    return { ok: report }
  },

  DeleteWorkspace: (m, c) => {
    authenticate(m, c.actor)
    const workspace = visibleWorkspace(m, c.actor, c.workspace)
    if (workspace.personal) refuse("PersonalWorkspaceInvariantError(personal_workspace_delete)")
    if (!canAdministerWorkspace(m, c.actor, workspace)) refuse("Forbidden")
    const invites = cancelInvitesForWorkspace(m, c.workspace)
    const deleted = deleteWorkspaceResources(m, c.workspace)
    const members = workspace.members.length
    workspace.members = []
    workspace.deleted = true
    return {
      ok: {
        deleted: true,
        members_removed: members,
        resources_deleted: deleted.resources,
        accesses_deleted: deleted.accesses,
        share_links_deleted: deleted.links,
        invites_canceled: invites
      }
    }
  },

  DeleteUser: (m, c) => {
    authenticate(m, c.actor)
    if (!isSystemAdmin(m, c.actor)) refuse("Forbidden")
    const target = userOf(m, c.user)
    if (target === undefined) return refuse("UserNotFound")
    if (c.transferTo !== null) {
      const heir = userOf(m, c.transferTo)
      if (heir === undefined) refuse("UserNotFound")
      if (heir!.status !== "active" || heir!.name === c.user) refuse("Conflict")
    }
    guardLastSystemAdmin(m, target)
    const personal = liveWorkspaces(m).find((w) => w.personal && w.owner === c.user)
    const teams = liveWorkspaces(m).filter((w) => !w.personal && w.members.some((member) => member.user === c.user))
    const seats = teams.filter((w) => {
      const admins = w.members.filter((member) => member.role === "admin").map((member) => member.user)
      return admins.includes(c.user) && admins.every((u) => u === c.user)
    })
    if (seats.length > 0) {
      if (c.transferTo === null) refuse(`LastAdmin(${seats.map((w) => w.name).sort().join(",")})`)
      for (const seat of seats) {
        const member = seat.members.find((member) => member.user === c.transferTo)
        if (member !== undefined) member.role = "admin"
        else seat.members.push({ user: c.transferTo!, role: "admin" })
      }
    }
    // Roots owned outside the personal workspace, revoked ones included.
    const soleRoots = liveAccesses(m)
      .filter((a) => a.user === c.user && a.role === "owner")
      .map((a) => m.resources[a.resource]!)
      .filter((r) => r.parent === null && r.workspace !== personal?.name)
      .filter((r) => !liveAccesses(m).some((a) => a.resource === r.name && a.role === "owner" && a.user !== c.user))
      .map((r) => r.name)
    if (soleRoots.length > 0) {
      if (c.transferTo === null) refuse(`LastOwner(${[...soleRoots].sort().join(",")})`)
      for (const root of soleRoots) {
        const existing = accessOn(m, root, c.transferTo!)
        if (existing !== undefined) existing.role = "owner"
        else addAccess(m, root, c.transferTo!, "owner")
      }
    }
    let invites = 0
    for (const invite of pendingInvites(m)) {
      if (invite.minter === c.user) {
        invite.status = "canceled"
        invites++
      }
    }
    if (personal !== undefined) {
      invites += cancelInvitesForWorkspace(m, personal.name)
      deleteWorkspaceResources(m, personal.name)
      personal.members = []
      personal.deleted = true
    }
    let memberships = 0
    for (const w of liveWorkspaces(m)) {
      const index = w.members.findIndex((member) => member.user === c.user)
      if (index !== -1) {
        w.members.splice(index, 1)
        memberships++
      }
    }
    let accesses = 0
    for (const a of liveAccesses(m).filter((a) => a.user === c.user)) {
      a.deleted = true
      accesses++
    }
    target.deleted = true
    return {
      ok: {
        personal_workspaces_deleted: personal === undefined ? 0 : 1,
        memberships_removed: memberships,
        accesses_removed: accesses,
        api_keys_deleted: 1,
        invites_canceled: invites
      }
    }
  },

  LinkRead: (m, c) => {
    if (!linkOpens(m, c.link)) refuse("Unauthenticated")
    if (resourceOf(m, c.resource) === undefined) refuse("NotFound(resource)")
    const role = linkRole(m, c.link, c.resource)
    // A link's bearer is a member of nothing: what it has no role on is not found.
    if (role === null) refuse("NotFound(resource)")
    return { ok: { role } }
  },

  LinkCreateResource: (m, c) => {
    if (!linkOpens(m, c.link)) refuse("Unauthenticated")
    if (workspaceOf(m, c.workspace) === undefined) refuse("NotFound(workspace)")
    const parent = resourceOf(m, c.parent)
    if (parent === undefined) return refuse("NotFound(resource)")
    const role = linkRole(m, c.link, c.parent)
    if (role === null) refuse("NotFound(resource)")
    requireRole(role, "editor")
    // A child, so no owner: a link's bearer is no one.
    const resource = nextName("r", m.resources)
    ;(m.resources as Record<string, MResource>)[resource] = {
      name: resource,
      workspace: parent.workspace,
      parent: c.parent,
      revoked: false,
      reach: "restricted",
      linkRole: "reader",
      deleted: false
    }
    siblingsOf(m, parent.workspace, c.parent).push(resource)
    return { ok: { resource }, created: { resource } }
  },

  RevokeUser: (m, c) => {
    authenticate(m, c.actor)
    if (!isSystemAdmin(m, c.actor)) refuse("Forbidden")
    const target = userOf(m, c.user)
    if (target === undefined) return refuse("UserNotFound")
    if (target.status === "revoked") return { ok: { status: "revoked" } }
    guardLastSystemAdmin(m, target)
    target.status = "revoked"
    return { ok: { status: "revoked" } }
  }
}

/** A root keeps at least one direct owner. */
const guardLastOwner = (m: Model, resource: MResource, leaving: MAccess) => {
  if (resource.parent !== null || leaving.role !== "owner") return
  const owners = liveAccesses(m).filter((a) => a.resource === resource.name && a.role === "owner")
  if (owners.every((a) => a.name === leaving.name)) refuse(`LastOwner(${resource.name})`)
}

/** The last active system admin can be neither revoked nor deleted. */
const guardLastSystemAdmin = (m: Model, target: MUser) => {
  if (target.role !== "admin" || target.status !== "active") return
  if (liveUsers(m).filter((u) => u.role === "admin" && u.status === "active").length <= 1) refuse("LastSystemAdmin")
}

/**
 * Applies one command. A refused command changes nothing (each use case is
 * one transaction), so the model it returns is the one it was given.
 */
export const step = (model: Model, command: Command): StepResult => {
  const draft = structuredClone(model)
  try {
    const result = (steps[command._tag] as Step)(draft, command)
    return { model: draft, outcome: { ok: result.ok }, created: result.created ?? {} }
  } catch (error) {
    if (error instanceof Refused) return { model, outcome: { error: error.error }, created: {} }
    throw error
  }
}

// ---------------------------------------------------------------------------
// What is observable after a step

/**
 * The canonical observable state, by name: what each side must agree on
 * after every step. Entities that no longer exist are absent; roles are
 * listed only where a user has one.
 */
export interface Snapshot {
  /** user → `role/status`; `apiKey`: their key authenticates. */
  readonly users: Record<string, { readonly role: SystemRole; readonly status: string; readonly apiKey: boolean }>
  /** workspace → personal flag, owner, `user:role` members sorted. */
  readonly workspaces: Record<string, { readonly personal: boolean; readonly owner: string | null; readonly members: ReadonlyArray<string> }>
  /** resource → workspace, parent, index among its siblings, revoked, link settings. */
  readonly resources: Record<
    string,
    {
      readonly workspace: string
      readonly parent: string | null
      readonly index: number
      readonly revoked: boolean
      readonly reach: LinkReach
      readonly linkRole: LinkRole
    }
  >
  /** access → `resource/user:role`. */
  readonly accesses: Record<string, string>
  /** `user@resource` → the role `check` answers, where there is one. */
  readonly roles: Record<string, ResourceRole>
  /** invite → stored status. */
  readonly invites: Record<string, string>
  /** resource → its active share link as `link:role`. */
  readonly activeLinks: Record<string, string>
  /** link → the resource its token opens, or `null` when it opens nothing. */
  readonly linkOpens: Record<string, string | null>
}

export const snapshot = (m: Model): Snapshot => {
  const users: Record<string, Snapshot["users"][string]> = {}
  for (const u of liveUsers(m)) users[u.name] = { role: u.role, status: u.status, apiKey: u.status === "active" }
  const workspaces: Record<string, Snapshot["workspaces"][string]> = {}
  for (const w of liveWorkspaces(m)) {
    workspaces[w.name] = { personal: w.personal, owner: w.owner, members: w.members.map((x) => `${x.user}:${x.role}`).sort() }
  }
  const resources: Record<string, Snapshot["resources"][string]> = {}
  for (const r of liveResources(m)) {
    resources[r.name] = {
      workspace: r.workspace,
      parent: r.parent,
      index: m.children[siblingKey(r.workspace, r.parent)]!.indexOf(r.name),
      revoked: r.revoked,
      reach: r.reach,
      linkRole: r.linkRole
    }
  }
  const accesses: Record<string, string> = {}
  for (const a of liveAccesses(m)) accesses[a.name] = `${a.resource}/${a.user}:${a.role}`
  const roles: Record<string, ResourceRole> = {}
  for (const u of liveUsers(m)) {
    for (const r of liveResources(m)) {
      const role = checkedRole(m, u.name, r.name)
      if (role !== null) roles[`${u.name}@${r.name}`] = role
    }
  }
  const invites: Record<string, string> = {}
  for (const i of Object.values(m.invites)) invites[i.name] = i.status
  const activeLinks: Record<string, string> = {}
  const opens: Record<string, string | null> = {}
  for (const l of Object.values(m.links)) {
    if (l.active) activeLinks[l.resource] = `${l.name}:${l.role}`
    opens[l.name] = linkOpens(m, l.name) ? l.resource : null
  }
  return { users, workspaces, resources, accesses, roles, invites, activeLinks, linkOpens: opens }
}

/**
 * Where two snapshots differ, one line per entity: `invites.i2: model
 * "canceled", sqlite "pending"`. Empty when they agree.
 */
export const snapshotDifferences = (expected: Snapshot, seen: Snapshot, side: string): Array<string> => {
  const lines: Array<string> = []
  for (const section of Object.keys(expected) as Array<keyof Snapshot>) {
    const want = expected[section] as Record<string, unknown>
    const got = seen[section] as Record<string, unknown>
    for (const key of [...new Set([...Object.keys(want), ...Object.keys(got)])].sort()) {
      const a = JSON.stringify(want[key])
      const b = JSON.stringify(got[key])
      if (a !== b) lines.push(`${section}.${key}: model ${a ?? "absent"}, ${side} ${b ?? "absent"}`)
    }
  }
  return lines
}
