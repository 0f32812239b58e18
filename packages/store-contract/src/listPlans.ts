/**
 * Every list's page reads its rows from an index (docs/http.md, "Paging parameters"):
 * on a store seeded with thousands of users, workspaces, invites, resources,
 * accesses and events, each page statement a list runs is planned by the
 * store itself (`PlanProbe.plansOf`: the statements the program ran, each
 * explained with its parameters) and no plan reads a whole table, and no
 * keyset page sorts: its order is an index's order, so a page stops after
 * its rows. Principals and reachable resources walk a resource's path or a
 * user's grants; their sorts are of that walk's rows, never of a table, so
 * for them only full scans are refused. The permission check's walk, one
 * check or a batch, reads each step from `resources_walk` (migration 0007),
 * the index that holds every column a step needs.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  AccessQueries,
  EventLog,
  InviteStore,
  type InviteId,
  type ResourceId,
  ResourceStore,
  type Timestamp,
  type UserId,
  UserStore,
  type WorkspaceId,
  WorkspaceStore
} from "@tessera/domain"
import { Context, Effect, Layer } from "effect"

/** One statement a program ran, as the store plans it. */
export interface StatementPlan {
  readonly text: string
  /** The tables (or their aliases) the plan reads whole, without an index. */
  readonly fullScans: ReadonlyArray<string>
  /** The sorts in the plan. */
  readonly sorts: number
  /** The indexes the plan reads, by name. */
  readonly indexes: ReadonlyArray<string>
}

/** The store's side of the suite: raw seeding, fresh planner statistics, and plans. */
export class PlanProbe extends Context.Tag("StoreContract/PlanProbe")<PlanProbe, {
  readonly run: (statement: string) => Effect.Effect<void>
  readonly analyze: Effect.Effect<void>
  readonly plansOf: <A, E, R>(program: Effect.Effect<A, E, R>) => Effect.Effect<{ readonly result: A; readonly plans: ReadonlyArray<StatementPlan> }, E, R>
}>() {}

/** The tables of the schema; a plan that reads one of them whole is refused. */
export const TABLES = ["users", "api_keys", "invites", "workspaces", "workspace_members", "resources", "resource_accesses", "share_links", "events"] as const

const N = 3000
const PAGE = 100
const hex = (prefix: string, i: number) => `${prefix}_${String(i).padStart(32, "0")}`
/** SQL for the same id from the row number `i` (the text both dialects share). */
const hexSql = (prefix: string) => `'${prefix}_' || substr('${"0".repeat(32)}' || i, length('${"0".repeat(32)}' || i) - 31)`
const rows = (body: string) => `WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${N}) ${body}`
const at = "'2026-01-01T00:00:00.000Z'"

const W = hex("ws", 1) as WorkspaceId
const PARENT = hex("res", 1) as ResourceId
const USER = hex("usr", 7) as UserId

/**
 * `N` users; `N` team workspaces, `USER` a member of every third; in `W`,
 * `N` resources: the odd ones roots, the even ones children of `PARENT`;
 * `N` accesses, half on `PARENT`, a third `USER`'s; `N` invites over nine
 * days, minted by ten users, a third on `W` and a third on `PARENT`, in every
 * stored status; `N` events, a third in `W`.
 */
const seed = (run: (statement: string) => Effect.Effect<void>) =>
  Effect.forEach([
    rows(`INSERT INTO users (id, handle, role, status, created_at) SELECT ${hexSql("usr")}, 'user' || i, 'member', 'active', ${at} FROM n`),
    rows(`INSERT INTO workspaces (id, name, is_personal, created_at, updated_at) SELECT ${hexSql("ws")}, 'w' || i, 0, ${at}, ${at} FROM n`),
    rows(`INSERT INTO workspace_members (workspace_id, user_id, role) SELECT ${hexSql("ws")}, '${USER}', 'member' FROM n WHERE i % 3 = 0`),
    rows(`INSERT INTO workspace_members (workspace_id, user_id, role) SELECT '${W}', ${hexSql("usr")}, 'member' FROM n WHERE i % 5 = 0`),
    rows(`INSERT INTO resources (id, workspace_id, kind, title, parent_id, position, link_reach, link_role, created_at, updated_at)
          SELECT ${hexSql("res")}, '${W}', 'doc', 't' || i, CASE WHEN i % 2 = 0 THEN '${PARENT}' ELSE NULL END, i / 2,
                 CASE WHEN i % 7 = 0 THEN 'workspace' ELSE 'restricted' END, 'reader', ${at}, ${at} FROM n`),
    rows(`INSERT INTO resource_accesses (id, resource_id, user_id, role)
          SELECT 'acc_' || i, CASE WHEN i % 2 = 0 THEN '${PARENT}' ELSE ${hexSql("res")} END,
                 CASE WHEN i % 3 = 0 THEN '${USER}' ELSE ${hexSql("usr")} END, 'reader' FROM n WHERE i % 3 <> 0 OR i % 2 = 1`),
    rows(`INSERT INTO invites (id, digest, kind, status, workspace_id, workspace_role, resource_id, resource_role, expires_at, created_at, created_by)
          SELECT ${hexSql("inv")}, 'digest' || i, 'grant',
                 CASE i % 4 WHEN 0 THEN 'pending' WHEN 1 THEN 'redeemed' WHEN 2 THEN 'canceled' ELSE 'expired' END,
                 CASE WHEN i % 3 = 0 THEN '${W}' ELSE NULL END, CASE WHEN i % 3 = 0 THEN 'member' ELSE NULL END,
                 CASE WHEN i % 3 = 1 THEN '${PARENT}' ELSE NULL END, CASE WHEN i % 3 = 1 THEN 'reader' ELSE NULL END,
                 '2030-01-01T00:00:00.000Z', '2026-01-0' || (1 + i % 9) || 'T00:00:00.000Z', '${hex("usr", 1)}' FROM n WHERE i % 3 <> 2
          UNION ALL
          SELECT ${hexSql("inv")}, 'digest' || i, 'grant', 'pending', NULL, NULL, NULL, NULL,
                 '2030-01-01T00:00:00.000Z', '2026-01-0' || (1 + i % 9) || 'T00:00:00.000Z', 'usr_' || substr('${"0".repeat(32)}' || (i % 10), length('${"0".repeat(32)}' || (i % 10)) - 31)
          FROM n WHERE i % 3 = 2`),
    rows(`INSERT INTO events (seq, type, at, actor, workspace_id, resource_id, data)
          SELECT i, CASE WHEN i % 2 = 0 THEN 'resource.created' ELSE 'user.registered' END, ${at}, 'system',
                 CASE WHEN i % 3 = 0 THEN '${W}' ELSE NULL END, NULL, '{}' FROM n`),
    `UPDATE event_counter SET last_seq = ${N} WHERE id = 1`
  ], run, { discard: true })

type Ports = UserStore | WorkspaceStore | InviteStore | ResourceStore | EventLog | AccessQueries

const now = "2026-06-01T00:00:00.000Z" as Timestamp
const inviteKey = ["2026-01-03T00:00:00.000Z" as Timestamp, hex("inv", 1500) as InviteId] as const

/** Each list's page statements: the program that reads a page after the middle, and whether its page may sort. */
const cases: ReadonlyArray<{ readonly list: string; readonly page: Effect.Effect<ReadonlyArray<unknown>, never, Ports>; readonly sorts: boolean }> = [
  { list: "users", page: Effect.flatMap(UserStore, (s) => s.page(hex("usr", 1500) as UserId, PAGE + 1)), sorts: false },
  { list: "workspaces", page: Effect.flatMap(WorkspaceStore, (s) => s.page(null, hex("ws", 1500) as WorkspaceId, PAGE + 1)), sorts: false },
  { list: "a member's workspaces", page: Effect.flatMap(WorkspaceStore, (s) => s.page(USER, hex("ws", 1500) as WorkspaceId, PAGE + 1)), sorts: false },
  { list: "invites", page: Effect.flatMap(InviteStore, (s) => s.page({ now }, inviteKey, PAGE + 1)), sorts: false },
  { list: "invites, first page", page: Effect.flatMap(InviteStore, (s) => s.page({ now }, null, PAGE + 1)), sorts: false },
  { list: "a minter's invites", page: Effect.flatMap(InviteStore, (s) => s.page({ now, createdBy: hex("usr", 1) as UserId }, inviteKey, PAGE + 1)), sorts: false },
  { list: "a workspace's invites", page: Effect.flatMap(InviteStore, (s) => s.page({ now, workspaceId: W }, inviteKey, PAGE + 1)), sorts: false },
  { list: "a resource's invites", page: Effect.flatMap(InviteStore, (s) => s.page({ now, resourceId: PARENT }, inviteKey, PAGE + 1)), sorts: false },
  { list: "pending invites", page: Effect.flatMap(InviteStore, (s) => s.page({ now, status: "pending" }, inviteKey, PAGE + 1)), sorts: false },
  { list: "canceled invites", page: Effect.flatMap(InviteStore, (s) => s.page({ now, status: "canceled" }, inviteKey, PAGE + 1)), sorts: false },
  { list: "children", page: Effect.flatMap(ResourceStore, (s) => s.childrenPage(W, PARENT, [500, hex("res", 1000) as ResourceId], PAGE + 1)), sorts: false },
  { list: "children, first page", page: Effect.flatMap(ResourceStore, (s) => s.childrenPage(W, PARENT, null, PAGE + 1)), sorts: false },
  { list: "roots", page: Effect.flatMap(ResourceStore, (s) => s.childrenPage(W, null, [500, hex("res", 1001) as ResourceId], PAGE + 1)), sorts: false },
  { list: "accesses", page: Effect.flatMap(ResourceStore, (s) => s.accessesPage([PARENT], "acc_1500", PAGE + 1)), sorts: false },
  { list: "accesses with inherited", page: Effect.flatMap(ResourceStore, (s) => s.accessesPage([hex("res", 2) as ResourceId, PARENT], "acc_1500", PAGE + 1)), sorts: true },
  { list: "events", page: Effect.flatMap(EventLog, (log) => log.list({ after: 1500, limit: PAGE + 1 })), sorts: false },
  { list: "a workspace's events", page: Effect.flatMap(EventLog, (log) => log.list({ after: 1500, limit: PAGE + 1, workspaceId: W })), sorts: false },
  { list: "events of a type", page: Effect.flatMap(EventLog, (log) => log.list({ after: 1500, limit: PAGE + 1, type: "resource.created" })), sorts: false },
  { list: "principals", page: Effect.map(Effect.flatMap(AccessQueries, (q) => q.principals(hex("res", 2) as ResourceId, null, PAGE + 1)), (p) => p.principals), sorts: true },
  {
    list: "reachable",
    page: Effect.flatMap(AccessQueries, (q) => q.reachable(USER, ["reader", "commenter", "editor", "administrator", "owner"], null, hex("res", 10) as ResourceId, PAGE + 1)),
    sorts: true
  }
]

export const listPlansContract = <E>(name: string, store: Layer.Layer<Ports | PlanProbe, E>) =>
  layer(Layer.effectDiscard(Effect.flatMap(PlanProbe, (probe) => Effect.zipRight(seed(probe.run), probe.analyze))).pipe(Layer.provideMerge(store)), {
    timeout: "120 seconds",
    excludeTestServices: true
  })(`${name} list plans contract`, (it) => {
    describe("every page statement reads an index", () => {
      for (const { list, page, sorts } of cases) {
        it.effect(`${list}: no table read whole${sorts ? "" : ", no sort"}`, () =>
          Effect.gen(function*() {
            const probe = yield* PlanProbe
            const { plans, result } = yield* probe.plansOf(page)
            // a real page, past the first rows: the seed holds more than a page of each list
            expect(result.length).toBeGreaterThan(0)
            expect(plans.length).toBeGreaterThan(0)
            expect({
              fullScans: plans.flatMap((p) => p.fullScans.map((t) => `${t} in ${p.text.slice(0, 120)}`)),
              sorts: sorts ? [] : plans.filter((p) => /\bLIMIT\b/i.test(p.text) && p.sorts > 0).map((p) => p.text.slice(0, 120))
            }).toEqual({ fullScans: [], sorts: [] })
          }))
      }
    })

    describe("the check's walk reads the covering index", () => {
      const walks = [
        { name: "one check", requests: [{ resourceId: hex("res", 2) as ResourceId, userId: USER }] },
        { name: "a batch", requests: [{ resourceId: hex("res", 2) as ResourceId, userId: USER }, { resourceId: hex("res", 3) as ResourceId, userId: hex("usr", 8) as UserId }] }
      ]
      for (const { name, requests } of walks) {
        it.effect(`${name}: resources through resources_walk, no table read whole`, () =>
          Effect.gen(function*() {
            const probe = yield* PlanProbe
            const { plans, result } = yield* probe.plansOf(Effect.flatMap(ResourceStore, (s) => s.roleFactsBatch(requests)))
            expect(result.map((facts) => facts.path.length > 0)).toEqual(requests.map(() => true))
            expect(plans.map((p) => ({ fullScans: p.fullScans, walk: p.indexes.includes("resources_walk") })))
              .toEqual([{ fullScans: [], walk: true }])
          }))
      }
    })
  })
