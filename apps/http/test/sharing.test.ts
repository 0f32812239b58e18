// Share links, revocation and team workspace deletion over HTTP, on both
// stores (docs/domain.md#share-links, docs/domain.md#revocation, docs/http.md). A share link is a principal of its own: its
// role on its resource's subtree and nothing else — no account, no
// workspace, no other resource — and it dies at once when rotated or
// disabled; its token is shown once. Revoking a resource sweeps its subtree
// only, reports what it swept, is idempotent, and a dry run changes nothing.
// An invite is only as good as its minter when it is redeemed.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import {
  addMember,
  createResource,
  createTeam,
  grantAccess,
  mintGrant,
  people,
  registered,
  shareLink as putShareLink,
  type User
} from "./fixtures/people.js"
import { answers, as, asAdmin, byAdmin, eventsSince, mark, type Reply, sdk, Served, served, storeOf, type StoreName } from "./harness.js"

const ghost = (prefix: string) => `${prefix}_${randomBytes(16).toString("hex")}`

/** Status and error code of a reply, as one comparable value. */
const outcome = (reply: Reply) => [reply.status, reply.body?.error] as const

const create = (user: User, workspaceId: string, title: string, parentId?: string) =>
  Effect.map(createResource(user, workspaceId, title, parentId), (r) => r.id)

const shareLink = (user: User, resourceId: string, role: "reader" | "editor") =>
  Effect.tap(putShareLink(user, resourceId, role), (link) => expect(link.token).toMatch(/^tsl_/))

/** A resource as `reader` (a user or a share link's bearer) is shown it: it must be a 200. */
const shown = (reader: User | string, id: string) =>
  Effect.flatMap(Served, ({ client }) =>
    answers(200, () => (typeof reader === "string" ? client(reader) : reader.client).GET("/v1/resources/{id}", { params: { path: { id } } })))

/** The children of a resource as `reader` (a user or a share link's bearer) lists them: their ids. */
const childIds = (reader: User | string, id: string) =>
  Effect.flatMap(Served, ({ client }) =>
    Effect.map(
      answers(200, () =>
        (typeof reader === "string" ? client(reader) : reader.client).GET("/v1/resources/{id}/children", { params: { path: { id } } })),
      (page) => page.resources.map((r) => r.id)
    ))

/** An invite as `user` is shown it. */
const inviteOf = (user: User, id: string) =>
  Effect.map(answers(200, () => user.client.GET("/v1/invites/{id}", { params: { path: { id } } })), (b) => b.invite)

/** A tree in a team workspace of `owner`: root ⊃ room ⊃ doc ⊃ note, and beside the room a sibling room. */
const tree = (owner: User) =>
  Effect.gen(function*() {
    const ws = yield* createTeam(owner)
    const root = yield* create(owner, ws, "root")
    const room = yield* create(owner, ws, "room", root)
    const doc = yield* create(owner, ws, "doc", room)
    const note = yield* create(owner, ws, "note", doc)
    const sibling = yield* create(owner, ws, "sibling", root)
    const other = yield* create(owner, ws, "other root")
    return { ws, root, room, doc, note, sibling, other }
  })

/** A fresh user and the tree they own. */
const ownerOfTree = Effect.gen(function*() {
  const alice = yield* registered
  return { alice, t: yield* tree(alice) }
})

const redeem = (user: User, token: string) => as(user.key, "POST", "/v1/invites/redeem", { token })

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(storeOf(store)), { timeout: "180 seconds", excludeTestServices: true })(`share links over HTTP (${store})`, (it) => {
    it.effect("a reader link reads its resource and every descendant, edits nothing, and sees nothing else", () =>
      Effect.gen(function*() {
        const { alice, t } = yield* ownerOfTree
        const created = yield* answers(201, () =>
          alice.client.PUT("/v1/resources/{id}/share-link", { params: { path: { id: t.room } }, body: { role: "reader" } }))
        expect(created.share_link).toEqual({
          id: expect.stringMatching(/^lnk_[0-9a-f]{32}$/),
          resource_id: t.room,
          role: "reader",
          created_at: expect.any(String),
          created_by: alice.id,
          disabled_at: null
        })
        const link = created.token
        const since = yield* mark

        for (const id of [t.room, t.doc, t.note]) {
          const shown = yield* as(link, "GET", `/v1/resources/${id}`)
          expect([shown.status, shown.body.id, shown.body.effective_role]).toEqual([200, id, "reader"])
        }
        expect(yield* childIds(link, t.room)).toEqual([t.doc])
        expect(yield* childIds(link, t.doc)).toEqual([t.note])

        const refused = [
          yield* as(link, "PATCH", `/v1/resources/${t.room}`, { title: "mine" }),
          yield* as(link, "PATCH", `/v1/resources/${t.note}`, { title: "mine" }),
          yield* as(link, "POST", `/v1/workspaces/${t.ws}/resources`, { title: "child", parent_id: t.doc }),
          yield* as(link, "DELETE", `/v1/resources/${t.doc}`),
          yield* as(link, "PUT", `/v1/resources/${t.room}/share-link`, { role: "editor" }),
          yield* as(link, "GET", `/v1/resources/${t.room}/share-link`),
          yield* as(link, "DELETE", `/v1/resources/${t.room}/share-link`),
          yield* as(link, "POST", `/v1/resources/${t.note}/move`, { target_id: t.room }),
          yield* as(link, "POST", `/v1/resources/${t.doc}/accesses`, { user_id: alice.id, role: "reader" })
        ]
        expect(refused.map(outcome)).toEqual(refused.map(() => [403, "forbidden"]))

        // Outside its subtree the link opens nothing: the parent, a sibling, another root are not found.
        const outside = [
          yield* as(link, "GET", `/v1/resources/${t.root}`),
          yield* as(link, "GET", `/v1/resources/${t.sibling}`),
          yield* as(link, "GET", `/v1/resources/${t.other}`),
          yield* as(link, "GET", `/v1/resources/${t.root}/children`),
          yield* as(link, "GET", `/v1/resources/${ghost("res")}`)
        ]
        expect(outside.map(outcome)).toEqual(outside.map(() => [404, "not_found"]))

        expect(yield* eventsSince(since)).toEqual([])
        expect((yield* shown(alice, t.room)).title).toBe("room")
      }))

    it.effect("an editor link edits and creates children inside its subtree and nowhere else; events name the link as actor", () =>
      Effect.gen(function*() {
        const { alice, t } = yield* ownerOfTree
        const link = yield* shareLink(alice, t.room, "editor")
        const since = yield* mark

        const edited = yield* as(link.token, "PATCH", `/v1/resources/${t.room}`, { title: "edited by link" })
        expect([edited.status, edited.body.title, edited.body.effective_role]).toEqual([200, "edited by link", "editor"])
        expect((yield* as(link.token, "PATCH", `/v1/resources/${t.note}`, { title: "deep edit" })).status).toBe(200)
        const { client } = yield* Served
        const child = yield* answers(201, () =>
          client(link.token).POST("/v1/workspaces/{id}/resources", { params: { path: { id: t.ws } }, body: { title: "by link", parent_id: t.doc } }))
        expect([child.parent_id, child.created_by]).toEqual([t.doc, null])
        // The child it made is inside its subtree, so the link opens it too.
        expect((yield* as(link.token, "GET", `/v1/resources/${child.id}`)).status).toBe(200)

        // Link settings and the share link itself are an administrator's.
        const forbidden = [
          yield* as(link.token, "PATCH", `/v1/resources/${t.room}`, { link_reach: "workspace" }),
          yield* as(link.token, "PUT", `/v1/resources/${t.doc}/share-link`, { role: "editor" }),
          yield* as(link.token, "DELETE", `/v1/resources/${t.room}`)
        ]
        expect(forbidden.map(outcome)).toEqual(forbidden.map(() => [403, "forbidden"]))

        const personal = (yield* sdk(() => alice.client.GET("/v1/me/workspace"))).id
        const outside = [
          yield* as(link.token, "PATCH", `/v1/resources/${t.root}`, { title: "no" }),
          yield* as(link.token, "PATCH", `/v1/resources/${t.sibling}`, { title: "no" }),
          yield* as(link.token, "PATCH", `/v1/resources/${t.other}`, { title: "no" }),
          yield* as(link.token, "POST", `/v1/workspaces/${t.ws}/resources`, { title: "no", parent_id: t.root }),
          yield* as(link.token, "POST", `/v1/workspaces/${t.ws}/resources`, { title: "no", parent_id: t.sibling }),
          yield* as(link.token, "POST", `/v1/workspaces/${t.ws}/resources`, { title: "no root" }),
          yield* as(link.token, "POST", `/v1/workspaces/${personal}/resources`, { title: "no", parent_id: t.room })
        ]
        expect(outside.map(outcome)).toEqual(outside.map(() => [404, "not_found"]))
        for (const [id, title] of [[t.root, "root"], [t.sibling, "sibling"], [t.other, "other root"]] as const) {
          expect((yield* shown(alice, id)).title).toBe(title)
        }

        const events = yield* eventsSince(since)
        expect(events.map((e) => [e.type, e.actor, e.resource_id])).toEqual([
          ["resource.updated", `share_link:${link.id}`, t.room],
          ["resource.updated", `share_link:${link.id}`, t.note],
          ["resource.created", `share_link:${link.id}`, child.id]
        ])
      }))

    it.effect("a link is no account: /v1/me, workspaces, members, roots, invites, users, events and the check are 401; accesses 403", () =>
      Effect.gen(function*() {
        const { alice, t } = yield* ownerOfTree
        const editor = yield* shareLink(alice, t.room, "editor")
        const reader = yield* shareLink(alice, t.sibling, "reader")
        const invite = yield* mintGrant(alice, { resource_id: t.room, resource_role: "reader" })
        const since = yield* mark

        for (const link of [editor, reader]) {
          const refused = [
            yield* as(link.token, "GET", "/v1/me"),
            yield* as(link.token, "GET", "/v1/me/workspace"),
            yield* as(link.token, "GET", "/v1/workspaces"),
            yield* as(link.token, "POST", "/v1/workspaces", { name: "by link" }),
            yield* as(link.token, "GET", `/v1/workspaces/${t.ws}`),
            yield* as(link.token, "PATCH", `/v1/workspaces/${t.ws}`, { name: "by link" }),
            yield* as(link.token, "DELETE", `/v1/workspaces/${t.ws}`),
            yield* as(link.token, "POST", `/v1/workspaces/${t.ws}/members`, { user_id: alice.id, role: "member" }),
            yield* as(link.token, "DELETE", `/v1/workspaces/${t.ws}/members/${alice.id}`),
            yield* as(link.token, "GET", `/v1/workspaces/${t.ws}/resources`),
            yield* as(link.token, "GET", "/v1/invites"),
            yield* as(link.token, "POST", "/v1/invites", { kind: "grant", resource_id: t.room, resource_role: "reader" }),
            yield* as(link.token, "GET", `/v1/invites/${invite.id}`),
            yield* as(link.token, "POST", "/v1/invites/redeem", { token: invite.token }),
            yield* as(link.token, "GET", "/v1/users"),
            yield* as(link.token, "GET", `/v1/users/${alice.id}`),
            yield* as(link.token, "GET", "/v1/events"),
            yield* as(link.token, "POST", "/v1/check", { checks: [{ user_id: alice.id, resource_id: t.room, action: "read" }] })
          ]
          expect(refused.map(outcome)).toEqual(refused.map(() => [401, "unauthenticated"]))
          const accesses = [
            yield* as(link.token, "GET", `/v1/resources/${link === editor ? t.room : t.sibling}/accesses`),
            yield* as(link.token, "GET", `/v1/resources/${link === editor ? t.doc : t.sibling}/accesses?include=inherited`)
          ]
          expect(accesses.map(outcome)).toEqual([[403, "forbidden"], [403, "forbidden"]])
        }
        expect(yield* eventsSince(since)).toEqual([])
        expect((yield* inviteOf(alice, invite.id)).status).toBe("pending")
      }))

    it.effect("rotating kills the old token at once and the new one works; disabling is idempotent and kills the token", () =>
      Effect.gen(function*() {
        const { alice, t } = yield* ownerOfTree
        const since = yield* mark
        const first = yield* shareLink(alice, t.room, "reader")
        expect((yield* as(first.token, "GET", `/v1/resources/${t.doc}`)).status).toBe(200)

        const second = yield* shareLink(alice, t.room, "editor")
        expect(second.id).not.toBe(first.id)
        expect(outcome(yield* as(first.token, "GET", `/v1/resources/${t.doc}`))).toEqual([401, "unauthenticated"])
        expect(outcome(yield* as(first.token, "GET", `/v1/resources/${t.room}`))).toEqual([401, "unauthenticated"])
        const shown = yield* as(second.token, "GET", `/v1/resources/${t.doc}`)
        expect([shown.status, shown.body.effective_role]).toEqual([200, "editor"])
        const room = { params: { path: { id: t.room } } }
        const current = yield* answers(200, () => alice.client.GET("/v1/resources/{id}/share-link", room))
        expect(current).toEqual({ share_link: expect.objectContaining({ id: second.id, role: "editor", disabled_at: null }) })

        const disabled = yield* answers(200, () => alice.client.DELETE("/v1/resources/{id}/share-link", room))
        expect(disabled).toEqual({
          disabled: true,
          share_link: expect.objectContaining({ id: second.id, disabled_at: expect.any(String) })
        })
        expect(outcome(yield* as(second.token, "GET", `/v1/resources/${t.room}`))).toEqual([401, "unauthenticated"])
        expect(yield* answers(200, () => alice.client.DELETE("/v1/resources/{id}/share-link", room))).toEqual({ disabled: false, share_link: null })
        expect(outcome(yield* as(alice.key, "GET", `/v1/resources/${t.room}/share-link`))).toEqual([404, "not_found"])
        expect(outcome(yield* as(second.token, "GET", `/v1/resources/${t.room}`))).toEqual([401, "unauthenticated"])

        // A new link after a disabled one is a creation, and the dead tokens stay dead.
        const third = yield* shareLink(alice, t.room, "reader")
        expect((yield* as(third.token, "GET", `/v1/resources/${t.room}`)).status).toBe(200)
        expect([
          outcome(yield* as(first.token, "GET", `/v1/resources/${t.room}`)),
          outcome(yield* as(second.token, "GET", `/v1/resources/${t.room}`))
        ]).toEqual([[401, "unauthenticated"], [401, "unauthenticated"]])

        const events = yield* eventsSince(since)
        expect(events.map((e) => [e.type, e.actor, e.resource_id, e.data.share_link_id, e.data.previous_share_link_id])).toEqual([
          ["share_link.created", alice.id, t.room, first.id, undefined],
          ["share_link.rotated", alice.id, t.room, second.id, first.id],
          ["share_link.disabled", alice.id, t.room, second.id, undefined],
          ["share_link.created", alice.id, t.room, third.id, undefined]
        ])
      }))

    it.effect("only an administrator manages the share link: an editor is forbidden, a stranger not found", () =>
      Effect.gen(function*() {
        const [alice, bob, carol, dave] = yield* people(4)
        const t = yield* tree(alice)
        yield* grantAccess(alice, t.room, bob, "editor")
        yield* grantAccess(alice, t.room, dave, "administrator")
        const since = yield* mark
        const byEditor = [
          yield* as(bob.key, "PUT", `/v1/resources/${t.room}/share-link`, { role: "reader" }),
          yield* as(bob.key, "GET", `/v1/resources/${t.room}/share-link`),
          yield* as(bob.key, "DELETE", `/v1/resources/${t.room}/share-link`)
        ]
        expect(byEditor.map(outcome)).toEqual(byEditor.map(() => [403, "forbidden"]))
        const byStranger = [
          yield* as(carol.key, "PUT", `/v1/resources/${t.room}/share-link`, { role: "reader" }),
          yield* as(carol.key, "GET", `/v1/resources/${t.room}/share-link`),
          yield* as(carol.key, "DELETE", `/v1/resources/${t.room}/share-link`),
          yield* as(carol.key, "PUT", `/v1/resources/${ghost("res")}/share-link`, { role: "reader" })
        ]
        expect(byStranger.map(outcome)).toEqual(byStranger.map(() => [404, "not_found"]))
        expect(yield* eventsSince(since)).toEqual([])
        // An administrator of the resource (no member of its workspace) may.
        const link = yield* shareLink(dave, t.doc, "reader")
        expect((yield* as(link.token, "GET", `/v1/resources/${t.note}`)).status).toBe(200)
        expect((yield* as(alice.key, "PUT", `/v1/resources/${t.room}/share-link`, { role: "nobody" })).status).toBe(400)
      }))

    it.effect("the token is shown once: never in later replies, lists, events or the store", () =>
      Effect.gen(function*() {
        const { alice, t } = yield* ownerOfTree
        const since = yield* mark
        const first = yield* shareLink(alice, t.room, "reader")
        const second = yield* shareLink(alice, t.room, "editor")
        yield* as(second.token, "PATCH", `/v1/resources/${t.doc}`, { title: "via link" })
        const secrets = [first.token, second.token].flatMap((token) => [token, token.slice(4, 68)])

        const replies = [
          yield* as(alice.key, "GET", `/v1/resources/${t.room}/share-link`),
          yield* as(alice.key, "GET", `/v1/resources/${t.room}`),
          yield* as(second.token, "GET", `/v1/resources/${t.room}`),
          yield* as(second.token, "GET", `/v1/resources/${t.room}/children`),
          yield* as(alice.key, "GET", `/v1/resources/${t.root}/children`),
          yield* as(alice.key, "GET", `/v1/workspaces/${t.ws}/resources`),
          yield* as(alice.key, "GET", `/v1/resources/${t.room}/accesses?include=inherited`),
          yield* asAdmin("GET", "/v1/invites"),
          yield* asAdmin("GET", `/v1/events?after=${since}&limit=1000`),
          yield* as(alice.key, "DELETE", `/v1/resources/${t.room}/share-link`)
        ]
        expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 200])
        for (const reply of replies) {
          for (const secret of secrets) expect(reply.text).not.toContain(secret)
        }
        const { sql } = yield* Served
        const stored = JSON.stringify([
          yield* Effect.orDie(sql`SELECT * FROM share_links`),
          yield* Effect.orDie(sql`SELECT * FROM events`)
        ])
        for (const secret of secrets) expect(stored).not.toContain(secret)
      }))
  })

  layer(served(storeOf(store)), { timeout: "180 seconds", excludeTestServices: true })(`revocation over HTTP (${store})`, (it) => {
    /** A tree with a reader, a pending invite and a link on the room and below it, and the same on the sibling room. */
    const furnished = Effect.gen(function*() {
      const [alice, bob] = yield* people(2)
      const t = yield* tree(alice)
      yield* grantAccess(alice, t.room, bob, "reader")
      yield* grantAccess(alice, t.sibling, bob, "reader")
      const invites = {
        room: yield* mintGrant(alice, { resource_id: t.room, resource_role: "reader" }),
        note: yield* mintGrant(alice, { resource_id: t.note, resource_role: "editor" }),
        sibling: yield* mintGrant(alice, { resource_id: t.sibling, resource_role: "reader" }),
        workspace: yield* mintGrant(alice, { workspace_id: t.ws, workspace_role: "member" })
      }
      const links = {
        room: yield* shareLink(alice, t.room, "reader"),
        doc: yield* shareLink(alice, t.doc, "editor"),
        sibling: yield* shareLink(alice, t.sibling, "reader")
      }
      return { alice, bob, t, invites, links }
    })
    type Furnished = Effect.Effect.Success<typeof furnished>

    /** Everything a revocation of the room could change, as its owner, a reader, the links and the admin see it. */
    const state = (f: Furnished) =>
      Effect.gen(function*() {
        const ids = [f.t.root, f.t.room, f.t.doc, f.t.note, f.t.sibling, f.t.other]
        const seen: Record<string, unknown> = {}
        for (const id of ids) {
          seen[`alice ${id}`] = outcome(yield* as(f.alice.key, "GET", `/v1/resources/${id}`))
          seen[`bob ${id}`] = outcome(yield* as(f.bob.key, "GET", `/v1/resources/${id}`))
          const full = yield* asAdmin("GET", `/v1/resources/${id}`)
          seen[`resource ${id}`] = full.status === 200 ? { ...full.body, effective_role: undefined } : outcome(full)
        }
        seen.children = yield* childIds(f.alice, f.t.root)
        for (const [name, link] of Object.entries(f.links)) {
          seen[`link ${name}`] = outcome(yield* as(link.token, "GET", `/v1/resources/${f.t.note}`))
          seen[`link ${name} on sibling`] = outcome(yield* as(link.token, "GET", `/v1/resources/${f.t.sibling}`))
        }
        for (const [name, invite] of Object.entries(f.invites)) {
          seen[`invite ${name}`] = (yield* inviteOf(f.alice, invite.id)).status
        }
        return seen
      })

    it.effect("revoking a room sweeps its subtree in one report; a dry run reports the same and changes nothing; a second revocation reports zeros", () =>
      Effect.gen(function*() {
        const f = yield* furnished
        const before = yield* state(f)
        const since = yield* mark

        const dry = yield* as(f.alice.key, "DELETE", `/v1/resources/${f.t.room}?dry_run=true`)
        const report = {
          resource_id: f.t.room,
          revoked: true,
          descendants_revoked: 2,
          invites_revoked: 2,
          share_link_disabled: true,
          share_links_disabled: 2
        }
        expect([dry.status, dry.body]).toEqual([200, report])
        expect(yield* eventsSince(since)).toEqual([])
        expect(yield* state(f)).toEqual(before)
        // `dry_run=false` is a real revocation.
        const done = yield* as(f.alice.key, "DELETE", `/v1/resources/${f.t.room}?dry_run=false`)
        expect([done.status, done.body]).toEqual([200, report])

        const events = yield* eventsSince(since)
        expect(events.map((e) => [e.type, e.actor, e.resource_id])).toEqual([
          ["resource.revoked", f.alice.id, f.t.room],
          ["resource.accesses_reset", f.alice.id, f.t.room]
        ])
        expect(events[0]!.data).toEqual(report)

        const after = yield* state(f)
        const revoked = [410, "resource_revoked"]
        expect(after).toEqual({
          ...before,
          // The owner (a member of the workspace) is told it was revoked; the reader, not a member, that it is not found.
          [`alice ${f.t.room}`]: revoked,
          [`alice ${f.t.doc}`]: revoked,
          [`alice ${f.t.note}`]: revoked,
          [`bob ${f.t.room}`]: [404, "not_found"],
          [`bob ${f.t.doc}`]: [404, "not_found"],
          [`bob ${f.t.note}`]: [404, "not_found"],
          [`resource ${f.t.room}`]: revoked,
          [`resource ${f.t.doc}`]: revoked,
          [`resource ${f.t.note}`]: revoked,
          children: [f.t.sibling],
          "link room": [401, "unauthenticated"],
          "link room on sibling": [401, "unauthenticated"],
          "link doc": [401, "unauthenticated"],
          "link doc on sibling": [401, "unauthenticated"],
          "invite room": "canceled",
          "invite note": "canceled"
        })

        // What the room's invites would have granted is gone; the sibling's invite and link still work.
        const dave = yield* registered
        expect(outcome(yield* redeem(dave, f.invites.room.token))).toEqual([410, "invite_canceled"])
        expect(outcome(yield* redeem(dave, f.invites.note.token))).toEqual([410, "invite_canceled"])
        expect((yield* redeem(dave, f.invites.sibling.token)).status).toBe(200)
        expect((yield* as(dave.key, "GET", `/v1/resources/${f.t.sibling}`)).body.effective_role).toBe("reader")
        expect((yield* as(f.links.sibling.token, "GET", `/v1/resources/${f.t.sibling}`)).status).toBe(200)

        // Nothing can be handed out on the revoked subtree any more.
        const refused = [
          yield* as(f.alice.key, "PUT", `/v1/resources/${f.t.room}/share-link`, { role: "reader" }),
          yield* as(f.alice.key, "PUT", `/v1/resources/${f.t.note}/share-link`, { role: "reader" }),
          yield* as(f.alice.key, "POST", "/v1/invites", { kind: "grant", resource_id: f.t.doc, resource_role: "reader" }),
          yield* as(f.alice.key, "POST", `/v1/resources/${f.t.doc}/accesses`, { user_id: dave.id, role: "reader" })
        ]
        expect(refused.map(outcome)).toEqual(refused.map(() => [410, "resource_revoked"]))

        const settled = yield* mark
        const again = yield* as(f.alice.key, "DELETE", `/v1/resources/${f.t.room}`)
        expect([again.status, again.body]).toEqual([200, {
          resource_id: f.t.room,
          revoked: true,
          descendants_revoked: 0,
          invites_revoked: 0,
          share_link_disabled: false,
          share_links_disabled: 0
        }])
        const descendant = yield* as(f.alice.key, "DELETE", `/v1/resources/${f.t.note}`)
        expect([descendant.status, descendant.body.descendants_revoked, descendant.body.share_links_disabled]).toEqual([200, 0, 0])
        expect(yield* eventsSince(settled)).toEqual([])
      }))

    it.effect("an unknown resource is 404 and nothing changes; only an owner revokes (an administrator is forbidden, a stranger told not found)", () =>
      Effect.gen(function*() {
        const f = yield* furnished
        const [admin, direct, stranger] = yield* people(3)
        yield* addMember(f.alice, f.t.ws, admin, "admin")
        yield* grantAccess(f.alice, f.t.root, direct, "administrator")
        const before = yield* state(f)
        const since = yield* mark

        const refused = [
          yield* as(f.alice.key, "DELETE", `/v1/resources/${ghost("res")}`),
          yield* as(f.alice.key, "DELETE", `/v1/resources/${ghost("res")}?dry_run=true`),
          yield* as(admin.key, "DELETE", `/v1/resources/${f.t.room}`),
          yield* as(admin.key, "DELETE", `/v1/resources/${f.t.root}?dry_run=true`),
          yield* as(direct.key, "DELETE", `/v1/resources/${f.t.room}`),
          yield* as(f.bob.key, "DELETE", `/v1/resources/${f.t.room}`),
          yield* as(f.links.doc.token, "DELETE", `/v1/resources/${f.t.note}`),
          yield* as(stranger.key, "DELETE", `/v1/resources/${f.t.room}`),
          yield* as(stranger.key, "DELETE", `/v1/resources/${f.t.room}?dry_run=true`),
          yield* as(f.links.sibling.token, "DELETE", `/v1/resources/${f.t.room}`)
        ]
        expect(refused.map(outcome)).toEqual([
          [404, "not_found"],
          [404, "not_found"],
          [403, "forbidden"],
          [403, "forbidden"],
          [403, "forbidden"],
          [403, "forbidden"],
          [403, "forbidden"],
          [404, "not_found"],
          [404, "not_found"],
          [404, "not_found"]
        ])
        expect(outcome(yield* as(f.alice.key, "DELETE", `/v1/resources/${f.t.room}?dry_run=yes`))).toEqual([400, "invalid_request"])
        expect(yield* eventsSince(since)).toEqual([])
        expect(yield* state(f)).toEqual(before)
        // The system admin acts as an owner everywhere.
        expect((yield* asAdmin("DELETE", `/v1/resources/${f.t.sibling}`)).body.share_link_disabled).toBe(true)
      }))

    it.effect("an invite whose minter lost the authority to mint it before redemption is 410 invite_canceled and grants nothing", () =>
      Effect.gen(function*() {
        const [alice, bob, dave, erin, carol] = yield* people(5)
        const t = yield* tree(alice)
        yield* addMember(alice, t.ws, bob, "admin")
        yield* addMember(alice, t.ws, erin, "admin")
        const daveAccess = yield* grantAccess(alice, t.room, dave, "administrator")

        const byBob = {
          workspace: yield* mintGrant(bob, { workspace_id: t.ws, workspace_role: "member" }),
          resource: yield* mintGrant(bob, { resource_id: t.room, resource_role: "editor" })
        }
        const byDave = yield* mintGrant(dave, { resource_id: t.doc, resource_role: "reader" })
        const byErin = yield* mintGrant(erin, { workspace_id: t.ws, workspace_role: "admin" })
        const byAlice = yield* mintGrant(alice, { resource_id: t.sibling, resource_role: "reader" })

        // bob is demoted from workspace admin; dave loses administrator on the room; erin is deleted.
        yield* sdk(() =>
          alice.client.PATCH("/v1/workspaces/{id}/members/{user_id}", { params: { path: { id: t.ws, user_id: bob.id } }, body: { role: "member" } }))
        yield* sdk(() =>
          alice.client.PATCH("/v1/resources/{id}/accesses/{access_id}", {
            params: { path: { id: t.room, access_id: daveAccess.id } },
            body: { role: "editor" }
          }))
        yield* byAdmin((admin) => admin.DELETE("/v1/users/{id}", { params: { path: { id: erin.id } } }))
        const since = yield* mark

        for (const invite of [byBob.workspace, byBob.resource, byDave]) {
          const refused = yield* redeem(carol, invite.token)
          expect({ status: refused.status, body: refused.body }).toEqual({
            status: 410,
            body: { error: "invite_canceled", message: expect.stringContaining("may no longer grant") }
          })
        }
        expect(outcome(yield* redeem(carol, byErin.token))).toEqual([410, "invite_canceled"])
        expect(yield* eventsSince(since)).toEqual([])
        const members = (yield* answers(200, () => alice.client.GET("/v1/workspaces/{id}", { params: { path: { id: t.ws } } }))).members
          .map((m) => m.user_id)
        expect(members).not.toContain(carol.id)
        const granted = [
          yield* as(carol.key, "GET", `/v1/workspaces/${t.ws}`),
          yield* as(carol.key, "GET", `/v1/resources/${t.room}`),
          yield* as(carol.key, "GET", `/v1/resources/${t.doc}`)
        ]
        expect(granted.map(outcome)).toEqual(granted.map(() => [404, "not_found"]))
        for (const invite of [byBob.workspace, byBob.resource, byDave]) {
          expect((yield* asAdmin("GET", `/v1/invites/${invite.id}`)).body.invite.status).not.toBe("redeemed")
        }

        // A minter who kept their authority: the invite works.
        expect((yield* redeem(carol, byAlice.token)).status).toBe(200)
        expect((yield* shown(carol, t.sibling)).effective_role).toBe("reader")
      }))

    it.effect("deleting a team workspace reports what went with it", () =>
      Effect.gen(function*() {
        const [alice, bob] = yield* people(2)
        const t = yield* tree(alice)
        yield* addMember(alice, t.ws, bob)
        yield* grantAccess(alice, t.doc, bob, "editor")
        yield* mintGrant(alice, { workspace_id: t.ws, workspace_role: "member" })
        yield* mintGrant(alice, { resource_id: t.note, resource_role: "reader" })
        const link = yield* shareLink(alice, t.room, "reader")

        const deleted = yield* as(alice.key, "DELETE", `/v1/workspaces/${t.ws}`)
        expect([deleted.status, deleted.body]).toEqual([200, {
          workspace_id: t.ws,
          deleted: true,
          members_removed: 2,
          resources_deleted: 6,
          // the two roots' owner accesses and bob's
          accesses_deleted: 3,
          share_links_deleted: 1,
          invites_canceled: 2
        }])
        expect(outcome(yield* as(link.token, "GET", `/v1/resources/${t.room}`))).toEqual([401, "unauthenticated"])
        expect(outcome(yield* as(alice.key, "GET", `/v1/workspaces/${t.ws}`))).toEqual([404, "not_found"])
      }))
  })
}
