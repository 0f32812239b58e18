/**
 * A use case's writes and its events commit together or not at all (docs/consistency.md,
 * docs/domain.md#events). For every writing use case the event log's `append` is made to
 * die: the use case must fail, and every table must be exactly as it was —
 * an event appended after the commit, instead of inside the transaction,
 * would leave the use case's writes behind. The same call then runs
 * undisturbed and must succeed, writing rows and events, so that each
 * scenario is known to reach its writes.
 *
 * It drives the domain's use cases through the store's ports and reads the
 * tables only through `StoreSql`; where a scenario needs state no use case
 * makes (a personal workspace gone or broken), it writes it through the raw
 * ports, which bypass every rule.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  addMember,
  authenticateBearer,
  bootstrapAdmin,
  cancelInvite,
  changeAccess,
  cleanupPersonalWorkspaceMembers,
  createResource,
  createWorkspace,
  deleteUser,
  deleteWorkspace,
  disableShareLink,
  EventLog,
  grantAccess,
  type Handle,
  Member,
  mintInvite,
  moveResource,
  myPersonalWorkspace,
  patchResource,
  patchWorkspace,
  purgeExpiredInvites,
  putShareLink,
  redeemInvite,
  register,
  removeAccess,
  removeMember,
  revokeResource,
  revokeUser,
  setMemberRole,
  SystemActor,
  Transactor,
  WorkspaceStore
} from "@tessera/domain"
import { Cause, Effect, Exit, Layer, Option, TestClock } from "effect"
import { publicKeys, uniqueHandle } from "./fixtures.js"
import { Admin, type StorePorts, withAdmin } from "./index.js"
import { snapshotDiff, snapshotTables, StoreSql } from "./invariants.js"
import { people } from "./lifecycle.js"

/** The store's own event log, except that `append` dies. */
const appendDies = Layer.effect(
  EventLog,
  Effect.map(EventLog, (live) => EventLog.of({ ...live, append: () => Effect.die(new Error("injected: append")) }))
)

/**
 * Runs `action` with `append` dying — it must die of exactly that and change
 * no row of any table — then undisturbed: it must succeed and write events
 * and at least one other table.
 */
const allOrNothing = <A, E, R>(action: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = yield* snapshotTables
    const exit = yield* Effect.exit(Effect.provide(action, appendDies))
    const defect = Exit.isFailure(exit) ? Option.getOrNull(Option.map(Cause.dieOption(exit.cause), String)) : null
    expect({ failed: Exit.isFailure(exit), defect }).toEqual({ failed: true, defect: "Error: injected: append" })
    expect(snapshotDiff(before, yield* snapshotTables)).toEqual({})
    const result = yield* action
    const changed = Object.keys(snapshotDiff(before, yield* snapshotTables))
    expect(changed).toContain("events")
    expect(changed.filter((table) => table !== "events" && table !== "event_counter")).not.toEqual([])
    return result
  })

export const failureContract = <E, E2, R = never>(
  name: string,
  store: Layer.Layer<StorePorts | StoreSql | R, E>,
  emptyStore: Layer.Layer<StorePorts | StoreSql | R, E2>
) => {
  layer(Layer.merge(withAdmin(store), store), { timeout: "120 seconds" })(`${name} all-or-nothing contract`, (it) => {
    describe("a use case whose event cannot be appended writes nothing", () => {
      it.effect("createWorkspace", () =>
        Effect.gen(function*() {
          const [a] = yield* people(1)
          yield* allOrNothing(createWorkspace(a!.principal, { name: "atomic" }))
        }))

      it.effect("patchWorkspace (fields and members)", () =>
        Effect.gen(function*() {
          const [a, b, c] = yield* people(3)
          const team = yield* createWorkspace(a!.principal, { name: "patched" })
          yield* addMember(a!.principal, team.id, b!.id, "member")
          yield* allOrNothing(patchWorkspace(a!.principal, team.id, {
            name: "renamed",
            members: [{ user_id: a!.id, role: "admin" }, { user_id: c!.id, role: "member" }]
          }))
        }))

      it.effect("addMember, setMemberRole, removeMember", () =>
        Effect.gen(function*() {
          const [a, b] = yield* people(2)
          const team = yield* createWorkspace(a!.principal, { name: "members" })
          yield* allOrNothing(addMember(a!.principal, team.id, b!.id, "member"))
          yield* allOrNothing(setMemberRole(a!.principal, team.id, b!.id, "admin"))
          yield* allOrNothing(removeMember(a!.principal, team.id, b!.id))
        }))

      it.effect("myPersonalWorkspace recreating a missing personal workspace", () =>
        Effect.gen(function*() {
          const [a] = yield* people(1)
          // data from before the rules: the user has no personal workspace
          yield* Transactor.run(Effect.flatMap(WorkspaceStore, (s) => s.deletePersonalOf(a!.id)))
          const created = yield* allOrNothing(myPersonalWorkspace(a!.principal))
          expect(created.owner_user_id).toBe(a!.id)
        }))

      it.effect("createResource: a root with its owner access, a child, a root in a personal workspace", () =>
        Effect.gen(function*() {
          const [a] = yield* people(1)
          const team = yield* createWorkspace(a!.principal, { name: "resources" })
          const root = yield* allOrNothing(createResource(a!.principal, team.id, { title: "root" }))
          yield* allOrNothing(createResource(a!.principal, team.id, { title: "child", parent_id: root.id }))
          yield* allOrNothing(createResource(a!.principal, a!.personal, { title: "mine" }))
        }))

      it.effect("patchResource", () =>
        Effect.gen(function*() {
          const [a] = yield* people(1)
          const team = yield* createWorkspace(a!.principal, { name: "patch" })
          const root = yield* createResource(a!.principal, team.id, { title: "root" })
          yield* allOrNothing(patchResource(a!.principal, root.id, { title: "renamed", link_reach: "workspace" }))
        }))

      it.effect("grantAccess, changeAccess, removeAccess", () =>
        Effect.gen(function*() {
          const [a, b] = yield* people(2)
          const team = yield* createWorkspace(a!.principal, { name: "accesses" })
          const root = yield* createResource(a!.principal, team.id, { title: "root" })
          const access = yield* allOrNothing(grantAccess(a!.principal, root.id, b!.id, "reader"))
          yield* allOrNothing(changeAccess(a!.principal, root.id, access.id, "owner"))
          yield* allOrNothing(removeAccess(a!.principal, root.id, access.id))
        }))

      it.effect("moveResource out of its scope: the move, its accesses, its invites and the owners restored", () =>
        Effect.gen(function*() {
          const [a, b, x] = yield* people(3)
          const team = yield* createWorkspace(a!.principal, { name: "moves" })
          const root = yield* createResource(a!.principal, team.id, { title: "root" })
          yield* grantAccess(a!.principal, root.id, b!.id, "owner")
          const child = yield* createResource(a!.principal, team.id, { title: "child", parent_id: root.id })
          yield* grantAccess(a!.principal, child.id, x!.id, "editor")
          yield* mintInvite(a!.principal, { kind: "grant", resource_id: child.id, resource_role: "reader" })
          const report = yield* allOrNothing(moveResource(a!.principal, child.id, { targetId: root.id, position: "right", dryRun: false }))
          expect(report).toMatchObject({ scope_changed: true, accesses_deleted: 1, invites_canceled: 1, owners_restored: 2 })
        }))

      it.effect("mintInvite: a workspace grant, a resource grant, a registration over an expired one", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const [a] = yield* people(1)
          const team = yield* createWorkspace(a!.principal, { name: "invites" })
          const root = yield* createResource(a!.principal, team.id, { title: "root" })
          yield* allOrNothing(mintInvite(a!.principal, { kind: "grant", workspace_id: team.id, workspace_role: "member" }))
          yield* allOrNothing(mintInvite(a!.principal, { kind: "grant", resource_id: root.id, resource_role: "editor" }))
          const handle = uniqueHandle("again")
          yield* mintInvite(admin, { kind: "registration", handle, ttl_seconds: 60 })
          yield* TestClock.adjust("61 seconds")
          // records the expired invite and mints the new one, in one transaction
          yield* allOrNothing(mintInvite(admin, { kind: "registration", handle }))
        }))

      it.effect("cancelInvite", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const { invite } = yield* mintInvite(admin, { kind: "registration", handle: uniqueHandle("cancel") })
          yield* allOrNothing(cancelInvite(admin, invite.id))
        }))

      it.effect("redeemInvite: a workspace grant and a resource grant", () =>
        Effect.gen(function*() {
          const [a, b] = yield* people(2)
          const team = yield* createWorkspace(a!.principal, { name: "redeem" })
          const root = yield* createResource(a!.principal, team.id, { title: "root" })
          const toTeam = yield* mintInvite(a!.principal, { kind: "grant", workspace_id: team.id, workspace_role: "member" })
          const toRoot = yield* mintInvite(a!.principal, { kind: "grant", resource_id: root.id, resource_role: "editor" })
          yield* allOrNothing(redeemInvite(b!.principal, toTeam.token))
          yield* allOrNothing(redeemInvite(b!.principal, toRoot.token))
        }))

      it.effect("register, with a workspace grant", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const [a] = yield* people(1)
          const team = yield* createWorkspace(a!.principal, { name: "joiners" })
          const { token } = yield* mintInvite(admin, {
            kind: "registration",
            handle: uniqueHandle("joiner"),
            workspace_id: team.id,
            workspace_role: "member"
          })
          const keys = publicKeys()
          yield* allOrNothing(register({ token, ...keys }))
        }))

      it.effect("putShareLink creating and rotating, disableShareLink", () =>
        Effect.gen(function*() {
          const [a] = yield* people(1)
          const team = yield* createWorkspace(a!.principal, { name: "links" })
          const root = yield* createResource(a!.principal, team.id, { title: "root" })
          yield* allOrNothing(putShareLink(a!.principal, root.id, "reader"))
          // the active link is disabled and the new one inserted, in one transaction
          yield* allOrNothing(putShareLink(a!.principal, root.id, "editor"))
          const disabled = yield* allOrNothing(disableShareLink(a!.principal, root.id))
          expect(disabled.disabled).toBe(true)
        }))

      it.effect("a link's bearer creating a child", () =>
        Effect.gen(function*() {
          const [a] = yield* people(1)
          const team = yield* createWorkspace(a!.principal, { name: "bearer" })
          const root = yield* createResource(a!.principal, team.id, { title: "root" })
          const bearer = yield* authenticateBearer((yield* putShareLink(a!.principal, root.id, "editor")).token)
          yield* allOrNothing(createResource(bearer, team.id, { title: "through the link", parent_id: root.id }))
        }))

      it.effect("revokeResource: the subtree, its pending invites and its share links", () =>
        Effect.gen(function*() {
          const [a] = yield* people(1)
          const team = yield* createWorkspace(a!.principal, { name: "revoked" })
          const root = yield* createResource(a!.principal, team.id, { title: "root" })
          const child = yield* createResource(a!.principal, team.id, { title: "child", parent_id: root.id })
          yield* createResource(a!.principal, team.id, { title: "grandchild", parent_id: child.id })
          yield* mintInvite(a!.principal, { kind: "grant", resource_id: child.id, resource_role: "reader" })
          yield* putShareLink(a!.principal, root.id, "reader")
          yield* putShareLink(a!.principal, child.id, "editor")
          const report = yield* allOrNothing(revokeResource(a!.principal, root.id, { dryRun: false }))
          expect(report).toMatchObject({ descendants_revoked: 2, invites_revoked: 1, share_link_disabled: true, share_links_disabled: 2 })
        }))

      it.effect("revokeUser", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const [a] = yield* people(1)
          yield* allOrNothing(revokeUser(admin, a!.id))
        }))

      it.effect("deleteUser: personal workspace and its resources, memberships, accesses elsewhere, keys, minted invites", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const [o, u] = yield* people(2)
          const team = yield* createWorkspace(o!.principal, { name: "leaving" })
          yield* addMember(o!.principal, team.id, u!.id, "admin")
          const root = yield* createResource(o!.principal, team.id, { title: "root" })
          yield* grantAccess(o!.principal, root.id, u!.id, "editor")
          yield* mintInvite(u!.principal, { kind: "grant", workspace_id: team.id, workspace_role: "member" })
          const mine = yield* createResource(u!.principal, u!.personal, { title: "mine" })
          yield* createResource(u!.principal, u!.personal, { title: "below", parent_id: mine.id })
          const report = yield* allOrNothing(deleteUser(admin, u!.id, Option.none()))
          expect(report).toMatchObject({ personal_workspaces_deleted: 1, memberships_removed: 1, accesses_removed: 1, invites_canceled: 1 })
        }))

      it.effect("deleteUser with transfer_to: admin seats and owner seats pass to the heir", () =>
        Effect.gen(function*() {
          const [u, heir] = yield* people(2)
          const team = yield* createWorkspace(u!.principal, { name: "inherited" })
          yield* addMember(u!.principal, team.id, heir!.id, "member")
          yield* createResource(u!.principal, team.id, { title: "root" })
          yield* allOrNothing(deleteUser(SystemActor, u!.id, Option.some(heir!.id)))
        }))

      it.effect("deleteWorkspace with its members, resources and accesses", () =>
        Effect.gen(function*() {
          const [a, b] = yield* people(2)
          const team = yield* createWorkspace(a!.principal, { name: "doomed" })
          yield* addMember(a!.principal, team.id, b!.id, "member")
          const root = yield* createResource(a!.principal, team.id, { title: "root" })
          yield* createResource(a!.principal, team.id, { title: "child", parent_id: root.id })
          yield* grantAccess(a!.principal, root.id, b!.id, "editor")
          yield* allOrNothing(deleteWorkspace(a!.principal, team.id))
        }))

      it.effect("purgeExpiredInvites with apply", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          yield* mintInvite(admin, { kind: "registration", handle: uniqueHandle("stale"), ttl_seconds: 60 })
          yield* TestClock.adjust("61 seconds")
          const purged = yield* allOrNothing(purgeExpiredInvites(admin, { apply: true }))
          expect(purged.applied).toBe(true)
        }))

      it.effect("cleanupPersonalWorkspaceMembers with apply", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const [a, b] = yield* people(2)
          // data from before the rules: someone else in a personal workspace
          yield* Transactor.run(Effect.flatMap(WorkspaceStore, (s) =>
            s.replaceMembers(a!.personal, [new Member({ user_id: a!.id, role: "admin" }), new Member({ user_id: b!.id, role: "member" })])))
          const report = yield* allOrNothing(cleanupPersonalWorkspaceMembers(admin, { apply: true }))
          expect(report.filter((r) => r.workspace_id === a!.personal).map((r) => r.status)).toEqual(["repaired"])
        }))
    })
  })

  layer(emptyStore, { timeout: "120 seconds" })(`${name} all-or-nothing contract on an empty store`, (it) => {
    it.effect("bootstrapAdmin", () =>
      Effect.gen(function*() {
        const created = yield* allOrNothing(bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.none() }))
        expect(created.user.role).toBe("admin")
      }))
  })
}
