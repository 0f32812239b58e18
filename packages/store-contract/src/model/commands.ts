/**
 * Random command sequences for the model-based test. A generated command is
 * a kind and a few natural numbers; `resolve` turns it into a `Command` on
 * the model as it is at that step, taking each entity by index (modulo how
 * many there are) and mostly choosing an actor who holds the right the
 * command needs, so that sequences build trees, share and revoke rather
 * than bounce off `Forbidden`. Deleted entities stay pickable: refusing to
 * act on them is part of what is compared.
 */
import { FastCheck as fc } from "effect"
import {
  accessOn,
  actorRole,
  atLeast,
  type Command,
  liveResources,
  liveUsers,
  liveWorkspaces,
  memberRole,
  type MInvite,
  minterStillAuthorised,
  type Model,
  pathOf,
  POSITIONS,
  RESOURCE_ROLES,
  type ResourceRole,
  subtreeOf
} from "./model.js"

export const COMMAND_KINDS = {
  Register: 6,
  CreateTeam: 8,
  AddMember: 6,
  SetMemberRole: 3,
  RemoveMember: 3,
  CreateResource: 14,
  Move: 10,
  SetLinkReach: 3,
  Grant: 7,
  ChangeAccess: 4,
  RemoveAccess: 4,
  MintInvite: 8,
  RedeemInvite: 7,
  CancelInvite: 2,
  PutShareLink: 5,
  DisableShareLink: 2,
  RevokeResource: 4,
  DeleteWorkspace: 2,
  DeleteUser: 3,
  RevokeUser: 3,
  LinkRead: 3,
  LinkCreateResource: 4
} as const satisfies Record<Command["_tag"], number>

export interface RawCommand {
  readonly kind: Command["_tag"]
  readonly a: number
  readonly b: number
  readonly c: number
  readonly d: number
  readonly e: number
}

export const rawCommand: fc.Arbitrary<RawCommand> = fc.record({
  kind: fc.oneof(
    ...Object.entries(COMMAND_KINDS).map(([kind, weight]) => ({ arbitrary: fc.constant(kind as Command["_tag"]), weight }))
  ),
  a: fc.nat(),
  b: fc.nat(),
  c: fc.nat(),
  d: fc.nat(),
  e: fc.nat()
})

/** A sequence of exactly `steps` commands. */
export const commandSequence = (steps: number) => fc.array(rawCommand, { minLength: steps, maxLength: steps })

const pick = <A>(items: ReadonlyArray<A>, n: number): A | undefined => (items.length === 0 ? undefined : items[n % items.length])

/**
 * Mostly (7 in 10) someone from `preferred` — and among them mostly
 * someone who is not a system admin (who may do anything), so that the
 * role rules decide; otherwise anyone who ever existed.
 */
const actorFrom = (m: Model, preferred: ReadonlyArray<string>, n: number): string => {
  const everyone = Object.keys(m.users)
  const ordinary = preferred.filter((u) => m.users[u]!.role !== "admin")
  const pool = ordinary.length > 0 && n % 30 < 20 ? ordinary : preferred
  const chosen = n % 10 < 7 ? pick(pool, Math.floor(n / 30)) : undefined
  return chosen ?? pick(everyone, Math.floor(n / 10))!
}

/** Mostly (9 in 10) something from the pool; otherwise anything that ever existed. */
const entityFrom = <A>(pool: ReadonlyArray<A>, all: ReadonlyArray<A>, n: number): A | undefined =>
  (n % 10 < 9 ? pick(pool, Math.floor(n / 10)) : undefined) ?? pick(all, Math.floor(n / 10))

/** Pending grant invites minted by a user who is not a system admin (whose authority can be lost), matching `which`. */
const pendingMintedBy = (m: Model, which: (invite: MInvite) => boolean) =>
  Object.values(m.invites).filter((i) =>
    i.kind === "grant" && i.status === "pending" && i.minter !== null && m.users[i.minter]!.role !== "admin" && which(i)
  )

const activeUsers = (m: Model) => liveUsers(m).filter((u) => u.status === "active").map((u) => u.name)
/**
 * Active users holding at least `needed` on the resource: those who hold it
 * through accesses and memberships when there are any, so that the role
 * rules are exercised, rather than system admins, who hold everything.
 */
const holding = (m: Model, resource: string, needed: ResourceRole) => {
  const holders = activeUsers(m).filter((u) => atLeast(actorRole(m, u, resource), needed))
  const ordinary = holders.filter((u) => m.users[u]!.role !== "admin")
  return ordinary.length > 0 ? ordinary : holders
}
const adminsOf = (m: Model, workspace: string) => activeUsers(m).filter((u) => memberRole(m, workspace, u) === "admin")
const membersOf = (m: Model, workspace: string) => activeUsers(m).filter((u) => memberRole(m, workspace, u) !== null)

const anyUser = (m: Model, n: number) => entityFrom(activeUsers(m), Object.keys(m.users), n)!
const anyWorkspace = (m: Model, n: number, teams = false) =>
  entityFrom(
    liveWorkspaces(m).filter((w) => !teams || !w.personal).map((w) => w.name),
    Object.keys(m.workspaces),
    n
  )!
const hasTeam = (m: Model) => liveWorkspaces(m).some((w) => !w.personal)
/** A command on a team while there is none: its actor creates one first. */
const teamFirst = (m: Model, a: number): Command => ({ _tag: "CreateTeam", actor: actorFrom(m, activeUsers(m), a) })
const anyResource = (m: Model, n: number) =>
  entityFrom(liveResources(m).filter((r) => !r.revoked).map((r) => r.name), Object.keys(m.resources), n)

/** The command a generated one stands for on this model, or `undefined` when there is nothing to act on yet. */
export const resolve = (m: Model, raw: RawCommand): Command | undefined => {
  const { a, b, c, d, e } = raw
  // A sequence starts with the bootstrap admin alone: half of its first commands bring in users.
  if (raw.kind !== "Register" && liveUsers(m).length < 4 && e % 2 === 1) {
    return { _tag: "Register", actor: "u0", role: b % 5 === 0 ? "admin" : "member" }
  }
  switch (raw.kind) {
    case "Register":
      return { _tag: "Register", actor: actorFrom(m, ["u0"], a), role: b % 5 === 0 ? "admin" : "member" }
    case "CreateTeam":
      return { _tag: "CreateTeam", actor: actorFrom(m, activeUsers(m), a) }
    case "AddMember":
    case "SetMemberRole":
    case "RemoveMember": {
      if (!hasTeam(m) && b % 7 !== 0) return teamFirst(m, a)
      // Now and then the workspace of a pending invite, where a second admin arrives (AddMember) and then
      // its minter loses the authority it was minted on.
      const minted = e % 3 === 0 ? pick(pendingMintedBy(m, (i) => i.workspace !== null), e) : undefined
      const workspace = minted?.workspace ?? anyWorkspace(m, b, b % 7 !== 0)
      const actor = actorFrom(m, adminsOf(m, workspace), a)
      const role = minted !== undefined && raw.kind === "AddMember" ? "admin" : d % 3 === 0 ? "admin" : "member"
      if (raw.kind === "AddMember") {
        const outsiders = activeUsers(m).filter((u) => memberRole(m, workspace, u) === null)
        return { _tag: "AddMember", actor, workspace, user: entityFrom(outsiders, Object.keys(m.users), c) ?? anyUser(m, c), role }
      }
      // Mostly a member the last-admin rule lets go.
      const admins = adminsOf(m, workspace)
      const movable = membersOf(m, workspace).filter((u) => admins.length > 1 || !admins.includes(u))
      const user = (minted !== undefined && adminsOf(m, workspace).length > 1 ? minted.minter : undefined) ?? (c % 4 === 0 ? undefined : pick(movable, Math.floor(c / 4))) ?? anyUser(m, c)
      if (raw.kind === "SetMemberRole") return { _tag: "SetMemberRole", actor, workspace, user, role }
      // Now and then a member leaves on their own.
      return d % 4 === 0 ? { _tag: "RemoveMember", actor: user, workspace, user } : { _tag: "RemoveMember", actor, workspace, user }
    }
    case "CreateResource": {
      const parent = b % 3 === 0 ? undefined : anyResource(m, c)
      if (parent === undefined) {
        const workspace = anyWorkspace(m, c)
        return { _tag: "CreateResource", actor: actorFrom(m, membersOf(m, workspace), a), workspace, parent: null }
      }
      return {
        _tag: "CreateResource",
        actor: actorFrom(m, holding(m, parent, "editor"), a),
        workspace: m.resources[parent]!.workspace,
        parent
      }
    }
    case "Move": {
      // Mostly a live target in the same workspace outside the moved subtree; else anything (to be refused).
      const targetsOf = (resource: string) => {
        const subtree = subtreeOf(m, resource)
        return liveResources(m)
          .filter((r) => r.workspace === m.resources[resource]!.workspace && !r.revoked && !subtree.includes(r.name))
          .map((r) => r.name)
      }
      const movable = liveResources(m).filter((r) => !r.revoked && targetsOf(r.name).length > 0).map((r) => r.name)
      const resource = entityFrom(movable, Object.keys(m.resources), b) ?? anyResource(m, b)
      if (resource === undefined) return undefined
      const elsewhere = targetsOf(resource)
      const target = (c % 6 === 0 ? undefined : pick(elsewhere, Math.floor(c / 6))) ?? anyResource(m, c)!
      return {
        _tag: "Move",
        actor: actorFrom(m, holding(m, resource, "administrator"), a),
        resource,
        target,
        position: POSITIONS[d % POSITIONS.length]!,
        dryRun: e % 8 === 0
      }
    }
    case "SetLinkReach": {
      const resource = anyResource(m, b)
      if (resource === undefined) return undefined
      return {
        _tag: "SetLinkReach",
        actor: actorFrom(m, holding(m, resource, "administrator"), a),
        resource,
        reach: c % 3 === 0 ? "restricted" : "workspace",
        linkRole: d % 2 === 0 ? "reader" : "editor"
      }
    }
    case "Grant": {
      const resource = anyResource(m, b)
      if (resource === undefined) return undefined
      const role = RESOURCE_ROLES[d % RESOURCE_ROLES.length]!
      return {
        _tag: "Grant",
        actor: actorFrom(m, holding(m, resource, role === "owner" ? "owner" : "administrator"), a),
        resource,
        user: entityFrom(activeUsers(m).filter((u) => accessOn(m, resource, u) === undefined), Object.keys(m.users), c) ?? anyUser(m, c),
        role
      }
    }
    case "ChangeAccess":
    case "RemoveAccess": {
      const liveOnes = Object.values(m.accesses).filter((x) => !x.deleted)
      const minted = e % 2 === 0 ? pick(pendingMintedBy(m, (i) => i.resource !== null), e) : undefined
      const mintersAccess = minted === undefined
        ? undefined
        : liveOnes.find((x) => x.user === minted.minter && pathOf(m, minted.resource!).includes(x.resource))?.name
      const access = mintersAccess ?? entityFrom(
        b % 3 === 0 ? liveOnes.map((x) => x.name) : liveOnes.filter((x) => x.role !== "owner").map((x) => x.name),
        Object.keys(m.accesses),
        b
      )
      if (access === undefined) return undefined
      const resource = m.accesses[access]!.resource
      const role = RESOURCE_ROLES[d % RESOURCE_ROLES.length]!
      const needed = role === "owner" || m.accesses[access]!.role === "owner" ? "owner" : "administrator"
      const actor = actorFrom(m, m.resources[resource]!.deleted ? [] : holding(m, resource, needed), a)
      return raw.kind === "ChangeAccess" ? { _tag: "ChangeAccess", actor, access, role } : { _tag: "RemoveAccess", actor, access }
    }
    case "MintInvite": {
      if (b % 3 === 0) {
        if (!hasTeam(m) && c % 6 !== 0) return teamFirst(m, a)
        const workspace = anyWorkspace(m, c, c % 6 !== 0)
        return {
          _tag: "MintInvite",
          actor: actorFrom(m, adminsOf(m, workspace), a),
          target: { workspace, role: d % 3 === 0 ? "admin" : "member" }
        }
      }
      const resource = anyResource(m, c)
      if (resource === undefined) return undefined
      // Mostly below owner, which an invite may not grant.
      const role = RESOURCE_ROLES[d % 9 === 0 ? 4 : d % 4]!
      return { _tag: "MintInvite", actor: actorFrom(m, holding(m, resource, "administrator"), a), target: { resource, role } }
    }
    case "RedeemInvite":
    case "CancelInvite": {
      const grants = Object.values(m.invites).filter((i) => i.kind === "grant")
      if (grants.length === 0) return undefined
      const pending = grants.filter((i) => i.status === "pending")
      // Now and then one whose minter has lost the authority to mint it.
      const void_ = e % 2 === 0 ? pick(pending.filter((i) => !minterStillAuthorised(m, i)), e)?.name : undefined
      const invite = void_ ??
        entityFrom((pending.length > 0 ? pending : grants).map((i) => i.name), Object.keys(m.invites), b)
      if (invite === undefined) return undefined
      if (raw.kind === "RedeemInvite") {
        // Mostly someone the invite would give something new.
        const { resource, workspace } = m.invites[invite]!
        const newcomers = activeUsers(m).filter((u) =>
          workspace !== null ? memberRole(m, workspace, u) === null : resource !== null && accessOn(m, resource, u) === undefined
        )
        return { _tag: "RedeemInvite", actor: actorFrom(m, newcomers, a), invite }
      }
      const minter = m.invites[invite]!.minter
      return { _tag: "CancelInvite", actor: actorFrom(m, minter === null ? [] : [minter], a), invite }
    }
    case "PutShareLink":
    case "DisableShareLink": {
      const withLink = Object.values(m.links).filter((l) => l.active).map((l) => l.resource)
      const resource = raw.kind === "DisableShareLink" && c % 3 !== 0 ? pick(withLink, b) ?? anyResource(m, b) : anyResource(m, b)
      if (resource === undefined) return undefined
      const actor = actorFrom(m, holding(m, resource, "administrator"), a)
      return raw.kind === "PutShareLink"
        ? { _tag: "PutShareLink", actor, resource, role: d % 2 === 0 ? "reader" : "editor" }
        : { _tag: "DisableShareLink", actor, resource }
    }
    case "RevokeResource": {
      const resource = anyResource(m, b)
      if (resource === undefined) return undefined
      return { _tag: "RevokeResource", actor: actorFrom(m, holding(m, resource, "owner"), a), resource, dryRun: e % 6 === 0 }
    }
    case "DeleteWorkspace": {
      if (!hasTeam(m) && b % 6 !== 0) return teamFirst(m, a)
      const workspace = anyWorkspace(m, b, b % 6 !== 0)
      return { _tag: "DeleteWorkspace", actor: actorFrom(m, adminsOf(m, workspace), a), workspace }
    }
    case "LinkRead":
    case "LinkCreateResource": {
      const links = Object.values(m.links)
      const usable = links.filter((l) => l.active && (raw.kind === "LinkRead" || d % 3 === 0 || l.role === "editor"))
      const link = entityFrom(usable.map((l) => l.name), links.map((l) => l.name), a)
      if (link === undefined) return undefined
      // Mostly inside the link's subtree, where it opens something.
      const inside = m.resources[m.links[link]!.resource]!.deleted ? [] : subtreeOf(m, m.links[link]!.resource)
      const resource = (c % 4 === 0 ? undefined : pick(inside, b)) ?? anyResource(m, b)
      if (resource === undefined) return undefined
      return raw.kind === "LinkRead" ? { _tag: "LinkRead", link, resource } : { _tag: "LinkCreateResource", link, workspace: m.resources[resource]!.workspace, parent: resource }
    }
    case "DeleteUser":
    case "RevokeUser": {
      const admins = activeUsers(m).filter((u) => m.users[u]!.role === "admin")
      const actor = actorFrom(m, admins, a)
      // Now and then the minter of a pending invite.
      const minter = e % 2 === 0 ? pick(pendingMintedBy(m, () => true), e)?.minter ?? undefined : undefined
      const user = minter ?? entityFrom(activeUsers(m).filter((u) => u !== "u0"), Object.keys(m.users), b) ?? "u0"
      if (raw.kind === "RevokeUser") return { _tag: "RevokeUser", actor, user }
      const heir = c % 3 === 0 ? null : entityFrom(activeUsers(m).filter((u) => u !== user), Object.keys(m.users), d) ?? null
      return { _tag: "DeleteUser", actor, user, transferTo: heir }
    }
  }
}
