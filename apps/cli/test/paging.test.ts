/**
 * The CLI's lists page as the HTTP API's (docs/cli.md, "Paging"), on SQLite
 * and PostgreSQL: with 250 users, workspaces, invites, roots, children,
 * accesses and events stored, each list read with `--limit 100`, every
 * page's `next_cursor` passed back as `--cursor`, gives every item once, in
 * the list's order (the one page `--limit 1000` prints); the human table
 * ends with the same cursor; a cursor of another list, or text no page
 * printed, is refused with one clear line and a non-zero status, as is a
 * limit outside 1..1000.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Env, execute, expectFailure, expectJsonFailure, jsonOf, pgStore, sqliteStore, tessera, type TestStore, textOf } from "./support.js"

const stores = [["SQLite", sqliteStore], ["PostgreSQL", pgStore]] as const

const N = 250
const zeros = "0".repeat(32)
const pad = (prefix: string, i: number) => `${prefix}_${String(i).padStart(32, "0")}`
/** The same id in SQL, from the row number `i` (text both dialects share). */
const padSql = (prefix: string, offset = 0) =>
  `'${prefix}_' || substr('${zeros}' || (i + ${offset}), length('${zeros}' || (i + ${offset})) - 31)`
const rows = (body: string) => `WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${N}) ${body}`
const at = "'2026-01-01T00:00:00.000Z'"

const W = pad("ws", 999_999)
const ROOT = pad("res", 999_999)

/** 250 of each list's items, written directly: users, team workspaces, invites, roots of W, children and accesses of ROOT, events. */
const seed = [
  rows(`INSERT INTO users (id, handle, role, status, created_at) SELECT ${padSql("usr")}, 'paged' || i, 'member', 'active', ${at} FROM n`),
  rows(`INSERT INTO workspaces (id, name, is_personal, created_at, updated_at) SELECT ${padSql("ws")}, 'team ' || i, 0, ${at}, ${at} FROM n`),
  `INSERT INTO workspaces (id, name, is_personal, created_at, updated_at) VALUES ('${W}', 'paged', 0, ${at}, ${at})`,
  `INSERT INTO resources (id, workspace_id, kind, title, parent_id, position, link_reach, link_role, created_at, updated_at)
   VALUES ('${ROOT}', '${W}', 'folder', 'root', NULL, 0, 'restricted', 'reader', ${at}, ${at})`,
  rows(`INSERT INTO resources (id, workspace_id, kind, title, parent_id, position, link_reach, link_role, created_at, updated_at)
        SELECT ${padSql("res")}, '${W}', 'doc', 'root ' || i, NULL, i, 'restricted', 'reader', ${at}, ${at} FROM n`),
  rows(`INSERT INTO resources (id, workspace_id, kind, title, parent_id, position, link_reach, link_role, created_at, updated_at)
        SELECT ${padSql("res", 1000)}, '${W}', 'doc', 'child ' || i, '${ROOT}', i, 'restricted', 'reader', ${at}, ${at} FROM n`),
  rows(`INSERT INTO resource_accesses (id, resource_id, user_id, role) SELECT 'acc_' || (1000 + i), '${ROOT}', ${padSql("usr")}, 'reader' FROM n`),
  // created_at ties (ten invites a day), so the id breaks them
  rows(`INSERT INTO invites (id, digest, kind, status, workspace_id, workspace_role, expires_at, created_at)
        SELECT ${padSql("inv")}, 'paged-digest-' || i, 'grant', 'pending', '${W}', 'member', '2099-01-01T00:00:00.000Z',
               '2026-02-' || substr('0' || (1 + i % 25), length('0' || (1 + i % 25)) - 1) || 'T00:00:00.000Z' FROM n`),
  rows(`INSERT INTO events (seq, type, at, actor, workspace_id, resource_id, data)
        SELECT 100000 + i, 'test.paged', ${at}, 'system', '${W}', NULL, '{}' FROM n`),
  `UPDATE event_counter SET last_seq = ${100_000 + N} WHERE id = 1`
]

/** Each list: its command, the field its items are under, and an item's key in the list. */
const lists = [
  { name: "users", args: ["users", "list"], field: "users", key: (item: any) => item.id as string },
  { name: "workspaces", args: ["workspaces", "list"], field: "workspaces", key: (item: any) => item.id as string },
  { name: "invites", args: ["invites", "list"], field: "invites", key: (item: any) => item.id as string },
  { name: "roots", args: ["resources", "roots", W], field: "resources", key: (item: any) => item.id as string },
  { name: "children", args: ["resources", "children", ROOT], field: "resources", key: (item: any) => item.id as string },
  { name: "accesses", args: ["resources", "accesses", ROOT], field: "accesses", key: (item: any) => item.id as string },
  { name: "events", args: ["events", "tail", "--workspace-id", W], field: "events", key: (item: any) => String(item.seq) }
] as const

/** What each list must hold, in order, among what else the store has. */
const seeded: Record<(typeof lists)[number]["name"], ReadonlyArray<string>> = {
  users: Array.from({ length: N }, (_, i) => pad("usr", i + 1)),
  workspaces: Array.from({ length: N }, (_, i) => pad("ws", i + 1)),
  invites: Array.from({ length: N }, (_, i) => i + 1)
    .sort((a, b) => (1 + (a % 25)) - (1 + (b % 25)) || a - b)
    .map((i) => pad("inv", i)),
  roots: Array.from({ length: N }, (_, i) => pad("res", i + 1)),
  children: Array.from({ length: N }, (_, i) => pad("res", 1000 + i + 1)),
  accesses: Array.from({ length: N }, (_, i) => `acc_${1000 + i + 1}`),
  events: Array.from({ length: N }, (_, i) => String(100_000 + i + 1))
}

describe.each(stores)("paged lists on %s", (_, makeStore) => {
  let store: TestStore
  let env: Env
  const cli = (...args: ReadonlyArray<string>) => tessera(env, ...args)

  beforeAll(async () => {
    store = await makeStore()
    env = store.env
    jsonOf(await cli("admin", "bootstrap", "--json"))
    for (const statement of seed) await execute(env, (s) => s.unsafe(statement))
  }, 180_000)
  afterAll(() => store?.drop())

  it("each list read with --limit 100 and each next_cursor gives every item once, in order", async () => {
    await Promise.all(lists.map(async (list) => {
      const whole = jsonOf(await cli(...list.args, "--limit", "1000", "--json"))
      expect({ list: list.name, next: whole.next_cursor }).toEqual({ list: list.name, next: undefined })
      const all: Array<string> = whole[list.field].map(list.key)
      const paged: Array<string> = []
      const sizes: Array<number> = []
      let cursor: string | undefined
      for (let pages = 0; pages < 10; pages++) {
        const page = jsonOf(await cli(...list.args, "--limit", "100", ...(cursor === undefined ? [] : ["--cursor", cursor]), "--json"))
        paged.push(...page[list.field].map(list.key))
        sizes.push(page[list.field].length)
        cursor = page.next_cursor
        if (cursor === undefined) break
      }
      expect({ list: list.name, paged, full: sizes.slice(0, -1).every((n) => n === 100) }).toEqual({ list: list.name, paged: all, full: true })
      expect({ list: list.name, pages: sizes.length }).toEqual({ list: list.name, pages: Math.ceil(all.length / 100) })
      expect({ list: list.name, seeded: all.filter((key) => seeded[list.name].includes(key)) }).toEqual({ list: list.name, seeded: seeded[list.name] })
    }))
  }, 300_000)

  it("the table ends with the next page's --cursor, and that cursor reads the next page", async () => {
    const [table, json] = await Promise.all([cli("users", "list", "--limit", "100"), cli("users", "list", "--limit", "100", "--json")])
    const lines = textOf(table).trimEnd().split("\n")
    const { next_cursor, users } = jsonOf(json)
    expect(lines[0]).toMatch(/^ID\s+HANDLE\s+ROLE\s+STATUS\s+CREATED_AT$/)
    expect(lines).toHaveLength(1 + 100 + 1)
    expect(lines.at(-1)).toBe(`next page: --cursor ${next_cursor}`)
    expect(lines.slice(1, -1).map((line) => line.split(/\s+/)[0])).toEqual(users.map((u: { id: string }) => u.id))
    const second = textOf(await cli("users", "list", "--limit", "100", "--cursor", next_cursor)).split("\n")
    expect(second[1]!.split(/\s+/)[0]! > users.at(-1).id).toBe(true)
  }, 120_000)

  it("a cursor of another list, text no page printed, or a limit outside 1..1000 is refused with one line", async () => {
    const workspacesCursor: string = jsonOf(await cli("workspaces", "list", "--limit", "1", "--json")).next_cursor
    const childrenCursor: string = jsonOf(await cli("resources", "children", ROOT, "--limit", "1", "--json")).next_cursor
    const [users, usersJson, roots, events, garbage, zero, tooMany] = await Promise.all([
      cli("users", "list", "--cursor", workspacesCursor),
      cli("users", "list", "--cursor", workspacesCursor, "--json"),
      cli("resources", "roots", W, "--cursor", childrenCursor),
      cli("events", "tail", "--cursor", childrenCursor),
      cli("invites", "list", "--cursor", "not-a-cursor"),
      cli("users", "list", "--limit", "0"),
      cli("workspaces", "list", "--limit", "1001")
    ])
    expectFailure(users, /--cursor: must be the next_cursor of a previous page of this list \(not of "workspaces"\)/)
    expectJsonFailure(usersJson, "invalid_request", /--cursor: must be the next_cursor of a previous page of this list/)
    expectFailure(roots, /--cursor: must be the next_cursor of a previous page of this list \(not of "children"\)/)
    expectFailure(events, /--cursor: must be the next_cursor of a previous page of this list \(not of "children"\)/)
    expectFailure(garbage, /--cursor: must be the next_cursor of a previous page$/)
    expectFailure(zero, /^tessera: --limit must be from 1 to 1000$/)
    expectFailure(tooMany, /^tessera: --limit must be from 1 to 1000$/)
  }, 120_000)
})
