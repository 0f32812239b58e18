// Workspaces over HTTP, on both stores: every personal-workspace rule is
// reachable and answers the exact 422 body, rejected changes change nothing
// and leave no event, the editable fields stay editable, the team lifecycle
// with its last-admin refusals, grant invites, /v1/me/workspace, and the
// workspace.* events of the mutations.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { Schemas } from "@tessera/client"
import { handle, people, registered, type User } from "./fixtures/people.js"
import { answers, as, asAdmin, eventsSince, http, mark, type Reply, served, storeOf, type StoreName } from "./harness.js"

type Workspace = Schemas["Workspace"]

/** A team workspace created by `user`, answered 201. */
const team = (user: User, body: { readonly about?: string; readonly bundles?: Array<string> } = {}) =>
  answers(201, () => user.client.POST("/v1/workspaces", { body: { name: `team ${handle()}`, ...body } }))

/** A workspace as `user` is shown it, answered 200. */
const show = (user: User, id: string) => answers(200, () => user.client.GET("/v1/workspaces/{id}", { params: { path: { id } } }))

/** The 422 of docs/domain.md#workspaces / docs/http.md, with exactly these keys. */
const expectInvariant = (reply: Reply, workspaceId: string | undefined, reason: string) => {
  expect(reply.status).toBe(422)
  expect(Object.keys(reply.body).sort()).toEqual(["error", "message", "reason", "workspace_id"])
  expect(reply.body).toEqual({
    error: "personal_workspace_invariant",
    message: expect.any(String),
    workspace_id: workspaceId ?? null,
    reason
  })
}

const expectLastAdmin = (reply: Reply, workspaceId: string) => {
  expect(reply.status).toBe(409)
  expect(Object.keys(reply.body).sort()).toEqual(["error", "message", "workspace_ids"])
  expect(reply.body).toEqual({ error: "last_admin", message: expect.any(String), workspace_ids: [workspaceId] })
}

const workspaceEventsSince = (since: number) =>
  Effect.map(eventsSince(since), (events) => events.filter((e) => e.type.startsWith("workspace.")))

const UNKNOWN_USER = "usr_" + "0".repeat(32)
const UNKNOWN_WORKSPACE = "ws_" + "0".repeat(32)

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(storeOf(store)), { timeout: "120 seconds", excludeTestServices: true })(`workspaces over HTTP (${store})`, (it) => {
    it.effect("members_mutation: adding, removing and re-roling members of a personal workspace, and a members patch", () =>
      Effect.gen(function*() {
        const [owner, other] = yield* people(2)
        const id = owner.personal
        const before = yield* show(owner, id)
        expect(before.members).toEqual([{ user_id: owner.id, role: "admin" }])
        const since = yield* mark

        expectInvariant(yield* as(owner.key, "POST", `/v1/workspaces/${id}/members`, { user_id: other.id, role: "member" }), id, "members_mutation")
        expectInvariant(yield* as(owner.key, "POST", `/v1/workspaces/${id}/members`, { user_id: other.id, role: "admin" }), id, "members_mutation")
        expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${id}/members/${owner.id}`, { role: "member" }), id, "members_mutation")
        expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${id}/members/${owner.id}`, { role: "admin" }), id, "members_mutation")
        expectInvariant(yield* as(owner.key, "DELETE", `/v1/workspaces/${id}/members/${owner.id}`), id, "members_mutation")
        expectInvariant(yield* as(owner.key, "DELETE", `/v1/workspaces/${id}/members/${other.id}`), id, "members_mutation")
        // a members patch, whether it adds someone, changes nothing, or empties the list
        for (
          const members of [
            [{ user_id: owner.id, role: "admin" }, { user_id: other.id, role: "member" }],
            [{ user_id: owner.id, role: "admin" }],
            [{ user_id: owner.id, role: "member" }],
            []
          ]
        ) {
          expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${id}`, { members }), id, "members_mutation")
        }
        // a system admin is refused the same way
        expectInvariant(yield* asAdmin("POST", `/v1/workspaces/${id}/members`, { user_id: other.id, role: "member" }), id, "members_mutation")
        expectInvariant(yield* asAdmin("DELETE", `/v1/workspaces/${id}/members/${owner.id}`), id, "members_mutation")
        expectInvariant(yield* asAdmin("PATCH", `/v1/workspaces/${id}`, { members: [{ user_id: other.id, role: "admin" }] }), id, "members_mutation")

        expect(yield* show(owner, id)).toEqual(before)
        expect((yield* as(other.key, "GET", `/v1/workspaces/${id}`)).status).toBe(404)
        expect(yield* eventsSince(since, id)).toEqual([])
      }))

    it.effect("is_personal_frozen: either direction by PATCH, and creating a personal workspace through the API", () =>
      Effect.gen(function*() {
        const owner = yield* registered
        const mine = yield* team(owner)
        const personalBefore = yield* show(owner, owner.personal)
        const listBefore = (yield* as(owner.key, "GET", "/v1/workspaces")).body
        const since = yield* mark

        expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${owner.personal}`, { is_personal: false }), owner.personal, "is_personal_frozen")
        expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${mine.id}`, { is_personal: true }), mine.id, "is_personal_frozen")
        expectInvariant(yield* asAdmin("PATCH", `/v1/workspaces/${owner.personal}`, { is_personal: false }), owner.personal, "is_personal_frozen")
        const created = yield* as(owner.key, "POST", "/v1/workspaces", { name: "mine too", is_personal: true })
        expectInvariant(created, undefined, "is_personal_frozen")
        const createdWithOwner = yield* as(owner.key, "POST", "/v1/workspaces", { name: "mine too", is_personal: true, owner_user_id: owner.id })
        expectInvariant(createdWithOwner, undefined, "is_personal_frozen")
        expectInvariant(yield* asAdmin("POST", "/v1/workspaces", { name: "for someone", is_personal: true, owner_user_id: owner.id }), undefined, "is_personal_frozen")

        expect(yield* show(owner, owner.personal)).toEqual(personalBefore)
        expect(yield* show(owner, mine.id)).toEqual(mine)
        expect((yield* as(owner.key, "GET", "/v1/workspaces")).body).toEqual(listBefore)
        expect(yield* workspaceEventsSince(since)).toEqual([])
      }))

    it.effect("owner_user_id_frozen on a personal workspace, owner_user_id_on_non_personal on a team workspace", () =>
      Effect.gen(function*() {
        const [owner, other] = yield* people(2)
        const mine = yield* team(owner)
        const personalBefore = yield* show(owner, owner.personal)
        const listBefore = (yield* as(owner.key, "GET", "/v1/workspaces")).body
        const since = yield* mark

        for (const owner_user_id of [other.id, UNKNOWN_USER, null]) {
          expectInvariant(
            yield* as(owner.key, "PATCH", `/v1/workspaces/${owner.personal}`, { owner_user_id }),
            owner.personal,
            "owner_user_id_frozen"
          )
          expectInvariant(
            yield* asAdmin("PATCH", `/v1/workspaces/${owner.personal}`, { owner_user_id }),
            owner.personal,
            "owner_user_id_frozen"
          )
        }
        for (const owner_user_id of [owner.id, other.id]) {
          expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${mine.id}`, { owner_user_id }), mine.id, "owner_user_id_on_non_personal")
        }
        expectInvariant(
          yield* as(owner.key, "POST", "/v1/workspaces", { name: "owned team", owner_user_id: owner.id }),
          undefined,
          "owner_user_id_on_non_personal"
        )

        expect(yield* show(owner, owner.personal)).toEqual(personalBefore)
        expect(yield* show(owner, mine.id)).toEqual(mine)
        expect((yield* as(owner.key, "GET", "/v1/workspaces")).body).toEqual(listBefore)
        expect(yield* workspaceEventsSince(since)).toEqual([])
      }))

    it.effect("personal_workspace_delete, for the owner and for a system admin", () =>
      Effect.gen(function*() {
        const owner = yield* registered
        const before = yield* show(owner, owner.personal)
        const since = yield* mark
        expectInvariant(yield* as(owner.key, "DELETE", `/v1/workspaces/${owner.personal}`), owner.personal, "personal_workspace_delete")
        expectInvariant(yield* asAdmin("DELETE", `/v1/workspaces/${owner.personal}`), owner.personal, "personal_workspace_delete")
        expect(yield* show(owner, owner.personal)).toEqual(before)
        expect((yield* as(owner.key, "GET", "/v1/me/workspace")).body).toEqual(before)
        expect(yield* eventsSince(since, owner.personal)).toEqual([])
      }))

    it.effect("a patch breaking several rules reports the first of is_personal, owner_user_id, then members", () =>
      Effect.gen(function*() {
        const [owner, other] = yield* people(2)
        const mine = yield* team(owner)
        const p = owner.personal
        const members = [{ user_id: other.id, role: "admin" }]
        expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${p}`, { members, owner_user_id: other.id, is_personal: false }), p, "is_personal_frozen")
        expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${p}`, { members, owner_user_id: other.id }), p, "owner_user_id_frozen")
        expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${mine.id}`, { is_personal: true, owner_user_id: other.id }), mine.id, "is_personal_frozen")
        // the team rule is checked before the last-admin rule of the members list
        expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${mine.id}`, { owner_user_id: other.id, members: [] }), mine.id, "owner_user_id_on_non_personal")
        expect(yield* show(owner, mine.id)).toEqual(mine)
      }))

    it.effect("a rejected patch that also carried valid fields changed nothing", () =>
      Effect.gen(function*() {
        const [owner, other] = yield* people(2)
        const mine = yield* team(owner, { about: "before", bundles: ["a"] })
        const valid = { name: "renamed", about: "changed", custom_instructions: "be brief", bundles: ["x", "y"] }
        const personalBefore = yield* show(owner, owner.personal)
        const since = yield* mark

        const rejected: Array<[string, Record<string, unknown>, string]> = [
          [owner.personal, { ...valid, is_personal: false }, "is_personal_frozen"],
          [owner.personal, { ...valid, owner_user_id: other.id }, "owner_user_id_frozen"],
          [owner.personal, { ...valid, members: [{ user_id: owner.id, role: "admin" }] }, "members_mutation"],
          [mine.id, { ...valid, is_personal: true }, "is_personal_frozen"],
          [mine.id, { ...valid, owner_user_id: owner.id }, "owner_user_id_on_non_personal"]
        ]
        for (const [id, patch, reason] of rejected) {
          expectInvariant(yield* as(owner.key, "PATCH", `/v1/workspaces/${id}`, patch), id, reason)
        }
        // a team patch whose members would leave no admin is refused whole too
        expectLastAdmin(yield* as(owner.key, "PATCH", `/v1/workspaces/${mine.id}`, { ...valid, members: [{ user_id: owner.id, role: "member" }] }), mine.id)

        expect(yield* show(owner, owner.personal)).toEqual(personalBefore)
        expect(yield* show(owner, mine.id)).toEqual(mine)
        expect(yield* workspaceEventsSince(since)).toEqual([])
      }))

    it.effect("name, about, custom_instructions and bundles stay editable on a personal workspace", () =>
      Effect.gen(function*() {
        const owner = yield* registered
        const id = owner.personal
        const since = yield* mark

        const edited = yield* as(owner.key, "PATCH", `/v1/workspaces/${id}`, {
          name: "My notes",
          about: "what I keep",
          custom_instructions: "answer in French",
          bundles: ["writing", "research"]
        })
        expect(edited.status).toBe(200)
        expect(edited.body).toMatchObject({
          id,
          name: "My notes",
          about: "what I keep",
          custom_instructions: "answer in French",
          bundles: ["writing", "research"],
          is_personal: true,
          owner_user_id: owner.id,
          members: [{ user_id: owner.id, role: "admin" }],
          created_at: owner.personalWorkspace.created_at
        })
        expect(yield* show(owner, id)).toEqual(edited.body)

        // one field at a time, including back to empty values; the others stay
        const cleared = yield* as(owner.key, "PATCH", `/v1/workspaces/${id}`, { about: "", bundles: [] })
        expect(cleared.status).toBe(200)
        expect(cleared.body).toMatchObject({ name: "My notes", about: "", custom_instructions: "answer in French", bundles: [] })
        const renamed = yield* as(owner.key, "PATCH", `/v1/workspaces/${id}`, { name: "Notes" })
        expect(renamed.body).toMatchObject({ name: "Notes", about: "", custom_instructions: "answer in French", bundles: [] })
        // a system admin may edit them too
        const byAdmin = yield* asAdmin("PATCH", `/v1/workspaces/${id}`, { custom_instructions: "" })
        expect(byAdmin.status).toBe(200)
        const after = yield* show(owner, id)
        expect(after).toMatchObject({
          name: "Notes",
          about: "",
          custom_instructions: "",
          bundles: [],
          is_personal: true,
          owner_user_id: owner.id,
          members: [{ user_id: owner.id, role: "admin" }]
        })
        expect((yield* as(owner.key, "GET", "/v1/me/workspace")).body).toEqual(after)

        const events = yield* eventsSince(since, id)
        expect(events.map((e) => e.type)).toEqual(["workspace.updated", "workspace.updated", "workspace.updated", "workspace.updated"])
        expect(events[0]!.data.fields).toEqual(expect.arrayContaining(["name", "about", "custom_instructions", "bundles"]))
        expect(events.slice(0, 3).every((e) => e.actor === owner.id)).toBe(true)
      }))

    it.effect("team lifecycle: creator is admin, members added and re-roled, last-admin refusals, leaving, 403 and 404, delete", () =>
      Effect.gen(function*() {
        const [alice, bob, carol] = yield* people(3)
        const since = yield* mark

        const created = yield* as(alice.key, "POST", "/v1/workspaces", { name: "Research", about: "the lab", bundles: ["papers"] })
        expect(created.status).toBe(201)
        const ws = created.body as Workspace
        expect(ws).toMatchObject({
          name: "Research",
          about: "the lab",
          custom_instructions: "",
          bundles: ["papers"],
          is_personal: false,
          owner_user_id: null,
          members: [{ user_id: alice.id, role: "admin" }]
        })
        expect(ws.id).toMatch(/^ws_[0-9a-f]{32}$/)
        expect((yield* as(alice.key, "GET", "/v1/workspaces")).body.workspaces.map((w: Workspace) => w.id)).toEqual(
          expect.arrayContaining([alice.personal, ws.id])
        )
        const path = `/v1/workspaces/${ws.id}`

        // a non-member sees nothing: 404 everywhere, and the list leaves it out
        for (
          const [method, sub, body] of [
            ["GET", "", undefined],
            ["PATCH", "", { name: "mine" }],
            ["DELETE", "", undefined],
            ["POST", "/members", { user_id: carol.id, role: "admin" }],
            ["PATCH", `/members/${alice.id}`, { role: "member" }],
            ["DELETE", `/members/${alice.id}`, undefined]
          ] as const
        ) {
          const reply = yield* as(carol.key, method, path + sub, body)
          expect([method, sub, reply.status, reply.body.error]).toEqual([method, sub, 404, "not_found"])
        }
        expect((yield* as(carol.key, "GET", "/v1/workspaces")).body.workspaces.map((w: Workspace) => w.id)).not.toContain(ws.id)

        // add bob as member
        const added = yield* as(alice.key, "POST", `${path}/members`, { user_id: bob.id, role: "member" })
        expect(added.status).toBe(201)
        expect(added.body).toEqual({ user_id: bob.id, role: "member" })
        const again = yield* as(alice.key, "POST", `${path}/members`, { user_id: bob.id, role: "admin" })
        expect([again.status, again.body.error]).toEqual([409, "already_member"])
        const ghost = yield* as(alice.key, "POST", `${path}/members`, { user_id: UNKNOWN_USER, role: "member" })
        expect([ghost.status, ghost.body.error]).toEqual([404, "not_found"])
        expect((yield* show(bob, ws.id)).members).toEqual(
          expect.arrayContaining([{ user_id: alice.id, role: "admin" }, { user_id: bob.id, role: "member" }])
        )
        expect((yield* show(bob, ws.id)).members).toHaveLength(2)
        expect((yield* as(bob.key, "GET", "/v1/workspaces")).body.workspaces.map((w: Workspace) => w.id)).toContain(ws.id)

        // a member who is not an admin may look but not change: 403
        const beforeForbidden = yield* show(alice, ws.id)
        for (
          const [method, sub, body] of [
            ["PATCH", "", { name: "bob's" }],
            ["DELETE", "", undefined],
            ["POST", "/members", { user_id: carol.id, role: "member" }],
            ["PATCH", `/members/${bob.id}`, { role: "admin" }],
            ["PATCH", `/members/${alice.id}`, { role: "member" }],
            ["DELETE", `/members/${alice.id}`, undefined]
          ] as const
        ) {
          const reply = yield* as(bob.key, method, path + sub, body)
          expect([method, sub, reply.status, reply.body.error]).toEqual([method, sub, 403, "forbidden"])
        }
        expect(yield* show(alice, ws.id)).toEqual(beforeForbidden)

        // the sole admin can neither demote nor remove themself, nor patch the members to no admin
        expectLastAdmin(yield* as(alice.key, "PATCH", `${path}/members/${alice.id}`, { role: "member" }), ws.id)
        expectLastAdmin(yield* as(alice.key, "DELETE", `${path}/members/${alice.id}`), ws.id)
        expectLastAdmin(
          yield* as(alice.key, "PATCH", path, { members: [{ user_id: alice.id, role: "member" }, { user_id: bob.id, role: "member" }] }),
          ws.id
        )
        expectLastAdmin(yield* as(alice.key, "PATCH", path, { members: [] }), ws.id)
        expect(yield* show(alice, ws.id)).toEqual(beforeForbidden)

        // re-role: bob becomes admin, then alice may step down
        const promoted = yield* as(alice.key, "PATCH", `${path}/members/${bob.id}`, { role: "admin" })
        expect([promoted.status, promoted.body]).toEqual([200, { user_id: bob.id, role: "admin" }])
        const stepDown = yield* as(alice.key, "PATCH", `${path}/members/${alice.id}`, { role: "member" })
        expect([stepDown.status, stepDown.body]).toEqual([200, { user_id: alice.id, role: "member" }])
        const notMember = yield* as(bob.key, "PATCH", `${path}/members/${carol.id}`, { role: "member" })
        expect([notMember.status, notMember.body.error]).toEqual([404, "not_found"])
        // alice is now a plain member: forbidden to change others
        expect((yield* as(alice.key, "PATCH", path, { name: "x" })).status).toBe(403)
        // bob is now the sole admin
        expectLastAdmin(yield* as(bob.key, "PATCH", `${path}/members/${bob.id}`, { role: "member" }), ws.id)
        expectLastAdmin(yield* as(bob.key, "DELETE", `${path}/members/${bob.id}`), ws.id)

        // bob renames; a member may leave
        const renamed = yield* as(bob.key, "PATCH", path, { name: "Research II" })
        expect([renamed.status, renamed.body.name]).toEqual([200, "Research II"])
        const left = yield* as(alice.key, "DELETE", `${path}/members/${alice.id}`)
        expect([left.status, left.body]).toEqual([200, { workspace_id: ws.id, user_id: alice.id, removed: true }])
        expect((yield* as(alice.key, "GET", path)).status).toBe(404)
        expect((yield* as(alice.key, "GET", "/v1/workspaces")).body.workspaces.map((w: Workspace) => w.id)).not.toContain(ws.id)
        expect((yield* show(bob, ws.id)).members).toEqual([{ user_id: bob.id, role: "admin" }])

        // an admin removes a member
        expect((yield* as(bob.key, "POST", `${path}/members`, { user_id: carol.id, role: "member" })).status).toBe(201)
        const removed = yield* as(bob.key, "DELETE", `${path}/members/${carol.id}`)
        expect([removed.status, removed.body]).toEqual([200, { workspace_id: ws.id, user_id: carol.id, removed: true }])
        const removedAgain = yield* as(bob.key, "DELETE", `${path}/members/${carol.id}`)
        expect([removedAgain.status, removedAgain.body.error]).toEqual([404, "not_found"])

        // a members patch that keeps an admin is accepted on a team workspace
        const replaced = yield* as(bob.key, "PATCH", path, {
          members: [{ user_id: bob.id, role: "admin" }, { user_id: carol.id, role: "admin" }]
        })
        expect(replaced.status).toBe(200)
        expect((yield* show(carol, ws.id)).members).toEqual(
          [{ user_id: bob.id, role: "admin" }, { user_id: carol.id, role: "admin" }].sort((a, b) => a.user_id.localeCompare(b.user_id))
        )

        // delete works for a team workspace, and only once
        const deleted = yield* as(carol.key, "DELETE", path)
        expect([deleted.status, deleted.body]).toEqual([200, { workspace_id: ws.id, deleted: true, members_removed: 2, resources_deleted: 0, accesses_deleted: 0, share_links_deleted: 0, invites_canceled: 0 }])
        expect((yield* as(bob.key, "GET", path)).status).toBe(404)
        expect((yield* asAdmin("GET", path)).status).toBe(404)
        expect((yield* as(bob.key, "DELETE", path)).status).toBe(404)
        expect((yield* as(bob.key, "GET", "/v1/workspaces")).body.workspaces.map((w: Workspace) => w.id)).not.toContain(ws.id)

        const events = yield* eventsSince(since, ws.id)
        expect(events.map((e) => [e.type, e.actor, e.data["user_id"] ?? null])).toEqual([
          ["workspace.created", alice.id, null],
          ["workspace.member_added", alice.id, alice.id],
          ["workspace.member_added", alice.id, bob.id],
          ["workspace.member_role_changed", alice.id, bob.id],
          ["workspace.member_role_changed", alice.id, alice.id],
          ["workspace.updated", bob.id, null],
          ["workspace.member_removed", alice.id, alice.id],
          ["workspace.member_added", bob.id, carol.id],
          ["workspace.member_removed", bob.id, carol.id],
          ["workspace.updated", bob.id, null],
          ["workspace.deleted", carol.id, null]
        ])
        expect(events.every((e) => e.workspace_id === ws.id)).toBe(true)
        expect(events[3]!.data).toMatchObject({ user_id: bob.id, role: "admin" })
      }))

    it.effect("a system admin may administer a team workspace they do not belong to", () =>
      Effect.gen(function*() {
        const [alice, bob] = yield* people(2)
        const ws = yield* team(alice)
        expect((yield* asAdmin("GET", `/v1/workspaces/${ws.id}`)).status).toBe(200)
        const added = yield* asAdmin("POST", `/v1/workspaces/${ws.id}/members`, { user_id: bob.id, role: "member" })
        expect(added.status).toBe(201)
        expectLastAdmin(yield* asAdmin("DELETE", `/v1/workspaces/${ws.id}/members/${alice.id}`), ws.id)
        const deleted = yield* asAdmin("DELETE", `/v1/workspaces/${ws.id}`)
        expect([deleted.status, deleted.body]).toEqual([200, { workspace_id: ws.id, deleted: true, members_removed: 2, resources_deleted: 0, accesses_deleted: 0, share_links_deleted: 0, invites_canceled: 0 }])
      }))

    it.effect("a members patch on a team workspace is refused for a user who does not exist", () =>
      Effect.gen(function*() {
        const alice = yield* registered
        const ws = yield* team(alice)
        const since = yield* mark
        const reply = yield* as(alice.key, "PATCH", `/v1/workspaces/${ws.id}`, {
          members: [{ user_id: alice.id, role: "admin" }, { user_id: UNKNOWN_USER, role: "member" }]
        })
        // as POST /members does: a member must be an existing, active user
        expect([reply.status, reply.body.error]).toEqual([404, "not_found"])
        expect(yield* show(alice, ws.id)).toEqual(ws)
        expect(yield* eventsSince(since, ws.id)).toEqual([])
      }))

    it.effect("a grant invite for a personal workspace is members_mutation and mints nothing", () =>
      Effect.gen(function*() {
        const owner = yield* registered
        const since = yield* mark
        const byOwner = yield* as(owner.key, "POST", "/v1/invites", {
          kind: "grant",
          workspace_id: owner.personal,
          workspace_role: "member"
        })
        expectInvariant(byOwner, owner.personal, "members_mutation")
        const byAdmin = yield* asAdmin("POST", "/v1/invites", { kind: "grant", workspace_id: owner.personal, workspace_role: "admin" })
        expectInvariant(byAdmin, owner.personal, "members_mutation")
        // a registration invite that would grant a seat in it is refused the same way
        const registration = yield* asAdmin("POST", "/v1/invites", {
          kind: "registration",
          handle: handle(),
          workspace_id: owner.personal,
          workspace_role: "member"
        })
        expectInvariant(registration, owner.personal, "members_mutation")
        expect((yield* asAdmin("GET", `/v1/invites?workspace_id=${owner.personal}`)).body.invites).toEqual([])
        expect(yield* eventsSince(since)).toEqual([])
        expect((yield* show(owner, owner.personal)).members).toEqual([{ user_id: owner.id, role: "admin" }])
      }))

    it.effect("a grant invite for a team workspace makes its redeemer a member, once", () =>
      Effect.gen(function*() {
        const [alice, bob, carol] = yield* people(3)
        const ws = yield* team(alice)
        const since = yield* mark

        const minted = yield* as(alice.key, "POST", "/v1/invites", { kind: "grant", workspace_id: ws.id, workspace_role: "member" })
        expect(minted.status).toBe(201)
        expect(minted.body.invite).toMatchObject({ kind: "grant", workspace_id: ws.id, workspace_role: "member", status: "pending" })
        expect((yield* as(bob.key, "GET", `/v1/workspaces/${ws.id}`)).status).toBe(404)

        const redeemed = yield* as(bob.key, "POST", "/v1/invites/redeem", { token: minted.body.token })
        expect(redeemed.status).toBe(200)
        expect(redeemed.body.invite).toMatchObject({ id: minted.body.invite.id, status: "redeemed", redeemed_by: bob.id })
        const after = yield* show(bob, ws.id)
        expect(after.members).toHaveLength(2)
        expect(after.members).toEqual(expect.arrayContaining([{ user_id: alice.id, role: "admin" }, { user_id: bob.id, role: "member" }]))
        // the role is the one fixed at mint time: bob may not administer
        expect((yield* as(bob.key, "PATCH", `/v1/workspaces/${ws.id}`, { name: "bob's" })).status).toBe(403)

        const second = yield* as(carol.key, "POST", "/v1/invites/redeem", { token: minted.body.token })
        expect([second.status, second.body.error]).toEqual([409, "invite_already_redeemed"])
        const replay = yield* as(bob.key, "POST", "/v1/invites/redeem", { token: minted.body.token })
        expect([replay.status, replay.body.error]).toEqual([409, "invite_already_redeemed"])
        expect((yield* as(carol.key, "GET", `/v1/workspaces/${ws.id}`)).status).toBe(404)
        expect((yield* show(alice, ws.id)).members).toHaveLength(2)

        const events = yield* eventsSince(since, ws.id)
        expect(events.map((e) => e.type)).toEqual(["invite.minted", "invite.redeemed", "workspace.member_added"])
        expect(events[2]).toMatchObject({ actor: bob.id, data: { user_id: bob.id, role: "member", invite_id: minted.body.invite.id } })
      }))

    it.effect("GET /v1/me/workspace is the caller's personal workspace, the same on every call", () =>
      Effect.gen(function*() {
        const user = yield* registered
        const since = yield* mark
        const first = yield* as(user.key, "GET", "/v1/me/workspace")
        const second = yield* as(user.key, "GET", "/v1/me/workspace")
        expect(first.status).toBe(200)
        expect(first.body).toEqual(user.personalWorkspace)
        expect(second.body).toEqual(first.body)
        expect(first.body).toMatchObject({ is_personal: true, owner_user_id: user.id, members: [{ user_id: user.id, role: "admin" }] })
        // the admin's own, made at bootstrap, is stable too and not someone else's
        const adminOwn = yield* asAdmin("GET", "/v1/me/workspace")
        const me = (yield* asAdmin("GET", "/v1/me")).body.user
        expect(adminOwn.body).toMatchObject({ is_personal: true, owner_user_id: me.id })
        expect(adminOwn.body.id).not.toBe(user.personal)
        expect((yield* asAdmin("GET", "/v1/me/workspace")).body).toEqual(adminOwn.body)
        // the personal workspace is among the caller's workspaces, exactly once
        const listed = (yield* as(user.key, "GET", "/v1/workspaces")).body.workspaces as Array<Workspace>
        expect(listed.filter((w) => w.is_personal)).toEqual([first.body])
        // reading it is not a mutation: no workspace was created
        expect(yield* workspaceEventsSince(since)).toEqual([])
        expect((yield* http("GET", "/v1/me/workspace")).status).toBe(401)
      }))

    it.effect("unknown fields and invalid values are invalid_request and change nothing", () =>
      Effect.gen(function*() {
        const owner = yield* registered
        const ws = yield* team(owner)
        const personalBefore = yield* show(owner, owner.personal)
        const since = yield* mark
        for (const id of [ws.id, owner.personal]) {
          const unknown = yield* as(owner.key, "PATCH", `/v1/workspaces/${id}`, { name: "valid", color: "red" })
          expect([unknown.status, unknown.body.error]).toEqual([400, "invalid_request"])
          expect(unknown.body.issues.map((i: { path: string }) => i.path)).toContain("color")
          const nested = yield* as(owner.key, "PATCH", `/v1/workspaces/${id}`, {
            members: [{ user_id: owner.id, role: "admin", extra: 1 }]
          })
          expect([nested.status, nested.body.error]).toEqual([400, "invalid_request"])
          const id_ = yield* as(owner.key, "PATCH", `/v1/workspaces/${id}`, { id: UNKNOWN_WORKSPACE })
          expect([id_.status, id_.body.error]).toEqual([400, "invalid_request"])
          const emptyName = yield* as(owner.key, "PATCH", `/v1/workspaces/${id}`, { name: "" })
          expect([emptyName.status, emptyName.body.error]).toEqual([400, "invalid_request"])
        }
        const badRole = yield* as(owner.key, "POST", `/v1/workspaces/${ws.id}/members`, { user_id: owner.id, role: "owner" })
        expect([badRole.status, badRole.body.error]).toEqual([400, "invalid_request"])
        const extraMember = yield* as(owner.key, "POST", `/v1/workspaces/${ws.id}/members`, { user_id: owner.id, role: "member", note: "x" })
        expect([extraMember.status, extraMember.body.error]).toEqual([400, "invalid_request"])
        const extraCreate = yield* as(owner.key, "POST", "/v1/workspaces", { name: "n", members: [] })
        expect([extraCreate.status, extraCreate.body.error]).toEqual([400, "invalid_request"])
        const badPath = yield* as(owner.key, "GET", "/v1/workspaces/not-an-id")
        expect([badPath.status, badPath.body.error]).toEqual([400, "invalid_request"])
        const missing = yield* as(owner.key, "GET", `/v1/workspaces/${UNKNOWN_WORKSPACE}`)
        expect([missing.status, missing.body.error]).toEqual([404, "not_found"])
        expect(yield* show(owner, ws.id)).toEqual(ws)
        expect(yield* show(owner, owner.personal)).toEqual(personalBefore)
        expect(yield* workspaceEventsSince(since)).toEqual([])
      }))
  })
}
