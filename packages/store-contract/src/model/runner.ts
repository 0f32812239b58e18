/**
 * Drives a real store with the model's commands, through the domain's use
 * cases only, and reads back the same observable snapshot the model gives
 * (`model.ts`). Store-made ids are bound to the model's names as the
 * entities appear, so the two can be compared as values.
 *
 * It never writes around the use cases and never reads a table directly:
 * what it sees is what a caller of the kernel could see (the system's own
 * reads — users, workspaces, trees, accesses, invites, share links — and
 * the permission check).
 */
import {
  addMember,
  authenticate,
  authenticateBearer,
  bootstrapAdmin,
  cancelInvite,
  changeAccess,
  check,
  createResource,
  createWorkspace,
  deleteUser,
  deleteWorkspace,
  disableShareLink,
  getResource,
  grantAccess,
  type Handle,
  InviteStore,
  isLinkBearer,
  mintInvite,
  moveResource,
  patchResource,
  type Principal,
  putShareLink,
  redeemInvite,
  register,
  removeAccess,
  removeMember,
  type ResourceId,
  ResourceStore,
  revokeResource,
  revokeUser,
  runDoctor,
  setMemberRole,
  ShareLinkStore,
  type StoreInspector,
  SystemActor,
  type UserId,
  UserStore,
  type WorkspaceId,
  WorkspaceStore
} from "@tessera/domain"
import { Effect, Either, Option, type Redacted } from "effect"
import { publicKeys } from "../fixtures.js"
import type { StorePorts } from "../index.js"
import type { Command, Created, Outcome, Snapshot } from "./model.js"

export type ModelPorts = StorePorts | StoreInspector

/** One store under test: runs a program against its ports. */
export interface ModelStore {
  readonly name: string
  readonly run: <A, E>(program: Effect.Effect<A, E, ModelPorts>) => Effect.Effect<A, E>
}

/** The model's names of one store's entities, and the secrets the runner holds for them. */
export class Bindings {
  private readonly byName = new Map<string, string>()
  private readonly byId = new Map<string, string>()
  readonly principals = new Map<string, Principal>()
  readonly apiKeys = new Map<string, Redacted.Redacted<string>>()
  readonly inviteTokens = new Map<string, Redacted.Redacted<string>>()
  readonly linkTokens = new Map<string, Redacted.Redacted<string>>()
  /** access → the resource it is on (kept after the access is gone). */
  readonly accessResource = new Map<string, string>()
  private handles = 0

  bind(name: string | undefined, id: string) {
    if (name === undefined) throw new Error(`an entity ${id} was created where the model created none`)
    const known = this.byName.get(name)
    if (known !== undefined && known !== id) throw new Error(`${name} is bound to ${known}, not ${id}`)
    this.byName.set(name, id)
    this.byId.set(id, name)
  }
  has(name: string) {
    return this.byName.has(name)
  }
  id<A extends string>(name: string): A {
    const id = this.byName.get(name)
    if (id === undefined) throw new Error(`no id bound to ${name}`)
    return id as A
  }
  /** The model's name of a store id; an id the model never named shows as `?<id>`, which no model value equals. */
  name(id: string): string {
    return this.byId.get(id) ?? `?${id}`
  }
  nameOrNull(id: string | null): string | null {
    return id === null ? null : this.name(id)
  }
  handle(): Handle {
    return `m-${(this.handles++).toString(36)}` as Handle
  }
}

/** How a failure reads in an `Outcome`, with ids turned into names. */
const describeFailure = (b: Bindings, error: unknown): string => {
  const e = error as { _tag?: string; what?: string; reason?: string; workspaceIds?: ReadonlyArray<string>; resourceIds?: ReadonlyArray<string> }
  switch (e._tag) {
    case "NotFound":
      return `NotFound(${e.what})`
    case "PersonalWorkspaceInvariantError":
      return `PersonalWorkspaceInvariantError(${e.reason})`
    case "InviteCanceled":
      return e.reason === undefined ? "InviteCanceled" : `InviteCanceled(${e.reason})`
    case "LastAdmin":
      return `LastAdmin(${e.workspaceIds!.map((id) => b.name(id)).sort().join(",")})`
    case "LastOwner":
      return `LastOwner(${e.resourceIds!.map((id) => b.name(id)).sort().join(",")})`
    default:
      return e._tag ?? String(error)
  }
}

const outcome = <A, E, R>(b: Bindings, program: Effect.Effect<A, E, R>, value: (a: A) => unknown): Effect.Effect<Outcome, never, R> =>
  Effect.map(Effect.either(program), Either.match({
    onLeft: (error): Outcome => ({ error: describeFailure(b, error) }),
    onRight: (a): Outcome => ({ ok: value(a) })
  }))

/** Bootstraps the store's system admin as the model's `u0`, with their personal workspace `w0`. */
export const bootstrap = (store: ModelStore, b: Bindings) =>
  store.run(Effect.gen(function*() {
    const { apiKey, user } = yield* Effect.orDie(bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.none() }))
    b.bind("u0", user.id)
    b.apiKeys.set("u0", apiKey)
    b.principals.set("u0", yield* Effect.orDie(authenticate(apiKey)))
    const personal = yield* Effect.flatMap(WorkspaceStore, (s) => s.findPersonal(user.id))
    b.bind("w0", Option.getOrThrow(personal).id)
  }))

/** Runs one command on the store through its use case and reports what a caller sees. */
export const execute = (store: ModelStore, b: Bindings, command: Command, created: Created): Effect.Effect<Outcome> => {
  const uid = (name: string) => b.id<UserId>(name)
  const wid = (name: string) => b.id<WorkspaceId>(name)
  const rid = (name: string) => b.id<ResourceId>(name)
  if (command._tag === "LinkRead" || command._tag === "LinkCreateResource") {
    // The link's bearer, as a request presenting its token is authenticated.
    const bearer = authenticateBearer(b.linkTokens.get(command.link)!).pipe(
      Effect.filterOrDie(isLinkBearer, () => new Error("a share link's token authenticated as a user"))
    )
    return store.run(
      command._tag === "LinkRead"
        ? outcome(b, Effect.flatMap(bearer, (link) => getResource(link, rid(command.resource))), (r) => ({ role: r.effectiveRole }))
        : outcome(
          b,
          Effect.flatMap(bearer, (link) => createResource(link, wid(command.workspace), { title: "doc", parent_id: rid(command.parent) })),
          (r) => {
            b.bind(created.resource, r.id)
            return { resource: b.name(r.id) }
          }
        )
    )
  }
  const actor = b.principals.get(command.actor)
  if (actor === undefined) throw new Error(`no principal for ${command.actor}`)
  const program: Effect.Effect<Outcome, never, ModelPorts> = (() => {
    switch (command._tag) {
      case "Register":
        return outcome(b, Effect.gen(function*() {
          const { invite, token } = yield* mintInvite(actor, { kind: "registration", handle: b.handle(), role: command.role })
          const { apiKey, personalWorkspace, user } = yield* register({ token, ...publicKeys() })
          b.bind(created.user, user.id)
          b.bind(created.workspace, personalWorkspace.id)
          b.bind(created.invite, invite.id)
          b.inviteTokens.set(created.invite!, token)
          b.apiKeys.set(created.user!, apiKey)
          b.principals.set(created.user!, yield* authenticate(apiKey))
          return user
        }), (user) => ({ user: b.name(user.id) }))
      case "CreateTeam":
        return outcome(b, createWorkspace(actor, { name: "team" }), (w) => {
          b.bind(created.workspace, w.id)
          return { workspace: b.name(w.id) }
        })
      case "AddMember":
        return outcome(b, addMember(actor, wid(command.workspace), uid(command.user), command.role), () => "ok")
      case "SetMemberRole":
        return outcome(b, setMemberRole(actor, wid(command.workspace), uid(command.user), command.role), () => "ok")
      case "RemoveMember":
        return outcome(b, removeMember(actor, wid(command.workspace), uid(command.user)), () => "ok")
      case "CreateResource":
        return outcome(
          b,
          createResource(actor, wid(command.workspace), { title: "doc", parent_id: command.parent === null ? null : rid(command.parent) }),
          (r) => {
            b.bind(created.resource, r.id)
            return { resource: b.name(r.id) }
          }
        )
      case "Move":
        return outcome(
          b,
          moveResource(actor, rid(command.resource), { targetId: rid(command.target), position: command.position, dryRun: command.dryRun }),
          (report) => ({
            parent: b.nameOrNull(report.resource.parent_id),
            scope_changed: report.scope_changed,
            accesses_deleted: report.accesses_deleted,
            invites_canceled: report.invites_canceled,
            owners_restored: report.owners_restored
          })
        )
      case "SetLinkReach":
        return outcome(b, patchResource(actor, rid(command.resource), { link_reach: command.reach, link_role: command.linkRole }), () => "ok")
      case "Grant":
        return outcome(b, grantAccess(actor, rid(command.resource), uid(command.user), command.role), () => "ok")
      case "ChangeAccess":
        return outcome(b, changeAccess(actor, rid(b.accessResource.get(command.access)!), b.id(command.access), command.role), () => "ok")
      case "RemoveAccess":
        return outcome(b, removeAccess(actor, rid(b.accessResource.get(command.access)!), b.id(command.access)), () => "ok")
      case "MintInvite": {
        const target = command.target
        const terms = "workspace" in target
          ? { kind: "grant" as const, workspace_id: wid(target.workspace), workspace_role: target.role }
          : { kind: "grant" as const, resource_id: rid(target.resource), resource_role: target.role }
        return outcome(b, mintInvite(actor, terms), ({ invite, token }) => {
          b.bind(created.invite, invite.id)
          b.inviteTokens.set(created.invite!, token)
          return { invite: b.name(invite.id) }
        })
      }
      case "RedeemInvite":
        return outcome(b, redeemInvite(actor, b.inviteTokens.get(command.invite)!), () => "ok")
      case "CancelInvite":
        return outcome(b, cancelInvite(actor, b.id(command.invite)), (invite) => ({ status: invite.status }))
      case "PutShareLink":
        return outcome(b, putShareLink(actor, rid(command.resource), command.role), ({ link, token }) => {
          b.bind(created.link, link.id)
          b.linkTokens.set(created.link!, token)
          return "ok"
        })
      case "DisableShareLink":
        return outcome(b, disableShareLink(actor, rid(command.resource)), (r) => ({ disabled: r.disabled }))
      case "RevokeResource":
        return outcome(b, revokeResource(actor, rid(command.resource), { dryRun: command.dryRun }), ({ resource_id: _, ...report }) => report)
      case "DeleteWorkspace":
        return outcome(b, deleteWorkspace(actor, wid(command.workspace)), ({ workspace_id: _, ...report }) => report)
      case "DeleteUser":
        return outcome(
          b,
          deleteUser(actor, uid(command.user), Option.fromNullable(command.transferTo).pipe(Option.map(uid))),
          ({ user_id: _, ...report }) => report
        )
      case "RevokeUser":
        return outcome(b, revokeUser(actor, uid(command.user)), (user) => ({ status: user.status }))
    }
  })()
  return store.run(program)
}

/**
 * Reads the store's observable state into the model's `Snapshot` shape.
 * A direct access the store made on its own (a root's owner, an owner
 * restored by a move or passed to an heir, a grant) is bound to the name
 * the model gave the access for the same resource and user — one direct
 * access per pair, so that is the same access; one the model does not
 * have stays unnamed and shows as a difference.
 */
export const observe = (store: ModelStore, b: Bindings, expected: Snapshot): Effect.Effect<Snapshot> =>
  store.run(Effect.gen(function*() {
    const storedUsers = yield* Effect.flatMap(UserStore, (s) => s.list)
    const users: Record<string, Snapshot["users"][string]> = {}
    for (const u of storedUsers) {
      const name = b.name(u.id)
      const key = b.apiKeys.get(name)
      const apiKey = key === undefined ? false : Either.isRight(yield* Effect.either(authenticate(key)))
      users[name] = { role: u.role, status: u.status, apiKey }
    }

    const storedWorkspaces = yield* Effect.flatMap(WorkspaceStore, (s) => s.listAll)
    const workspaces: Record<string, Snapshot["workspaces"][string]> = {}
    for (const w of storedWorkspaces) {
      workspaces[b.name(w.id)] = {
        personal: w.is_personal,
        owner: b.nameOrNull(w.owner_user_id),
        members: w.members.map((m) => `${b.name(m.user_id)}:${m.role}`).sort()
      }
    }

    const resourceStore = yield* ResourceStore
    const resources: Record<string, Snapshot["resources"][string]> = {}
    const resourceIds: Array<ResourceId> = []
    for (const w of storedWorkspaces) {
      const rows = yield* resourceStore.listWorkspace(w.id)
      const seen = new Map<string, number>()
      for (const r of rows) {
        // ordered by parent, then sibling position: the k-th row of a parent is its k-th child
        const key = r.parent_id ?? "-"
        const index = seen.get(key) ?? 0
        seen.set(key, index + 1)
        resourceIds.push(r.id)
        resources[b.name(r.id)] = {
          workspace: b.name(r.workspace_id),
          parent: b.nameOrNull(r.parent_id),
          index,
          revoked: r.revoked_at !== null,
          reach: r.link_reach,
          linkRole: r.link_role
        }
      }
    }

    const accesses: Record<string, string> = {}
    const expectedByPair = new Map<string, string>()
    for (const [name, value] of Object.entries(expected.accesses)) expectedByPair.set(value.slice(0, value.lastIndexOf(":")), name)
    for (const a of yield* resourceStore.accesses(resourceIds)) {
      const pair = `${b.name(a.resource_id)}/${b.name(a.user_id)}`
      const modelName = expectedByPair.get(pair)
      if (b.name(a.id).startsWith("?") && modelName !== undefined && !b.has(modelName)) {
        b.bind(modelName, a.id)
        b.accessResource.set(modelName, b.name(a.resource_id))
      }
      accesses[b.name(a.id)] = `${pair}:${a.role}`
    }

    const pairs = storedUsers.flatMap((u) => resourceIds.map((r) => ({ user_id: u.id, resource_id: r, action: "read" as const })))
    const answers = yield* Effect.orDie(check(SystemActor, pairs))
    const roles: Record<string, NonNullable<typeof answers[number]["role"]>> = {}
    pairs.forEach((pair, k) => {
      const role = answers[k]!.role
      if (role !== null) roles[`${b.name(pair.user_id)}@${b.name(pair.resource_id)}`] = role
    })

    const invites: Record<string, string> = {}
    for (const i of yield* Effect.flatMap(InviteStore, (s) => s.list({}))) invites[b.name(i.id)] = i.status

    const links = yield* ShareLinkStore
    const activeLinks: Record<string, string> = {}
    for (const id of resourceIds) {
      const active = yield* links.findActive(id)
      if (Option.isSome(active)) activeLinks[b.name(id)] = `${b.name(active.value.id)}:${active.value.role}`
    }
    const linkOpens: Record<string, string | null> = {}
    for (const [name, token] of b.linkTokens) {
      const bearer = yield* Effect.either(authenticateBearer(token))
      linkOpens[name] = Either.isRight(bearer) && "resourceId" in bearer.right ? b.name(bearer.right.resourceId) : null
    }

    return { users, workspaces, resources, accesses, roles, invites, activeLinks, linkOpens }
  }))

/** The doctor's violations on the store (none on a healthy one). */
export const doctorViolations = (store: ModelStore) =>
  store.run(Effect.map(Effect.orDie(runDoctor(SystemActor)), (report) => report.violations.map((v) => ({ check: v.check, ids: v.ids }))))
