/**
 * Workspace use cases: team workspaces and their members, the personal
 * workspace of each user, and the repair of personal workspaces written
 * before the rules held (walked in keyset pages, never loaded whole). Every
 * writer runs in `transactAs`: users it needs are held first, then the
 * workspace is locked and read, then the rules are checked on that state,
 * then it writes — all in one transaction.
 */
import { Chunk, Effect, Option, Schema, Stream } from "effect"
import { EventLog } from "../events/ports.js"
import type { NewEvent } from "../events/schemas.js"
import { UserNotFound } from "../identity/errors.js"
import { requireSystemAdmin } from "../identity/policy.js"
import { UserStore } from "../identity/ports.js"
import { type Actor, actorName, actorUserId, isSystem, isUser, type User } from "../identity/schemas.js"
import { transactAs } from "../identity/usecases.js"
import { Forbidden, NotFound } from "../shared/errors.js"
import { newWorkspaceId, type UserId, type WorkspaceId } from "../shared/ids.js"
import { now, type Timestamp } from "../shared/time.js"
import { PersonalWorkspaceInvariantError, PersonalWorkspaceUnavailable } from "./errors.js"
import { makePersonalWorkspace } from "./personal.js"
import { isMember, isWorkspaceAdmin, loadVisibleWorkspace, lockVisibleWorkspace, requireWorkspaceAdmin } from "./policy.js"
import { clampPage, keysetPage, keysetPages, type PageRequest } from "../shared/pages.js"
import { type PersonalCandidate, WorkspaceStore } from "./ports.js"
import {
  applyWorkspacePatch,
  Bundles,
  checkMemberChange,
  checkWorkspacePatch,
  CustomInstructions,
  type MemberChange,
  personalMembers,
  WorkspaceAbout,
  WorkspaceName,
  type WorkspacePatch
} from "./rules.js"
import { Member, Workspace, type WorkspaceRole } from "./schemas.js"
import { spanned } from "../shared/spans.js"

const append = (at: Timestamp, events: ReadonlyArray<NewEvent>) => Effect.flatMap(EventLog, (log) => log.append(at, events))

export const ENSURE_ATTEMPTS = 3

/**
 * Get-or-create of the user's personal workspace (one per user, by a unique
 * index), inside the caller's transaction. A create that conflicts re-reads
 * the winner's; if that one was deleted in between, it tries again, up to
 * `ENSURE_ATTEMPTS` times.
 */
export const ensurePersonalWorkspace = spanned("ensurePersonalWorkspace", function*(user: User) {
  const store = yield* WorkspaceStore
  for (let attempt = 1; attempt <= ENSURE_ATTEMPTS; attempt++) {
    const existing = yield* store.findPersonal(user.id)
    if (Option.isSome(existing)) return existing.value
    const at = yield* now
    const workspace = yield* makePersonalWorkspace(user, at)
    if (yield* store.insert(workspace)) {
      yield* append(at, [{ type: "workspace.created", actor: "system", workspace_id: workspace.id, data: { is_personal: true, owner_user_id: user.id } }])
      return workspace
    }
    const winner = yield* store.findPersonal(user.id)
    if (Option.isSome(winner)) return winner.value
  }
  return yield* new PersonalWorkspaceUnavailable({
    userId: user.id,
    attempts: ENSURE_ATTEMPTS,
    message: `the personal workspace of ${user.id} was deleted after each of ${ENSURE_ATTEMPTS} attempts to create it`
  })
})

/** The caller's personal workspace, created if it is missing (data written before the rules). */
export const myPersonalWorkspace = spanned("myPersonalWorkspace", function*(actor: Actor) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      if (!isUser(actor)) return yield* new Forbidden({ message: "only a user has a personal workspace" })
      return yield* ensurePersonalWorkspace(actor.user)
    }))
})

export const CreateWorkspace = Schema.Struct({
  name: WorkspaceName,
  about: Schema.optional(WorkspaceAbout),
  custom_instructions: Schema.optional(CustomInstructions),
  bundles: Schema.optional(Bundles),
  is_personal: Schema.optional(Schema.Boolean),
  owner_user_id: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * Creates a team workspace whose only member is its creator, as admin.
 * Only the system creates personal workspaces, so asking for one is
 * `is_personal_frozen`; an owner on a team workspace is refused too.
 */
export const createWorkspace = spanned("createWorkspace", function*(actor: Actor, request: typeof CreateWorkspace.Type) {
  if (request.is_personal === true) {
    return yield* new PersonalWorkspaceInvariantError({ workspaceId: "", reason: "is_personal_frozen" })
  }
  if (request.owner_user_id !== undefined && request.owner_user_id !== null) {
    return yield* new PersonalWorkspaceInvariantError({ workspaceId: "", reason: "owner_user_id_on_non_personal" })
  }
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const creator = actorUserId(actor)
      if (creator === null) return yield* new Forbidden({ message: "a team workspace is created by a user" })
      const at = yield* now
      const workspace = new Workspace({
        id: yield* newWorkspaceId,
        name: request.name,
        about: request.about ?? "",
        custom_instructions: request.custom_instructions ?? "",
        bundles: request.bundles ?? [],
        is_personal: false,
        owner_user_id: null,
        members: [new Member({ user_id: creator, role: "admin" })],
        created_at: at,
        updated_at: at
      })
      yield* Effect.flatMap(WorkspaceStore, (s) => s.insert(workspace))
      yield* append(at, [
        { type: "workspace.created", actor: actorName(actor), workspace_id: workspace.id, data: { is_personal: false, name: workspace.name } },
        { type: "workspace.member_added", actor: actorName(actor), workspace_id: workspace.id, data: { user_id: creator, role: "admin" } }
      ])
      return workspace
    }))
})

/** The workspaces a user belongs to; for the system (operators), every workspace. */
export const listWorkspaces = spanned("listWorkspaces", function*(actor: Actor) {
  const store = yield* WorkspaceStore
  if (isUser(actor)) return yield* store.listForUser(actor.user.id)
  if (isSystem(actor)) return yield* store.listAll
  return yield* new Forbidden({ message: "a share link belongs to no workspace" })
})

/** One page, in id order, of the workspaces a user belongs to; for the system (operators), of every workspace. */
export const listWorkspacesPage = spanned("listWorkspacesPage", function*(actor: Actor, request: PageRequest<WorkspaceId>) {
  const store = yield* WorkspaceStore
  const member = isUser(actor) ? actor.user.id : isSystem(actor) ? null : undefined
  if (member === undefined) return yield* new Forbidden({ message: "a share link belongs to no workspace" })
  return yield* keysetPage(request, (after, limit) => store.page(member, after, limit), (workspace) => workspace.id)
})

export const getWorkspace = spanned("getWorkspace", function*(actor: Actor, id: WorkspaceId) {
  return yield* loadVisibleWorkspace(actor, id)
})

/** Holds each user (shared lock, id order) and returns those that exist and are active. */
const holdActiveUsers = spanned("holdActiveUsers", function*(ids: ReadonlyArray<UserId>) {
  const users = yield* UserStore
  const active = new Set<UserId>()
  for (const id of [...new Set(ids)].sort()) {
    const user = yield* users.hold(id)
    if (Option.isSome(user) && user.value.status === "active") active.add(id)
  }
  return active
})

/** Patches a workspace after checking the whole patch; a rejected patch writes nothing. */
export const patchWorkspace = spanned("patchWorkspace", function*(actor: Actor, id: WorkspaceId, patch: WorkspacePatch) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      // Users before workspaces (the lock order): hold every listed member first.
      const active = yield* holdActiveUsers((patch.members ?? []).map((m) => m.user_id))
      const workspace = yield* lockVisibleWorkspace(actor, id)
      yield* requireWorkspaceAdmin(actor, workspace)
      yield* checkWorkspacePatch(workspace, patch)
      // New members must be active users, as with addMember; listed existing members stay as they are.
      for (const member of patch.members ?? []) {
        if (!isMember(workspace, member.user_id) && !active.has(member.user_id)) {
          return yield* new UserNotFound({ userId: member.user_id })
        }
      }
      const at = yield* now
      const next = applyWorkspacePatch(workspace, patch, at)
      const store = yield* WorkspaceStore
      yield* store.update(next)
      if (patch.members !== undefined) yield* store.replaceMembers(id, next.members)
      const changed = Object.keys(patch).filter((k) => k !== "is_personal" && k !== "owner_user_id")
      yield* append(at, [{ type: "workspace.updated", actor: actorName(actor), workspace_id: id, data: { fields: changed } }])
      return next
    }))
})

const changeMembers = spanned("changeMembers", function*(actor: Actor, id: WorkspaceId, change: MemberChange) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const active = change._tag === "add" ? yield* holdActiveUsers([change.userId]) : new Set<UserId>()
      const workspace = yield* lockVisibleWorkspace(actor, id)
      const leaving = change._tag === "remove" && change.userId === actorUserId(actor)
      if (!leaving) yield* requireWorkspaceAdmin(actor, workspace)
      yield* checkMemberChange(workspace, change)
      const store = yield* WorkspaceStore
      const at = yield* now
      const name = actorName(actor)
      switch (change._tag) {
        case "add": {
          if (!active.has(change.userId)) return yield* new UserNotFound({ userId: change.userId })
          yield* store.addMember(id, change.userId, change.role)
          yield* append(at, [{ type: "workspace.member_added", actor: name, workspace_id: id, data: { user_id: change.userId, role: change.role } }])
          return new Member({ user_id: change.userId, role: change.role })
        }
        case "setRole": {
          if (!(yield* store.setMemberRole(id, change.userId, change.role))) {
            return yield* new NotFound({ what: "member", id: change.userId })
          }
          yield* append(at, [{ type: "workspace.member_role_changed", actor: name, workspace_id: id, data: { user_id: change.userId, role: change.role } }])
          return new Member({ user_id: change.userId, role: change.role })
        }
        case "remove": {
          if (!(yield* store.removeMember(id, change.userId))) return yield* new NotFound({ what: "member", id: change.userId })
          yield* append(at, [{ type: "workspace.member_removed", actor: name, workspace_id: id, data: { user_id: change.userId } }])
          return undefined
        }
      }
    }))
})

export const addMember = (actor: Actor, id: WorkspaceId, userId: UserId, role: WorkspaceRole) =>
  Effect.map(changeMembers(actor, id, { _tag: "add", userId, role }), (m) => m!)

export const setMemberRole = (actor: Actor, id: WorkspaceId, userId: UserId, role: WorkspaceRole) =>
  Effect.map(changeMembers(actor, id, { _tag: "setRole", userId, role }), (m) => m!)

/** Removes a member; any member may remove themself (leave), subject to the last-admin rule. */
export const removeMember = (actor: Actor, id: WorkspaceId, userId: UserId) =>
  Effect.asVoid(changeMembers(actor, id, { _tag: "remove", userId }))

/** The team workspaces in which `userId` is the only admin (what blocks deleting them). */
export const soleAdminSeats = spanned("soleAdminSeats", function*(userId: UserId) {
  const workspaces = yield* Effect.flatMap(WorkspaceStore, (s) => s.listForUser(userId))
  return workspaces.filter((w) =>
    !w.is_personal && w.members.filter((m) => m.role === "admin").every((m) => m.user_id === userId) &&
    isWorkspaceAdmin(w, userId)
  )
})

export interface PersonalRepair {
  readonly workspace_id: WorkspaceId
  readonly owner_user_id: UserId | null
  readonly before: ReadonlyArray<Member>
  readonly after: ReadonlyArray<Member>
  readonly status: "would_repair" | "repaired" | "missing_owner"
}

const sameMembers = (a: ReadonlyArray<Member>, b: ReadonlyArray<Member>) =>
  a.length === b.length && a.every((m, i) => m.user_id === b[i]!.user_id && m.role === b[i]!.role)

/** How the repair walk runs: `apply` writes (the default is a dry run); `pageSize` rows per keyset page. */
export interface CleanupOptions {
  readonly apply: boolean
  readonly pageSize?: number | undefined
}

/**
 * Finds personal workspaces whose members are not exactly their owner as
 * admin and, with `apply`, repairs them. A personal workspace without an
 * owner (or whose owner is gone) cannot be repaired: it is listed as
 * `missing_owner` and left untouched.
 *
 * The store finds them (`personalNeedingRepair`) one keyset page at a time,
 * in workspace id order, so the walk holds one page whatever the store's
 * size. With `apply` each page is repaired in its own transaction: its
 * workspaces are locked (in id order) and re-read, and each is repaired
 * only if it still needs it, with one event each. A run that stops
 * half-way has committed whole pages; rerunning it finishes the job
 * (idempotent).
 */
export const cleanupPersonalWorkspaceMembersPages = (actor: Actor, options: CleanupOptions) =>
  Stream.unwrap(Effect.gen(function*() {
    yield* requireSystemAdmin(actor)
    const store = yield* WorkspaceStore
    const pages = keysetPages(clampPage(options.pageSize), store.personalNeedingRepair, (c) => c.workspace.id)
    return Stream.mapEffect(pages, (page) => options.apply ? repairPage(actor, page) : Effect.succeed(page.map(planned)))
  })).pipe(Stream.filter((repairs) => repairs.length > 0))

const missingOwner = (w: Workspace): PersonalRepair =>
  ({ workspace_id: w.id, owner_user_id: w.owner_user_id, before: w.members, after: w.members, status: "missing_owner" })

/** What a dry run reports for a candidate. */
const planned = ({ ownerExists, workspace: w }: PersonalCandidate): PersonalRepair =>
  !ownerExists || w.owner_user_id === null
    ? missingOwner(w)
    : { workspace_id: w.id, owner_user_id: w.owner_user_id, before: w.members, after: personalMembers(w), status: "would_repair" }

/**
 * Repairs one page in one transaction: its workspaces are locked (in id
 * order) and re-read, and those that still need it are repaired, in a few
 * statements however many; those that no longer do are left out.
 */
const repairPage = (actor: Actor, page: ReadonlyArray<PersonalCandidate>) =>
  transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const store = yield* WorkspaceStore
      const at = yield* now
      const repairable = page.filter((c) => c.ownerExists && c.workspace.owner_user_id !== null).map((c) => c.workspace)
      const current = new Map((yield* store.lockAll(repairable.map((w) => w.id))).map((w) => [w.id as string, w]))
      const report: Array<PersonalRepair> = []
      const changes: Array<{ readonly id: WorkspaceId; readonly members: ReadonlyArray<Member> }> = []
      const events: Array<NewEvent> = []
      for (const candidate of page) {
        if (!candidate.ownerExists || candidate.workspace.owner_user_id === null) {
          report.push(missingOwner(candidate.workspace))
          continue
        }
        const stored = current.get(candidate.workspace.id)
        if (stored === undefined || !stored.is_personal || stored.owner_user_id === null) continue
        const wanted = personalMembers(stored)
        if (sameMembers(stored.members, wanted)) continue
        changes.push({ id: stored.id, members: wanted })
        events.push({
          type: "workspace.members_repaired",
          actor: actorName(actor),
          workspace_id: stored.id,
          data: { before: stored.members.map((m) => ({ user_id: m.user_id, role: m.role })), after: wanted.map((m) => ({ user_id: m.user_id, role: m.role })) }
        })
        report.push({ workspace_id: stored.id, owner_user_id: stored.owner_user_id, before: stored.members, after: wanted, status: "repaired" })
      }
      if (changes.length > 0) {
        yield* store.replaceMembersOf(changes)
        yield* append(at, events)
      }
      return report
    }))

/** `cleanupPersonalWorkspaceMembersPages` as one report (for callers that expect few rows; the CLI streams the pages). */
export const cleanupPersonalWorkspaceMembers = spanned("cleanupPersonalWorkspaceMembers", function*(
  actor: Actor,
  options: CleanupOptions
) {
  const pages = yield* Stream.runCollect(cleanupPersonalWorkspaceMembersPages(actor, options))
  return Chunk.toArray(pages).flat()
})
