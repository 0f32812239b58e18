/**
 * Maintenance at scale (issue 9): the repair of personal workspaces, the
 * purge of expired invites and the deletion of a user with many grants walk
 * the store in keyset pages with bounded statements.
 *
 * - Walked in pages smaller than the data, cleanup and purge report exactly
 *   what one page reports, and apply exactly that, one transaction per
 *   page; a walk stopped after its first page is finished by a rerun.
 * - However many rows they touch, no statement they run binds more than a
 *   page's worth of parameters, and deleting a user costs the same
 *   statements with 5 or 60 owned roots, accesses and minted invites.
 *
 * It drives the domain's use cases; broken personal workspaces are written
 * through the raw ports (which bypass every rule), as data from before the
 * rules would be. What the database is asked is counted by `StatementMeter`,
 * which the store's own tests supply.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  addMember,
  cleanupPersonalWorkspaceMembers,
  cleanupPersonalWorkspaceMembersPages,
  createResource,
  createWorkspace,
  deleteUser,
  grantAccess,
  InviteStore,
  Member,
  mintInvite,
  newUserId,
  newWorkspaceId,
  type PersonalRepair,
  purgeExpiredInvites,
  SystemActor,
  type Timestamp,
  Transactor,
  User,
  UserStore,
  Workspace,
  WorkspaceStore
} from "@tessera/domain"
import { Chunk, Context, Effect, Layer, Option, Stream, TestClock } from "effect"
import { lastSeq, uniqueHandle } from "./fixtures.js"
import { Admin, type StorePorts, withAdmin } from "./index.js"
import { eventsAfter, people } from "./lifecycle.js"

export interface StatementCounts {
  readonly statements: number
  /** The most parameters one statement bound. */
  readonly maxParams: number
}

/** Counts what a program asks of the store's database, supplied by the store's tests. */
export class StatementMeter extends Context.Tag("StoreContract/StatementMeter")<StatementMeter, {
  readonly measure: <A, E, R>(program: Effect.Effect<A, E, R>) => Effect.Effect<{ readonly result: A; readonly counts: StatementCounts }, E, R>
}>() {}

const measure = <A, E, R>(program: Effect.Effect<A, E, R>) => Effect.flatMap(StatementMeter, (meter) => meter.measure(program))

const at = "2026-01-01T00:00:00.000Z" as Timestamp

/** The ways a personal workspace is found broken, in turn. */
const BROKEN_KINDS = ["extra member", "owner not admin", "no members", "no owner"] as const

/**
 * Writes `n` personal workspaces that need repair, cycling through the
 * kinds, with their owners (and one bystander member), through the raw
 * ports in one transaction. Returns their ids.
 */
const brokenPersonalWorkspaces = (n: number) =>
  Transactor.run(Effect.gen(function*() {
    const users = yield* UserStore
    const workspaces = yield* WorkspaceStore
    const newUser = Effect.gen(function*() {
      const user = new User({
        id: yield* newUserId,
        handle: uniqueHandle("bulk"),
        role: "member",
        status: "active",
        sign_pub: null,
        kex_pub: null,
        created_at: at,
        revoked_at: null
      })
      yield* users.insert(user).pipe(Effect.orDie)
      return user
    })
    const bystander = yield* newUser
    const ids: Array<string> = []
    for (let i = 0; i < n; i++) {
      const kind = BROKEN_KINDS[i % BROKEN_KINDS.length]!
      const owner = kind === "no owner" ? undefined : yield* newUser
      const members: Array<Member> = kind === "extra member"
        ? [new Member({ user_id: owner!.id, role: "admin" }), new Member({ user_id: bystander.id, role: "member" })]
        : kind === "owner not admin"
        ? [new Member({ user_id: owner!.id, role: "member" })]
        : kind === "no members"
        ? []
        : [new Member({ user_id: bystander.id, role: "admin" })]
      const workspace = new Workspace({
        id: yield* newWorkspaceId,
        name: owner?.handle ?? "orphan",
        about: "",
        custom_instructions: "",
        bundles: [],
        is_personal: true,
        owner_user_id: owner?.id ?? null,
        members,
        created_at: at,
        updated_at: at
      })
      expect(yield* workspaces.insert(workspace)).toBe(true)
      ids.push(workspace.id)
    }
    return ids
  }))

/** A report as plain data, in id order, with `repaired` read as the `would_repair` it was planned as. */
const planOf = (report: ReadonlyArray<PersonalRepair>) =>
  report
    .map((r) => ({
      workspace_id: r.workspace_id,
      owner_user_id: r.owner_user_id,
      before: r.before.map((m) => ({ user_id: m.user_id, role: m.role })),
      after: r.after.map((m) => ({ user_id: m.user_id, role: m.role })),
      status: r.status === "repaired" ? "would_repair" : r.status
    }))
    .sort((a, b) => (a.workspace_id < b.workspace_id ? -1 : 1))

const expireSoon = (n: number) =>
  Effect.gen(function*() {
    const { principal: admin } = yield* Admin
    const ids: Array<string> = []
    for (let i = 0; i < n; i++) {
      const { invite } = yield* mintInvite(admin, { kind: "registration", handle: uniqueHandle("stale"), ttl_seconds: 60 })
      ids.push(invite.id)
    }
    return ids
  })

/** Page size of the walks below: far fewer rows than the data, so every walk takes many pages. */
const PAGE = 4

/**
 * The most parameters a statement of a walk in pages of `PAGE` may bind:
 * a page of ids, or a page of events at seven columns each, plus a few.
 */
const PARAMS_PER_PAGE = PAGE * 7 + 8

export const maintenanceContract = <E>(name: string, store: Layer.Layer<StorePorts | StatementMeter, E>) =>
  layer(Layer.merge(withAdmin(store), store), { timeout: "300 seconds" })(`${name} maintenance contract`, (it) => {
    describe("cleanup personal-workspace-members in keyset pages", () => {
      it.effect("pages smaller than the data report and apply exactly what one page does; a stopped walk is finished by a rerun", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const broken = yield* brokenPersonalWorkspaces(23)
          const whole = yield* cleanupPersonalWorkspaceMembers(admin, { apply: false })
          expect(whole.map((r) => r.workspace_id).sort()).toEqual([...broken].sort())
          expect(whole.filter((r) => r.status === "missing_owner")).toHaveLength(5)
          const paged = yield* cleanupPersonalWorkspaceMembers(admin, { apply: false, pageSize: 3 })
          expect(planOf(paged)).toEqual(planOf(whole))

          // one page applied, then the walk stops: that page is repaired, nothing else
          const seq = yield* lastSeq
          const first = Chunk.toArray(yield* Stream.runCollect(
            cleanupPersonalWorkspaceMembersPages(admin, { apply: true, pageSize: 3 }).pipe(Stream.take(1))
          )).flat()
          expect(first.length).toBeGreaterThan(0)
          expect(first.length).toBeLessThanOrEqual(3)
          const rest = yield* cleanupPersonalWorkspaceMembers(admin, { apply: false, pageSize: 3 })
          const firstRepaired = first.filter((r) => r.status === "repaired").map((r) => r.workspace_id)
          expect(rest.map((r) => r.workspace_id).filter((id) => firstRepaired.includes(id))).toEqual([])

          // the rerun finishes the job: together, exactly the plan of the dry run
          const applied = yield* cleanupPersonalWorkspaceMembers(admin, { apply: true, pageSize: 3 })
          const repairedTwice = applied.filter((r) => r.status === "repaired" && firstRepaired.includes(r.workspace_id))
          expect(repairedTwice).toEqual([])
          const missingOwners = new Set(first.filter((r) => r.status === "missing_owner").map((r) => r.workspace_id))
          expect(planOf([...first, ...applied.filter((r) => !missingOwners.has(r.workspace_id))])).toEqual(planOf(whole))
          expect(applied.every((r) => r.status !== "would_repair")).toBe(true)
          const repairs = (yield* eventsAfter(seq)).filter((e) => e.type === "workspace.members_repaired")
          expect(repairs.map((e) => e.workspace_id).sort()).toEqual(whole.filter((r) => r.status !== "missing_owner").map((r) => r.workspace_id).sort())

          const again = yield* cleanupPersonalWorkspaceMembers(admin, { apply: true, pageSize: 3 })
          expect(planOf(again)).toEqual(planOf(whole.filter((r) => r.status === "missing_owner")))
          for (const id of broken) {
            const w = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(id as never)))
            if (w.owner_user_id !== null) expect(w.members.map((m) => [m.user_id, m.role])).toEqual([[w.owner_user_id, "admin"]])
          }
        }))
    })

    describe("invites purge-expired in keyset pages", () => {
      it.effect("pages smaller than the data report and record exactly what one page does, once", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const stale = yield* expireSoon(11)
          const { invite: fresh } = yield* mintInvite(admin, { kind: "registration", handle: uniqueHandle("fresh") })
          yield* TestClock.adjust("2 minutes")
          const whole = yield* purgeExpiredInvites(SystemActor, { apply: false })
          expect(whole.invites.map((i) => i.id).sort()).toEqual([...stale].sort())
          const paged = yield* purgeExpiredInvites(SystemActor, { apply: false, pageSize: 2 })
          expect(paged).toEqual(whole)
          const seq = yield* lastSeq
          const applied = yield* purgeExpiredInvites(SystemActor, { apply: true, pageSize: 2 })
          expect(applied.applied).toBe(true)
          expect(applied.invites.map((i) => ({ ...i }))).toEqual(whole.invites.map((i) => ({ ...i, status: "expired" })))
          const events = (yield* eventsAfter(seq)).filter((e) => e.type === "invite.expired")
          expect(events.map((e) => e.data["invite_id"]).sort()).toEqual([...stale].sort())
          expect(yield* purgeExpiredInvites(SystemActor, { apply: true, pageSize: 2 })).toEqual({ invites: [], applied: false })
          expect(Option.getOrThrow(yield* Effect.flatMap(InviteStore, (s) => s.findById(fresh.id))).status).toBe("pending")
        }))
    })

    describe("bounded statements", () => {
      it.effect(`cleanup and purge in pages of ${PAGE} never bind more than ${PARAMS_PER_PAGE} parameters in one statement, whatever the rows`, () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          yield* brokenPersonalWorkspaces(60)
          yield* expireSoon(30)
          yield* TestClock.adjust("2 minutes")
          for (const apply of [false, true]) {
            const cleanup = yield* measure(cleanupPersonalWorkspaceMembers(admin, { apply, pageSize: PAGE }))
            expect(cleanup.result.length).toBeGreaterThanOrEqual(60)
            expect(cleanup.counts.maxParams).toBeLessThanOrEqual(PARAMS_PER_PAGE)
            const purge = yield* measure(purgeExpiredInvites(admin, { apply, pageSize: PAGE }))
            expect(purge.result.invites.length).toBeGreaterThanOrEqual(30)
            expect(purge.counts.maxParams).toBeLessThanOrEqual(PARAMS_PER_PAGE)
          }
        }))

      it.effect("deleting a user costs the same statements with 5 or 60 owned roots, accesses and minted invites, none binding a list", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const team = yield* createWorkspace(admin, { name: "granted" })
          const [few, many] = yield* people(2)
          const endow = (p: typeof few, n: number) =>
            Effect.gen(function*() {
              yield* addMember(admin, team.id, p!.id, "member")
              for (let i = 0; i < n; i++) {
                const root = yield* createResource(admin, team.id, { title: `owned ${i}` })
                yield* grantAccess(admin, root.id, p!.id, "owner")
                const child = yield* createResource(admin, team.id, { title: `edited ${i}`, parent_id: root.id })
                yield* grantAccess(admin, child.id, p!.id, "editor")
                yield* mintInvite(p!.principal, { kind: "grant", resource_id: child.id, resource_role: "reader" })
              }
            })
          yield* endow(few, 5)
          yield* endow(many, 60)
          const small = yield* measure(deleteUser(admin, few!.id, Option.none()))
          const large = yield* measure(deleteUser(admin, many!.id, Option.none()))
          expect(small.result).toMatchObject({ accesses_removed: 10, invites_canceled: 5, memberships_removed: 1 })
          expect(large.result).toMatchObject({ accesses_removed: 120, invites_canceled: 60, memberships_removed: 1 })
          expect(large.counts.statements).toBe(small.counts.statements)
          expect(large.counts.maxParams).toBeLessThanOrEqual(16)
        }))
    })
  })
