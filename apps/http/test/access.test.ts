// Who has access, why, and what a user can reach, over HTTP on both stores
// (docs/access.md, docs/http.md): the share panel lists every user with a
// role and the grants that give it, beside the share links on the path; the
// batch check explains itself on request; a user lists what they can reach
// and a system admin what anyone can; pages of 1 and of 1000 give each item
// once, the last without `next_cursor`; a moved or revoked subtree is gone
// from both lists at once; a share link's bearer never lists people.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createResource, createTeam, grantAccess, people, shareLink, type User } from "./fixtures/people.js"
import { answers, as, asAdmin, type Reply, sdk, storeOf, type StoreName, served } from "./harness.js"

const create = (user: User, workspaceId: string, title: string, parentId?: string, extra: Parameters<typeof createResource>[4] = {}) =>
  Effect.map(createResource(user, workspaceId, title, parentId, extra), (r) => r.id)

const outcome = (reply: Reply) => [reply.status, reply.body?.error] as const

/**
 * Every page of a list, `limit` at a time, as the SDK follows `next_cursor`; the items of each page and the
 * number of pages. Each page but the last is full; the last has no `next_cursor` key at all.
 */
const allPages = (field: string, limit: number, pages: AsyncIterable<any>) =>
  Effect.promise(async () => {
    const seen: Array<any> = []
    for await (const page of pages) seen.push(page)
    for (const [i, page] of seen.entries()) {
      expect(page[field].length).toBeLessThanOrEqual(limit)
      if (i < seen.length - 1) expect([page[field].length, typeof page.next_cursor]).toEqual([limit, "string"])
      else expect(Object.keys(page)).not.toContain("next_cursor")
    }
    return { items: seen.flatMap((page) => page[field]), pages: seen.length }
  })

/**
 * A team workspace of `owner` with members `editor`, `reader` and `member`:
 * folder ⊃ doc ⊃ note, and a second root `elsewhere`. `editor` has an
 * editor access on the folder, `reader` a commenter access on the doc, the
 * folder is shared with the workspace as reader, and the doc has a share
 * link.
 */
const panel = Effect.gen(function*() {
  const [owner, editor, reader, member, outsider] = yield* people(5)
  const ws = yield* createTeam(owner, [editor, reader, member])
  const folder = yield* create(owner, ws, "folder", undefined, { link_reach: "workspace", link_role: "reader" })
  const doc = yield* create(owner, ws, "doc", folder)
  const note = yield* create(owner, ws, "note", doc)
  const elsewhere = yield* create(owner, ws, "elsewhere")
  const editorAccess = yield* grantAccess(owner, folder, editor, "editor")
  const readerAccess = yield* grantAccess(owner, doc, reader, "commenter")
  const link = yield* shareLink(owner, doc, "reader")
  const { accesses } = yield* sdk(() => owner.client.GET("/v1/resources/{id}/accesses", { params: { path: { id: folder } } }))
  const ownerAccess = accesses.find((a) => a.user_id === owner.id)!
  return {
    owner, editor, reader, member, outsider, ws, folder, doc, note, elsewhere,
    editorAccess: editorAccess.id,
    readerAccess: readerAccess.id,
    ownerAccess: ownerAccess.id,
    link
  }
})

const idsOf = (resources: ReadonlyArray<{ id: string }>) => resources.map((r) => r.id)

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(storeOf(store)), { timeout: "180 seconds", excludeTestServices: true })(`access over HTTP (${store})`, (it) => {
    it.effect("the share panel: every user with a role, the grants that give it, the links on the path", () =>
      Effect.gen(function*() {
        const p = yield* panel
        const principals = (id: string) => () => p.owner.client.GET("/v1/resources/{id}/principals", { params: { path: { id } } })
        const reply = yield* answers(200, principals(p.doc))
        expect(reply).toEqual({
          principals: [
            {
              user_id: p.owner.id,
              role: "owner",
              because: [{ kind: "inherited", resource_id: p.folder, access_id: p.ownerAccess, role: "owner" }]
            },
            {
              user_id: p.editor.id,
              role: "editor",
              because: [{ kind: "inherited", resource_id: p.folder, access_id: p.editorAccess, role: "editor" }]
            },
            // their own access gives more than the workspace's link, so only it is cited
            {
              user_id: p.reader.id,
              role: "commenter",
              because: [{ kind: "direct", resource_id: p.doc, access_id: p.readerAccess, role: "commenter" }]
            },
            { user_id: p.member.id, role: "reader", because: [{ kind: "workspace_link", resource_id: p.folder, role: "reader" }] }
          ],
          share_links: [{ id: p.link.id, resource_id: p.doc, role: "reader" }]
        })
        // the note inherits it all, the doc's link included
        const note = yield* answers(200, principals(p.note))
        expect(note.principals.map((x) => [x.user_id, x.role])).toEqual(reply.principals.map((x) => [x.user_id, x.role]))
        expect(note.share_links).toEqual(reply.share_links)
        // a system admin may always ask, and sees the same
        const asSystem = yield* asAdmin("GET", `/v1/resources/${p.doc}/principals`)
        expect([asSystem.status, asSystem.body]).toEqual([200, reply])
      }))

    it.effect("only an administrator asks; a share link's bearer is refused", () =>
      Effect.gen(function*() {
        const p = yield* panel
        const path = `/v1/resources/${p.doc}/principals`
        expect(outcome(yield* as(p.editor.key, "GET", path))).toEqual([403, "forbidden"])
        expect(outcome(yield* as(p.member.key, "GET", path))).toEqual([403, "forbidden"])
        expect(outcome(yield* as(p.outsider.key, "GET", path))).toEqual([404, "not_found"])
        const bearer = yield* as(p.link.token, "GET", path)
        expect([bearer.status, bearer.body.error, bearer.body.principals]).toEqual([403, "forbidden", undefined])
        // nor on a descendant it opens, nor about what it can reach
        expect(outcome(yield* as(p.link.token, "GET", `/v1/resources/${p.note}/principals`))).toEqual([403, "forbidden"])
        expect((yield* as(p.link.token, "GET", "/v1/me/resources")).status).toBe(401)
      }))

    it.effect("POST /v1/check with explain: true says why, as the check decides", () =>
      Effect.gen(function*() {
        const p = yield* panel
        const checks = [
          { user_id: p.editor.id, resource_id: p.note, action: "edit" },
          { user_id: p.reader.id, resource_id: p.doc, action: "edit" },
          { user_id: p.owner.id, resource_id: p.doc, action: "own" },
          { user_id: p.outsider.id, resource_id: p.doc, action: "read" },
          { user_id: p.member.id, resource_id: p.elsewhere, action: "read" }
        ]
        const plain = yield* asAdmin("POST", "/v1/check", { checks })
        const explained = yield* asAdmin("POST", "/v1/check", { checks, explain: true })
        expect([plain.status, explained.status]).toEqual([200, 200])
        for (const result of plain.body.results) expect(Object.keys(result)).not.toContain("because")
        expect(explained.body.results.map(({ allowed, role }: any) => ({ allowed, role }))).toEqual(plain.body.results)
        expect(explained.body.results).toEqual([
          { allowed: true, role: "editor", because: [{ kind: "inherited", resource_id: p.folder, access_id: p.editorAccess, role: "editor" }] },
          { allowed: false, role: "commenter", because: [{ kind: "direct", resource_id: p.doc, access_id: p.readerAccess, role: "commenter" }] },
          { allowed: true, role: "owner", because: [{ kind: "inherited", resource_id: p.folder, access_id: p.ownerAccess, role: "owner" }] },
          { allowed: false, role: null, because: [{ kind: "not_member" }] },
          { allowed: false, role: null, because: [{ kind: "no_grant" }] }
        ])
        expect(outcome(yield* as(p.owner.key, "POST", "/v1/check", { checks, explain: true }))).toEqual([403, "forbidden"])
        expect(outcome(yield* asAdmin("POST", "/v1/check", { checks, explain: "yes" }))).toEqual([400, "invalid_request"])
      }))

    it.effect("what I can reach, and what another user can: the caller or a system admin", () =>
      Effect.gen(function*() {
        const p = yield* panel
        const reachable = (user: User, query: { action?: "read" | "edit" | "own"; workspace_id?: string } = {}) =>
          answers(200, () => user.client.GET("/v1/me/resources", { params: { query } }))
        const mine = yield* reachable(p.editor, { action: "edit" })
        expect(Object.keys(mine)).toEqual(["resources"])
        expect(idsOf(mine.resources)).toEqual([p.folder, p.doc, p.note].sort())
        expect(mine.resources.find((r) => r.id === p.doc)).toMatchObject({ id: p.doc, title: "doc", workspace_id: p.ws })
        // read is the default; the workspace link lets every member read the folder's subtree
        expect(idsOf((yield* reachable(p.member)).resources)).toEqual([p.folder, p.doc, p.note].sort())
        expect(idsOf((yield* reachable(p.member, { action: "edit" })).resources)).toEqual([])
        // the owner, in one workspace or in all (their personal one is empty)
        const owned = [p.folder, p.doc, p.note, p.elsewhere].sort()
        expect(idsOf((yield* reachable(p.owner, { action: "own", workspace_id: p.ws })).resources)).toEqual(owned)
        expect(idsOf((yield* reachable(p.owner, { action: "own", workspace_id: p.owner.personal })).resources)).toEqual([])
        // a system admin asks about anyone, and hears what they would
        const theirs = yield* asAdmin("GET", `/v1/users/${p.editor.id}/resources?action=edit`)
        expect([theirs.status, theirs.body]).toEqual([200, mine])
        // a user asks about themself by id too, but about nobody else
        expect(yield* answers(200, () =>
          p.editor.client.GET("/v1/users/{id}/resources", { params: { path: { id: p.editor.id }, query: { action: "edit" } } }))).toEqual(mine)
        expect(outcome(yield* as(p.member.key, "GET", `/v1/users/${p.editor.id}/resources`))).toEqual([403, "forbidden"])
        expect(outcome(yield* asAdmin("GET", `/v1/users/usr_${"0".repeat(32)}/resources`))).toEqual([404, "not_found"])
        expect(outcome(yield* as(p.editor.key, "GET", "/v1/me/resources?action=fly"))).toEqual([400, "invalid_request"])
      }))

    it.effect("pages of 1 and of 1000 give each item once; the last page has no next_cursor", () =>
      Effect.gen(function*() {
        const [owner, ...others] = yield* people(6)
        const ws = yield* createTeam(owner, others)
        const root = yield* create(owner, ws, "root")
        const children: Array<string> = []
        for (let i = 0; i < 7; i++) children.push(yield* create(owner, ws, `child ${i}`, root))
        const roles = ["reader", "commenter", "editor", "administrator", "reader"] as const
        for (const [i, user] of others.entries()) {
          yield* grantAccess(owner, root, user, roles[i]!)
        }
        // reachable: 8 resources, in id order
        const expected = [root, ...children].sort()
        const reachable = (limit: number) =>
          allPages("resources", limit, owner.client.pages("/v1/me/resources", { params: { query: { action: "own" } }, limit }))
        const one = yield* reachable(1)
        const thousand = yield* reachable(1000)
        expect(idsOf(one.items)).toEqual(expected)
        expect(one.pages).toBe(expected.length)
        expect(thousand).toEqual({ items: one.items, pages: 1 })
        // exactly a page's worth: the full page is the last
        const exact = yield* reachable(expected.length)
        expect([idsOf(exact.items), exact.pages]).toEqual([expected, 1])
        // principals: 6 users, by role then id
        const path = `/v1/resources/${children[3]}/principals`
        const principals = (limit: number) =>
          allPages("principals", limit, owner.client.pages("/v1/resources/{id}/principals", { params: { path: { id: children[3]! } }, limit }))
        const single = yield* principals(1)
        const whole = yield* principals(1000)
        expect(single.items).toEqual(whole.items)
        expect([single.pages, whole.pages]).toEqual([6, 1])
        expect(new Set(single.items.map((x: any) => x.user_id)).size).toBe(6)
        const rank = ["owner", "administrator", "editor", "commenter", "reader"]
        const sorted = [...whole.items].sort((a: any, b: any) =>
          rank.indexOf(a.role) - rank.indexOf(b.role) || (a.user_id < b.user_id ? -1 : 1))
        expect(whole.items).toEqual(sorted)
        // limits out of range and cursors that no page gave are refused
        for (const query of ["limit=0", "limit=1001", "limit=x", "cursor=nonsense", `cursor=${Buffer.from("{}").toString("base64url")}`]) {
          const reply = yield* as(owner.key, "GET", `${path}?${query}`)
          expect([query, reply.status, reply.body.issues.map((i: any) => i.path)]).toEqual([query, 400, [query.split("=")[0]]])
        }
        const bad = yield* as(owner.key, "GET", "/v1/me/resources?cursor=nonsense")
        expect(bad.body.issues).toEqual([{ path: "cursor", message: "must be the next_cursor of a previous page" }])
      }))

    it.effect("a moved or revoked subtree leaves both lists at once", () =>
      Effect.gen(function*() {
        const p = yield* panel
        const reach = (user: User) => Effect.map(answers(200, () => user.client.GET("/v1/me/resources")), (b) => idsOf(b.resources))
        const principalIds = (id: string) =>
          Effect.map(
            answers(200, () => p.owner.client.GET("/v1/resources/{id}/principals", { params: { path: { id } } })),
            (b) => b.principals.map((x) => x.user_id).sort()
          )
        expect(yield* reach(p.editor)).toEqual([p.folder, p.doc, p.note].sort())
        expect(yield* principalIds(p.note)).toEqual([p.owner.id, p.editor.id, p.reader.id, p.member.id].sort())
        // the doc moves under `elsewhere`, which shares nothing: the folder's grants no longer reach it, and
        // leaving its root's scope took the doc's own access with it
        const moved = yield* answers(200, () =>
          p.owner.client.POST("/v1/resources/{id}/move", { params: { path: { id: p.doc } }, body: { target_id: p.elsewhere } }))
        expect(moved.accesses_deleted).toBe(1)
        expect(yield* reach(p.editor)).toEqual([p.folder])
        expect(yield* reach(p.member)).toEqual([p.folder])
        expect(yield* reach(p.reader)).toEqual([p.folder])
        expect(yield* principalIds(p.note)).toEqual([p.owner.id])
        yield* grantAccess(p.owner, p.doc, p.reader, "reader")
        expect(yield* reach(p.reader)).toEqual([p.folder, p.doc, p.note].sort())
        expect(yield* principalIds(p.note)).toEqual([p.owner.id, p.reader.id].sort())
        // revoked: gone for everyone, and the panel is refused
        yield* answers(200, () => p.owner.client.DELETE("/v1/resources/{id}", { params: { path: { id: p.doc } } }))
        expect(yield* reach(p.reader)).toEqual([p.folder])
        expect(idsOf((yield* asAdmin("GET", `/v1/users/${p.owner.id}/resources?action=own`)).body.resources)).toEqual([p.folder, p.elsewhere].sort())
        expect(outcome(yield* as(p.owner.key, "GET", `/v1/resources/${p.note}/principals`))).toEqual([410, "resource_revoked"])
        const revoked = yield* asAdmin("POST", "/v1/check", { checks: [{ user_id: p.reader.id, resource_id: p.note, action: "read" }], explain: true })
        expect(revoked.body.results).toEqual([{ allowed: false, role: null, because: [{ kind: "revoked", resource_id: p.doc }] }])
      }))
  })
}
