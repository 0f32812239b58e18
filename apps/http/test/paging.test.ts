// Paging on every list, over HTTP on both stores (docs/http.md, "Paging"):
// 1,000 items paged with limits 1000 and 7 (and, to keep the run bounded,
// 150 of them with limit 1) give each item exactly once in the list's
// documented order, also while items are inserted and deleted between
// pages: no item twice, every item that was there from the start and not
// deleted (a survivor) seen, nothing seen that never existed. The last page
// has no `next_cursor`. In sibling order a move between pages skips and
// repeats no resource that did not move. A cursor of another list, a
// malformed cursor and a `limit` outside 1..1000 are 400 with one issue.
//
// Items are made with direct SQL in the served store (a thousand rows in a
// few statements); the lists are read over HTTP as a client pages them.
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import { as, asAdmin, byAdmin, Served, storeOf, type StoreName, served } from "./harness.js"

const hex = () => randomBytes(16).toString("hex")
const at = (n: number) => new Date(Date.UTC(2026, 0, 1) + n).toISOString()

/** A list as the test drives it: where it is read, how its items compare, and how to add and remove one. */
interface ListUnderTest {
  readonly name: string
  readonly path: string
  readonly field: string
  /** The documented order: negative when `a` comes before `b`. */
  readonly order: (a: any, b: any) => number
  /** Adds `n` items (one each when inserting between pages); their ids. */
  readonly insert: (n: number) => Effect.Effect<ReadonlyArray<string>, never, Served>
  readonly remove: (id: string) => Effect.Effect<void, never, Served>
  /** The ids the list holds now, read with SQL. */
  readonly ids: Effect.Effect<ReadonlyArray<string>, never, Served>
  /** An item never deleted (the admin calling). */
  readonly keep?: string
  /** What identifies an item (its `id` unless said). */
  readonly idOf?: (item: any) => string
}

const byId = (a: any, b: any) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

const withSql = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.flatMap(Served, ({ sql }) => Effect.orDie(f(sql)))

/** Inserts rows `per` at a time. */
const insertRows = (table: string, rows: ReadonlyArray<Record<string, unknown>>, per = 100) =>
  withSql((sql) =>
    Effect.forEach(
      Array.from({ length: Math.ceil(rows.length / per) }, (_, i) => rows.slice(i * per, (i + 1) * per)),
      (chunk) => sql`INSERT INTO ${sql(table)} ${sql.insert(chunk as Array<Record<string, unknown>>)}`,
      { discard: true }
    ))

const idsOf = (query: (sql: SqlClient.SqlClient) => Effect.Effect<ReadonlyArray<any>, unknown>) =>
  withSql((sql) => Effect.map(query(sql), (rows) => rows.map((r) => String(r.id))))

let made = 0

const users = (adminId: string): ListUnderTest => ({
  name: "users",
  keep: adminId,
  path: "/v1/users",
  field: "users",
  order: byId,
  insert: (n) => {
    const rows = Array.from({ length: n }, () => ({
      id: `usr_${hex()}`,
      handle: `p${hex().slice(0, 20)}`,
      role: "member",
      status: "active",
      sign_pub: null,
      kex_pub: null,
      created_at: at(made++),
      revoked_at: null
    }))
    return Effect.as(insertRows("users", rows), rows.map((r) => r.id))
  },
  remove: (id) => withSql((sql) => sql`DELETE FROM users WHERE id = ${id}`),
  ids: idsOf((sql) => sql`SELECT id FROM users`)
})

/** The admin's workspaces: the list `GET /v1/workspaces` gives the admin. */
const workspaces = (adminId: string): ListUnderTest => ({
  name: "workspaces",
  path: "/v1/workspaces",
  field: "workspaces",
  order: byId,
  insert: (n) => {
    const rows = Array.from({ length: n }, () => ({
      id: `ws_${hex()}`,
      name: `team ${made}`,
      about: "",
      custom_instructions: "",
      bundles: "[]",
      is_personal: 0,
      owner_user_id: null,
      created_at: at(made),
      updated_at: at(made++)
    }))
    return Effect.zipRight(
      insertRows("workspaces", rows),
      Effect.as(insertRows("workspace_members", rows.map((r) => ({ workspace_id: r.id, user_id: adminId, role: "admin" }))), rows.map((r) => r.id))
    )
  },
  remove: (id) =>
    withSql((sql) =>
      Effect.zipRight(sql`DELETE FROM workspace_members WHERE workspace_id = ${id}`, sql`DELETE FROM workspaces WHERE id = ${id}`)
    ),
  ids: idsOf((sql) => sql`SELECT workspace_id AS id FROM workspace_members WHERE user_id = ${adminId}`)
})

/** (created_at, id): invites, oldest first. */
const byCreation = (a: any, b: any) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : byId(a, b))

/**
 * Registration invites minted by the admin, three to a creation time (so
 * the id breaks ties), a third of them pending, a third canceled, a third
 * pending past their expiry (listed as expired). One inserted between pages
 * gets a creation time among the others', before or after the cursor.
 */
const invites = (adminId: string): ListUnderTest => ({
  name: "invites",
  path: "/v1/invites",
  field: "invites",
  order: byCreation,
  insert: (n) => {
    const rows = Array.from({ length: n }, () => {
      const i = made++
      return {
        id: `inv_${hex()}`,
        kind: "registration",
        status: i % 3 === 1 ? "canceled" : "pending",
        handle: `h${hex().slice(0, 20)}`,
        role: "member",
        workspace_id: null,
        workspace_role: null,
        resource_id: null,
        resource_role: null,
        expires_at: i % 3 === 2 ? at(i) : "2999-01-01T00:00:00.000Z",
        created_at: at(n === 1 ? Math.floor(Math.random() * made / 3) : Math.floor(i / 3)),
        created_by: adminId,
        redeemed_at: null,
        redeemed_by: null,
        redeemed_sign_pub: null,
        redeemed_kex_pub: null,
        canceled_at: i % 3 === 1 ? at(i) : null,
        digest: hex() + hex()
      }
    })
    return Effect.as(insertRows("invites", rows, 50), rows.map((r) => r.id))
  },
  remove: (id) => withSql((sql) => sql`DELETE FROM invites WHERE id = ${id}`),
  ids: idsOf((sql) => sql`SELECT id FROM invites`)
})

/**
 * Live resources under `parentId` (the roots of `workspaceId` when `null`),
 * as `GET /v1/resources/{id}/children` or `GET /v1/workspaces/{id}/resources`
 * lists them: in sibling order, (position, id). Created as the kernel
 * creates them (after the last sibling) and deleted as it revokes them
 * (`revoked_at`), neither of which renumbers siblings; a few share a
 * position so the id breaks ties.
 */
const siblings = (name: string, path: string, workspaceId: string, parentId: string | null, by: string): ListUnderTest => {
  const position = new Map<string, number>()
  let next = 0
  const key = (item: any) => [position.get(item.id)!, item.id as string] as const
  return {
    name,
    path,
    field: "resources",
    order: (a, b) => {
      const [pa, ia] = key(a)
      const [pb, ib] = key(b)
      return pa !== pb ? pa - pb : ia < ib ? -1 : ia > ib ? 1 : 0
    },
    insert: (n) => {
      const rows = Array.from({ length: n }, (_, i) => {
        const id = `res_${hex()}`
        const place = n === 1 ? next++ : next + Math.floor(i / 2)
        position.set(id, place)
        return {
          id,
          workspace_id: workspaceId,
          kind: "doc",
          title: `item ${made++}`,
          parent_id: parentId,
          position: place,
          link_reach: "restricted",
          link_role: "reader",
          created_by: by,
          created_at: at(made),
          updated_at: at(made),
          revoked_at: null
        }
      })
      if (n > 1) next += Math.ceil(n / 2)
      return Effect.as(insertRows("resources", rows, 50), rows.map((r) => r.id))
    },
    remove: (id) => withSql((sql) => sql`UPDATE resources SET revoked_at = ${at(made++)} WHERE id = ${id}`),
    ids: withSql((sql) =>
      Effect.map(
        parentId === null
          ? sql`SELECT id, position FROM resources WHERE workspace_id = ${workspaceId} AND parent_id IS NULL AND revoked_at IS NULL`
          : sql`SELECT id, position FROM resources WHERE parent_id = ${parentId} AND revoked_at IS NULL`,
        (rows) =>
          rows.map((row: any) => {
            position.set(row.id, Number(row.position))
            next = Math.max(next, Number(row.position) + 1)
            return row.id as string
          })
      )
    )
  }
}

/** The direct accesses on `resourceId`, each to a user of its own, in access id order. */
const accesses = (resourceId: string): ListUnderTest => ({
  name: "accesses",
  path: `/v1/resources/${resourceId}/accesses`,
  field: "accesses",
  order: byId,
  insert: (n) =>
    Effect.gen(function*() {
      const people = yield* users("").insert(n)
      const rows = people.map((userId) => ({ id: `acc_${hex()}`, resource_id: resourceId, user_id: userId, role: "reader" }))
      yield* insertRows("resource_accesses", rows)
      return rows.map((r) => r.id)
    }),
  remove: (id) => withSql((sql) => sql`DELETE FROM resource_accesses WHERE id = ${id}`),
  ids: idsOf((sql) => sql`SELECT id FROM resource_accesses WHERE resource_id = ${resourceId}`)
})

/**
 * The event log, in `seq` order. The kernel only appends to it; the test
 * also deletes events between pages (as the must-hold asks of every list),
 * and appends as the kernel does (the counter, then the rows).
 */
const events: ListUnderTest = {
  name: "events",
  path: "/v1/events",
  field: "events",
  order: (a, b) => a.seq - b.seq,
  idOf: (event) => String(event.seq),
  insert: (n) =>
    Effect.gen(function*() {
      const [counter] = yield* withSql((sql) => sql`UPDATE event_counter SET last_seq = last_seq + ${n} WHERE id = 1 RETURNING last_seq`)
      const last = Number((counter as any).last_seq)
      const rows = Array.from({ length: n }, (_, i) => ({
        seq: last - n + 1 + i,
        type: "test.paged",
        at: at(made++),
        actor: "test",
        workspace_id: null,
        resource_id: null,
        data: "{}"
      }))
      yield* insertRows("events", rows)
      return rows.map((r) => String(r.seq))
    }),
  remove: (seq) => withSql((sql) => sql`DELETE FROM events WHERE seq = ${Number(seq)}`),
  ids: idsOf((sql) => sql`SELECT seq AS id FROM events`)
}

/** One page of a list as the admin reads it, raw (the request under test): it must be a 200; its body. */
const read = (path: string) =>
  Effect.map(asAdmin("GET", path), (reply) => {
    expect(reply.status).toBe(200)
    return reply.body
  })

/**
 * Pages through `list` with `limit`, inserting one item and deleting one
 * (a random one, seen or not) after every page, and checks what was seen:
 * in order, none twice, every survivor, nothing that never existed.
 */
const walk = (list: ListUnderTest, limit: number) =>
  Effect.gen(function*() {
    const initial = new Set(yield* list.ids)
    const inserted = new Set<string>()
    const removed = new Set<string>()
    const seen: Array<any> = []
    let cursor: string | undefined = undefined
    let pages = 0
    for (;;) {
      const sep = list.path.includes("?") ? "&" : "?"
      const page: any = yield* read(`${list.path}${sep}limit=${limit}${cursor === undefined ? "" : `&cursor=${cursor}`}`)
      pages++
      expect(page[list.field].length).toBeLessThanOrEqual(limit)
      seen.push(...page[list.field])
      if (page.next_cursor === undefined) {
        expect(Object.keys(page)).not.toContain("next_cursor")
        break
      }
      expect(page[list.field].length).toBe(limit)
      cursor = page.next_cursor
      for (const id of yield* list.insert(1)) inserted.add(id)
      const alive = [...initial, ...inserted].filter((id) => !removed.has(id) && id !== list.keep)
      const victim = alive[Math.floor(Math.random() * alive.length)]!
      yield* list.remove(victim)
      removed.add(victim)
    }
    const ids = seen.map((item) => (list.idOf ?? ((item: any) => item.id as string))(item))
    // in the documented order, hence none twice
    for (let i = 1; i < seen.length; i++) expect(list.order(seen[i - 1], seen[i])).toBeLessThan(0)
    expect(new Set(ids).size).toBe(ids.length)
    // every survivor, and nothing that never existed
    const survivors = [...initial].filter((id) => !removed.has(id))
    const seenIds = new Set(ids)
    expect(survivors.filter((id) => !seenIds.has(id))).toEqual([])
    expect(ids.filter((id) => !initial.has(id) && !inserted.has(id))).toEqual([])
    return { pages, seen: ids.length, survivors: survivors.length }
  })

/** Every item of a list, `limit` at a time, as the SDK follows `next_cursor`; every page but the last is full. */
const follow = (field: string, limit: number, pages: AsyncIterable<any>) =>
  Effect.promise(async () => {
    const seen: Array<any> = []
    for await (const page of pages) seen.push(page)
    for (const page of seen.slice(0, -1)) expect(page[field].length).toBe(limit)
    return seen.flatMap((page) => page[field])
  })

/** The system admin's own user id. */
const adminId = Effect.map(byAdmin((admin) => admin.GET("/v1/me")), (me) => me.user.id)

/** A team workspace of the admin's, and a resource in it; their ids. */
const adminTeam = (name: string) => Effect.map(byAdmin((admin) => admin.POST("/v1/workspaces", { body: { name } })), (w) => w.id)
const adminResource = (workspaceId: string, title: string) =>
  Effect.map(
    byAdmin((admin) =>
      admin.POST("/v1/workspaces/{id}/resources", { params: { path: { id: workspaceId } }, body: { kind: "doc", title } })),
    (r) => r.id
  )

/** Limits 1000 and 7 over 1,000 items or more, then limit 1 over 150 (the rest deleted). */
const pagesEveryWay = (list: ListUnderTest) =>
  Effect.gen(function*() {
    const have = (yield* list.ids).length
    if (have < 1000) yield* list.insert(1000 - have)
    const full = yield* walk(list, 1000)
    expect(full.pages).toBeGreaterThanOrEqual(1)
    expect(full.survivors).toBeGreaterThanOrEqual(999)
    const sevens = yield* walk(list, 7)
    expect(sevens.pages).toBeGreaterThan(100)
    const all = yield* list.ids
    const removable = all.filter((id) => id !== list.keep).slice(149)
    yield* Effect.forEach(removable, list.remove, { discard: true, concurrency: 1 })
    const ones = yield* walk(list, 1)
    expect(ones.pages).toBeGreaterThan(100)
  })

/** The one issue of a 400. */
const refused = (path: string) =>
  Effect.map(asAdmin("GET", path), (reply) => {
    expect(reply.status).toBe(400)
    expect(reply.body.error).toBe("invalid_request")
    expect(reply.body.issues).toHaveLength(1)
    return reply.body.issues[0] as { path: string; message: string }
  })

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(storeOf(store)), { timeout: "600 seconds", excludeTestServices: true })(`paging (${store})`, (it) => {
    it.effect("users: by id, each once while users come and go", () =>
      Effect.flatMap(adminId, (me) => pagesEveryWay(users(me))), { timeout: 600_000 })

    it.effect("workspaces: by id, each once while workspaces come and go", () =>
      Effect.gen(function*() {
        const me = yield* adminId
        yield* pagesEveryWay(workspaces(me))
      }), { timeout: 600_000 })

    it.effect("invites: by creation then id, each once while invites come and go; a status pages by its state now", () =>
      Effect.gen(function*() {
        const me = yield* adminId
        const list = invites(me)
        yield* pagesEveryWay(list)
        // a status keeps the invites in that state now, in full pages: the same as the whole list filtered
        const { admin } = yield* Served
        const whole = yield* follow("invites", 1000, admin.pages("/v1/invites", { limit: 1000 }))
        for (const status of ["pending", "canceled", "expired"] as const) {
          const kept = yield* follow("invites", 7, admin.pages("/v1/invites", { params: { query: { status } }, limit: 7 }))
          expect(kept.length).toBeGreaterThan(0)
          expect(kept.map((i: any) => i.id)).toEqual(whole.filter((i: any) => i.status === status).map((i: any) => i.id))
        }
      }), { timeout: 600_000 })

    it.effect("accesses, children and roots: each once in their order while items come and go", () =>
      Effect.gen(function*() {
        const me = yield* adminId
        const team = yield* adminTeam("paged")
        const id = yield* adminResource(team, "parent")
        yield* pagesEveryWay(accesses(id))
        yield* pagesEveryWay(siblings("children", `/v1/resources/${id}/children`, team, id, me))
        yield* pagesEveryWay(siblings("roots", `/v1/workspaces/${team}/resources`, team, null, me))
      }), { timeout: 600_000 })

    it.effect("events: by seq, each once while events are appended and deleted; after and next_after still work", () =>
      Effect.gen(function*() {
        yield* pagesEveryWay(events)
        const { admin } = yield* Served
        const all = yield* follow("events", 1000, admin.pages("/v1/events", { limit: 1000 }))
        const first: any = yield* read("/v1/events?limit=7")
        expect(first.events.map((e: any) => e.seq)).toEqual(all.slice(0, 7).map((e: any) => e.seq))
        expect(first.next_after).toBe(all[6].seq)
        const second: any = yield* read(`/v1/events?limit=7&after=${first.next_after}`)
        expect(second.events.map((e: any) => e.seq)).toEqual(all.slice(7, 14).map((e: any) => e.seq))
        const last: any = yield* read(`/v1/events?limit=1000&after=${all[all.length - 3].seq}`)
        expect(last.events).toHaveLength(2)
        expect(last.next_after).toBe(all[all.length - 1].seq)
        expect(Object.keys(last)).not.toContain("next_cursor")
      }), { timeout: 600_000 })

    it.effect("children: moves between pages skip and repeat no resource that did not move", () =>
      Effect.gen(function*() {
        const me = yield* adminId
        const team = yield* adminTeam("moves")
        const parent = yield* adminResource(team, "parent")
        const elsewhere = yield* adminResource(team, "elsewhere")
        const list = siblings("children", "", team, parent, me)
        const order: Array<string> = []
        for (let i = 0; i < 40; i++) order.push(...(yield* list.insert(1)))
        const moved = new Set<string>()
        const moveAway = (id: string) =>
          Effect.tap(
            byAdmin((admin) =>
              admin.POST("/v1/resources/{id}/move", { params: { path: { id } }, body: { target_id: elsewhere, position: "last-child" } })),
            () => moved.add(id)
          )
        const seen: Array<string> = []
        let cursor: string | undefined = undefined
        for (let page = 0;; page++) {
          const reply: any = yield* read(`/v1/resources/${parent}/children?limit=5${cursor === undefined ? "" : `&cursor=${cursor}`}`)
          const ids = reply.resources.map((r: any) => r.id as string)
          seen.push(...ids)
          if (reply.next_cursor === undefined) break
          cursor = reply.next_cursor
          const unseen = order.filter((id) => !seen.includes(id) && !moved.has(id))
          // before the cursor, the page's last resource itself, or one further on
          if (page % 3 === 0) yield* moveAway(seen.find((id) => !moved.has(id))!)
          else if (page % 3 === 1) yield* moveAway(ids[ids.length - 1])
          else if (unseen.length > 1) yield* moveAway(unseen[1]!)
        }
        expect(moved.size).toBeGreaterThan(5)
        // every resource that did not move, once, in the order they were made (their sibling order)
        expect(seen.filter((id) => !moved.has(id))).toEqual(order.filter((id) => !moved.has(id)))
        expect(new Set(seen).size).toBe(seen.length)
      }))

    it.effect("a cursor of another list, a malformed cursor, a limit out of range: 400, one issue", () =>
      Effect.gen(function*() {
        const me = yield* adminId
        // at least two items in each, so that a page of one has a next_cursor
        const team = yield* adminTeam("cursors")
        const parentId = yield* adminResource(team, "p")
        yield* adminResource(team, "q")
        const sibling = siblings("children", "", team, parentId, me)
        yield* sibling.ids
        yield* Effect.forEach([users(me), workspaces(me), invites(me), accesses(parentId), sibling, events], (list) => list.insert(2))
        const lists = [
          "/v1/users",
          "/v1/workspaces",
          "/v1/invites",
          `/v1/resources/${parentId}/accesses`,
          `/v1/resources/${parentId}/children`,
          `/v1/workspaces/${team}/resources`,
          "/v1/events"
        ]
        const cursors = yield* Effect.forEach(lists, (path) =>
          Effect.map(read(`${path}?limit=1`), (page: any) => page.next_cursor as string))
        for (const [i, path] of lists.entries()) {
          expect(typeof cursors[i]).toBe("string")
          // its own cursor is accepted
          yield* read(`${path}?limit=1&cursor=${cursors[i]}`)
          for (const [j, other] of cursors.entries()) {
            if (j === i) continue
            expect((yield* refused(`${path}?cursor=${other}`)).path).toBe("cursor")
          }
          for (const bad of ["abc", "%20", Buffer.from("{\"l\":1}").toString("base64url"), `${cursors[i]}x`]) {
            expect(yield* refused(`${path}?cursor=${bad}`)).toEqual({ path: "cursor", message: expect.stringContaining("next_cursor") })
          }
          for (const limit of ["0", "1001", "-1", "1.5", "abc"]) {
            expect(yield* refused(`${path}?limit=${limit}`)).toEqual({ path: "limit", message: "must be an integer from 1 to 1000" })
          }
          const whole: any = yield* read(path)
          expect(whole[Object.keys(whole).find((k) => Array.isArray(whole[k]))!].length).toBeLessThanOrEqual(100)
        }
      }))

    it.effect("without a key: 401, as before", () =>
      Effect.gen(function*() {
        expect((yield* as("tsk_nope", "GET", "/v1/users?limit=1")).status).toBe(401)
      }))
  })
}
