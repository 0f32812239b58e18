// Existence over HTTP, on both stores (SPEC §4): someone with no access at
// all to a workspace, resource, access or invite is told it is not found —
// the same status and code as for an id that never existed — on every
// endpoint that names one (in the path or in the body), and nothing changes.
// Someone who can see the thing but may not do this is told 403 forbidden,
// so the two stay distinguishable.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { createResource, createTeam, handle, people, type User } from "./fixtures/people.js"
import { as, asAdmin, eventsSince, mark, ok, type Reply, Served, served, storeOf, type StoreName } from "./harness.js"

/** An id of the right form that no store ever issued. */
const ghost = (prefix: string) => `${prefix}_${randomBytes(16).toString("hex")}`

/** One request of the matrix and the answer it must get. */
interface Case {
  readonly label: string
  readonly key: string
  readonly method: string
  readonly path: string
  readonly body?: unknown
  readonly want: readonly [status: number, error: string | undefined]
}

const NOT_FOUND = [404, "not_found"] as const
const REVOKED = [410, "resource_revoked"] as const
const INVALID_MOVE = [400, "invalid_move"] as const
const INVITE_NOT_FOUND = [404, "invite_not_found"] as const
const FORBIDDEN = [403, "forbidden"] as const
const OK = [200, undefined] as const

const row = (label: string, status: number, error: string | undefined) => `${label} → ${status}${error === undefined ? "" : ` ${error}`}`

/** Runs the cases one after another. */
const run = (cases: ReadonlyArray<Case>) =>
  Effect.forEach(cases, (c) =>
    Effect.map(as(c.key, c.method, c.path, c.body), (reply) => ({
      got: row(c.label, reply.status, reply.status >= 400 ? reply.body?.error : undefined),
      want: row(c.label, c.want[0], c.want[1]),
      reply
    })))

/** The ids a case list is written over: existing ones, or ids that never existed. */
interface Targets {
  readonly team: string
  readonly personal: string
  readonly root: string
  readonly child: string
  readonly foreign: string
  readonly access: string
  readonly invite: string
}

const ghostTargets = (): Targets => ({
  team: ghost("ws"),
  personal: ghost("ws"),
  root: ghost("res"),
  child: ghost("res"),
  foreign: ghost("res"),
  access: ghost("acc"),
  invite: ghost("inv")
})

/** Every endpoint naming a workspace, resource, access or invite, as a caller with no access at all to any of `t`. */
const strangerCases = (t: Targets, stranger: User, ownResource: string, alice: User, aliceResource: string): Array<Case> => {
  const s = stranger.key
  const workspaceCases = (name: string, ws: string, personal: boolean): Array<Case> => [
    { label: `GET /v1/workspaces/{${name}}`, key: s, method: "GET", path: `/v1/workspaces/${ws}`, want: NOT_FOUND },
    { label: `PATCH /v1/workspaces/{${name}} name`, key: s, method: "PATCH", path: `/v1/workspaces/${ws}`, body: { name: "taken" }, want: NOT_FOUND },
    {
      label: `PATCH /v1/workspaces/{${name}} is_personal`,
      key: s,
      method: "PATCH",
      path: `/v1/workspaces/${ws}`,
      body: { is_personal: !personal },
      want: NOT_FOUND
    },
    {
      label: `PATCH /v1/workspaces/{${name}} owner_user_id`,
      key: s,
      method: "PATCH",
      path: `/v1/workspaces/${ws}`,
      body: { owner_user_id: stranger.id },
      want: NOT_FOUND
    },
    {
      label: `PATCH /v1/workspaces/{${name}} members`,
      key: s,
      method: "PATCH",
      path: `/v1/workspaces/${ws}`,
      body: { members: [{ user_id: stranger.id, role: "admin" }] },
      want: NOT_FOUND
    },
    { label: `DELETE /v1/workspaces/{${name}}`, key: s, method: "DELETE", path: `/v1/workspaces/${ws}`, want: NOT_FOUND },
    {
      label: `POST /v1/workspaces/{${name}}/members (self)`,
      key: s,
      method: "POST",
      path: `/v1/workspaces/${ws}/members`,
      body: { user_id: stranger.id, role: "admin" },
      want: NOT_FOUND
    },
    {
      label: `PATCH /v1/workspaces/{${name}}/members/{alice}`,
      key: s,
      method: "PATCH",
      path: `/v1/workspaces/${ws}/members/${alice.id}`,
      body: { role: "member" },
      want: NOT_FOUND
    },
    {
      label: `PATCH /v1/workspaces/{${name}}/members/{stranger}`,
      key: s,
      method: "PATCH",
      path: `/v1/workspaces/${ws}/members/${stranger.id}`,
      body: { role: "admin" },
      want: NOT_FOUND
    },
    {
      label: `DELETE /v1/workspaces/{${name}}/members/{alice}`,
      key: s,
      method: "DELETE",
      path: `/v1/workspaces/${ws}/members/${alice.id}`,
      want: NOT_FOUND
    },
    {
      label: `DELETE /v1/workspaces/{${name}}/members/{stranger} (leave)`,
      key: s,
      method: "DELETE",
      path: `/v1/workspaces/${ws}/members/${stranger.id}`,
      want: NOT_FOUND
    },
    {
      label: `POST /v1/workspaces/{${name}}/resources`,
      key: s,
      method: "POST",
      path: `/v1/workspaces/${ws}/resources`,
      body: { title: "planted" },
      want: NOT_FOUND
    },
    { label: `GET /v1/workspaces/{${name}}/resources`, key: s, method: "GET", path: `/v1/workspaces/${ws}/resources`, want: NOT_FOUND },
    {
      label: `POST /v1/invites grant workspace_id={${name}} member`,
      key: s,
      method: "POST",
      path: "/v1/invites",
      body: { kind: "grant", workspace_id: ws, workspace_role: "member" },
      want: NOT_FOUND
    },
    {
      label: `POST /v1/invites grant workspace_id={${name}} admin`,
      key: s,
      method: "POST",
      path: "/v1/invites",
      body: { kind: "grant", workspace_id: ws, workspace_role: "admin" },
      want: NOT_FOUND
    },
    {
      label: `POST /v1/invites registration workspace_id={${name}} (not a system admin)`,
      key: s,
      method: "POST",
      path: "/v1/invites",
      body: { kind: "registration", handle: handle(), workspace_id: ws, workspace_role: "member" },
      want: FORBIDDEN
    },
    {
      label: `GET /v1/invites?workspace_id={${name}}`,
      key: s,
      method: "GET",
      path: `/v1/invites?workspace_id=${ws}`,
      want: OK
    },
    {
      label: `GET /v1/events?workspace_id={${name}}`,
      key: s,
      method: "GET",
      path: `/v1/events?workspace_id=${ws}`,
      want: FORBIDDEN
    }
  ]
  const resourceCases = (name: string, id: string): Array<Case> => [
    { label: `GET /v1/resources/{${name}}`, key: s, method: "GET", path: `/v1/resources/${id}`, want: NOT_FOUND },
    { label: `PATCH /v1/resources/{${name}} title`, key: s, method: "PATCH", path: `/v1/resources/${id}`, body: { title: "taken" }, want: NOT_FOUND },
    {
      label: `PATCH /v1/resources/{${name}} link_reach`,
      key: s,
      method: "PATCH",
      path: `/v1/resources/${id}`,
      body: { link_reach: "workspace", link_role: "editor" },
      want: NOT_FOUND
    },
    { label: `GET /v1/resources/{${name}}/children`, key: s, method: "GET", path: `/v1/resources/${id}/children`, want: NOT_FOUND },
    { label: `GET /v1/resources/{${name}}/accesses`, key: s, method: "GET", path: `/v1/resources/${id}/accesses`, want: NOT_FOUND },
    {
      label: `GET /v1/resources/{${name}}/accesses?include=inherited`,
      key: s,
      method: "GET",
      path: `/v1/resources/${id}/accesses?include=inherited`,
      want: NOT_FOUND
    },
    ...(["reader", "owner"] as const).map((role): Case => ({
      label: `POST /v1/resources/{${name}}/accesses ${role} (self)`,
      key: s,
      method: "POST",
      path: `/v1/resources/${id}/accesses`,
      body: { user_id: stranger.id, role },
      want: NOT_FOUND
    })),
    {
      label: `PATCH /v1/resources/{${name}}/accesses/{access}`,
      key: s,
      method: "PATCH",
      path: `/v1/resources/${id}/accesses/${t.access}`,
      body: { role: "owner" },
      want: NOT_FOUND
    },
    {
      label: `DELETE /v1/resources/{${name}}/accesses/{access}`,
      key: s,
      method: "DELETE",
      path: `/v1/resources/${id}/accesses/${t.access}`,
      want: NOT_FOUND
    },
    {
      label: `POST /v1/resources/{${name}}/move under the stranger's own`,
      key: s,
      method: "POST",
      path: `/v1/resources/${id}/move`,
      body: { target_id: ownResource, position: "last-child" },
      want: NOT_FOUND
    },
    {
      label: `POST /v1/resources/{${name}}/move relative to itself`,
      key: s,
      method: "POST",
      path: `/v1/resources/${id}/move`,
      body: { target_id: id, position: "left", dry_run: true },
      want: NOT_FOUND
    },
    ...(["last-child", "left", "last-sibling"] as const).flatMap((position): Array<Case> =>
      [false, true].map((dry_run) => ({
        label: `POST /v1/resources/{own}/move target {${name}} ${position}${dry_run ? " dry_run" : ""}`,
        key: s,
        method: "POST",
        path: `/v1/resources/${ownResource}/move`,
        body: { target_id: id, position, dry_run },
        want: NOT_FOUND
      }))
    ),
    {
      label: `POST /v1/workspaces/{own}/resources parent_id={${name}}`,
      key: s,
      method: "POST",
      path: `/v1/workspaces/${stranger.personal}/resources`,
      body: { title: "planted", parent_id: id },
      want: NOT_FOUND
    },
    ...(["reader", "administrator"] as const).map((role): Case => ({
      label: `POST /v1/invites grant resource_id={${name}} ${role}`,
      key: s,
      method: "POST",
      path: "/v1/invites",
      body: { kind: "grant", resource_id: id, resource_role: role },
      want: NOT_FOUND
    })),
    {
      label: `GET /v1/invites?resource_id={${name}}`,
      key: s,
      method: "GET",
      path: `/v1/invites?resource_id=${id}`,
      want: OK
    },
    {
      label: `POST /v1/check {${name}} (not a system admin)`,
      key: s,
      method: "POST",
      path: "/v1/check",
      body: { checks: [{ user_id: stranger.id, resource_id: id, action: "read" }] },
      want: FORBIDDEN
    }
  ]
  return [
    ...workspaceCases("team", t.team, false),
    ...workspaceCases("carol's personal", t.personal, true),
    ...resourceCases("root", t.root),
    ...resourceCases("child", t.child),
    ...resourceCases("carol's", t.foreign),
    // alice, who sees her own tree, moving in it relative to a resource she cannot see
    ...(["last-child", "right"] as const).flatMap((position): Array<Case> =>
      [false, true].map((dry_run) => ({
        label: `alice: POST /v1/resources/{hers}/move target {carol's} ${position}${dry_run ? " dry_run" : ""}`,
        key: alice.key,
        method: "POST",
        path: `/v1/resources/${aliceResource}/move`,
        body: { target_id: t.foreign, position, dry_run },
        want: NOT_FOUND
      }))
    ),
    // an access id of someone else's resource, presented on the stranger's own resource
    {
      label: "PATCH /v1/resources/{own}/accesses/{access}",
      key: s,
      method: "PATCH",
      path: `/v1/resources/${ownResource}/accesses/${t.access}`,
      body: { role: "reader" },
      want: NOT_FOUND
    },
    {
      label: "DELETE /v1/resources/{own}/accesses/{access}",
      key: s,
      method: "DELETE",
      path: `/v1/resources/${ownResource}/accesses/${t.access}`,
      want: NOT_FOUND
    },
    { label: "GET /v1/invites/{invite}", key: s, method: "GET", path: `/v1/invites/${t.invite}`, want: INVITE_NOT_FOUND },
    { label: "DELETE /v1/invites/{invite}", key: s, method: "DELETE", path: `/v1/invites/${t.invite}`, want: INVITE_NOT_FOUND }
  ]
}

/** What the system admin sees of everything the matrix aims at. */
const snapshot = (t: Targets) =>
  Effect.forEach([
    `/v1/workspaces/${t.team}`,
    `/v1/workspaces/${t.personal}`,
    `/v1/workspaces/${t.team}/resources`,
    `/v1/workspaces/${t.personal}/resources`,
    `/v1/resources/${t.root}`,
    `/v1/resources/${t.child}`,
    `/v1/resources/${t.foreign}`,
    `/v1/resources/${t.root}/children`,
    `/v1/resources/${t.child}/accesses?include=inherited`,
    `/v1/resources/${t.foreign}/accesses`,
    `/v1/invites/${t.invite}`
  ], (path) =>
    Effect.map(asAdmin("GET", path), (reply) => {
      expect(reply.status).toBe(200)
      return reply.body
    }))

/**
 * Alice's team with bob as a plain member (his own root; administrator of the
 * child, not of its root), a root with two children, dave reading the root,
 * carol's personal resource, an invite, and the stranger's own resource.
 */
const world = Effect.gen(function*() {
  const [alice, bob, carol, dave, stranger] = yield* people(5)
  const team = yield* createTeam(alice, [bob])
  const root = (yield* createResource(alice, team, "root", undefined, { kind: "folder" })).id as string
  const child = (yield* createResource(alice, team, "child", root)).id as string
  const sibling = (yield* createResource(alice, team, "sibling", root)).id as string
  const access = (yield* ok(201, alice.key, "POST", `/v1/resources/${root}/accesses`, { user_id: dave.id, role: "reader" })).id as string
  const foreign = (yield* createResource(carol, carol.personal, "carol's")).id as string
  const invite = (yield* ok(201, alice.key, "POST", "/v1/invites", { kind: "grant", workspace_id: team, workspace_role: "member" })).invite
    .id as string
  const own = (yield* createResource(stranger, stranger.personal, "mine")).id as string
  const bobs = (yield* createResource(bob, team, "bob's")).id as string
  // bob administers the child, not the root above it
  yield* ok(201, alice.key, "POST", `/v1/resources/${child}/accesses`, { user_id: bob.id, role: "administrator" })
  const targets: Targets = { team, personal: carol.personal, root, child, foreign, access, invite }
  return { alice, bob, carol, dave, stranger, targets, sibling, own, bobs }
})

/** Runs the matrix: each answer as a row, the row it must be, and the replies, in order. */
const check = (cases: ReadonlyArray<Case>) =>
  Effect.map(run(cases), (results) => ({
    got: results.map((r) => r.got),
    want: results.map((r) => r.want),
    replies: results.map((r) => r.reply)
  }))

const errorShape = (reply: Reply) => ({
  status: reply.status,
  error: reply.body?.error,
  keys: reply.body === undefined ? [] : Object.keys(reply.body).sort()
})

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(storeOf(store)), { timeout: "180 seconds", excludeTestServices: true })(`existence over HTTP (${store})`, (it) => {
    it.effect(
      "a stranger is told not_found on every endpoint naming what they cannot see, exactly as for ids that never existed, and changes nothing",
      () =>
        Effect.gen(function*() {
          const w = yield* world
          const before = yield* snapshot(w.targets)
          const since = yield* mark

          const existing = yield* check(strangerCases(w.targets, w.stranger, w.own, w.alice, w.targets.child))
          const absent = yield* check(strangerCases(ghostTargets(), w.stranger, w.own, w.alice, w.targets.child))
          expect(existing.got).toEqual(existing.want)
          expect(absent.got).toEqual(absent.want)
          // same status, same code, same fields whether the thing exists or not
          expect(existing.replies.map(errorShape)).toEqual(absent.replies.map(errorShape))
          // lists of what the stranger may see are the same empty list either way
          existing.replies.forEach((reply, i) => {
            if (reply.status === 200) expect(reply.body).toEqual(absent.replies[i]!.body)
          })

          expect(yield* eventsSince(since)).toEqual([])
          expect(yield* snapshot(w.targets)).toEqual(before)
          // and nothing of the stranger's own moved or appeared
          const mine = yield* ok(200, w.stranger.key, "GET", `/v1/workspaces/${w.stranger.personal}/resources`)
          expect(mine.resources.map((r: { id: string }) => r.id)).toEqual([w.own])
        }),
      300_000
    )

    it.effect(
      "a workspace member who is not its admin, and a reader of a resource, are told forbidden where they can see but may not act",
      () =>
        Effect.gen(function*() {
          const w = yield* world
          const t = w.targets
          const before = yield* snapshot(t)
          const since = yield* mark
          const b = w.bob.key
          const d = w.dave.key
          const asMember = (ws: string, exists: boolean): Array<Case> => {
            const want = exists ? FORBIDDEN : NOT_FOUND
            const name = exists ? "team" : "absent"
            return [
              { label: `bob: GET /v1/workspaces/{${name}}`, key: b, method: "GET", path: `/v1/workspaces/${ws}`, want: exists ? OK : NOT_FOUND },
              { label: `bob: GET /v1/workspaces/{${name}}/resources`, key: b, method: "GET", path: `/v1/workspaces/${ws}/resources`, want: exists ? OK : NOT_FOUND },
              { label: `bob: PATCH /v1/workspaces/{${name}} name`, key: b, method: "PATCH", path: `/v1/workspaces/${ws}`, body: { name: "taken" }, want },
              {
                label: `bob: PATCH /v1/workspaces/{${name}} members`,
                key: b,
                method: "PATCH",
                path: `/v1/workspaces/${ws}`,
                body: { members: [{ user_id: w.bob.id, role: "admin" }] },
                want
              },
              { label: `bob: DELETE /v1/workspaces/{${name}}`, key: b, method: "DELETE", path: `/v1/workspaces/${ws}`, want },
              {
                label: `bob: POST /v1/workspaces/{${name}}/members`,
                key: b,
                method: "POST",
                path: `/v1/workspaces/${ws}/members`,
                body: { user_id: w.stranger.id, role: "member" },
                want
              },
              {
                label: `bob: PATCH /v1/workspaces/{${name}}/members/{bob} admin`,
                key: b,
                method: "PATCH",
                path: `/v1/workspaces/${ws}/members/${w.bob.id}`,
                body: { role: "admin" },
                want
              },
              {
                label: `bob: PATCH /v1/workspaces/{${name}}/members/{alice}`,
                key: b,
                method: "PATCH",
                path: `/v1/workspaces/${ws}/members/${w.alice.id}`,
                body: { role: "member" },
                want
              },
              {
                label: `bob: DELETE /v1/workspaces/{${name}}/members/{alice}`,
                key: b,
                method: "DELETE",
                path: `/v1/workspaces/${ws}/members/${w.alice.id}`,
                want
              },
              {
                label: `bob: POST /v1/invites grant workspace_id={${name}}`,
                key: b,
                method: "POST",
                path: "/v1/invites",
                body: { kind: "grant", workspace_id: ws, workspace_role: "member" },
                want
              }
            ]
          }
          const asReader = (root: string, child: string, access: string, exists: boolean): Array<Case> => {
            const want = exists ? FORBIDDEN : NOT_FOUND
            const name = exists ? "" : " absent"
            return [
              { label: `dave: GET /v1/resources/{root${name}}`, key: d, method: "GET", path: `/v1/resources/${root}`, want: exists ? OK : NOT_FOUND },
              { label: `dave: GET /v1/resources/{child${name}}`, key: d, method: "GET", path: `/v1/resources/${child}`, want: exists ? OK : NOT_FOUND },
              {
                label: `dave: GET /v1/resources/{root${name}}/accesses`,
                key: d,
                method: "GET",
                path: `/v1/resources/${root}/accesses`,
                want: exists ? OK : NOT_FOUND
              },
              { label: `dave: PATCH /v1/resources/{root${name}} title`, key: d, method: "PATCH", path: `/v1/resources/${root}`, body: { title: "taken" }, want },
              {
                label: `dave: PATCH /v1/resources/{root${name}} link_reach`,
                key: d,
                method: "PATCH",
                path: `/v1/resources/${root}`,
                body: { link_reach: "workspace" },
                want
              },
              {
                label: `dave: POST /v1/resources/{root${name}}/accesses`,
                key: d,
                method: "POST",
                path: `/v1/resources/${root}/accesses`,
                body: { user_id: w.stranger.id, role: "reader" },
                want
              },
              {
                label: `dave: PATCH /v1/resources/{root${name}}/accesses/{his}`,
                key: d,
                method: "PATCH",
                path: `/v1/resources/${root}/accesses/${access}`,
                body: { role: "administrator" },
                want
              },
              {
                label: `dave: DELETE /v1/resources/{root${name}}/accesses/{his}`,
                key: d,
                method: "DELETE",
                path: `/v1/resources/${root}/accesses/${access}`,
                want
              },
              ...(["last-child", "right"] as const).map((position): Case => ({
                label: `dave: POST /v1/resources/{child${name}}/move target {sibling} ${position}`,
                key: d,
                method: "POST",
                path: `/v1/resources/${child}/move`,
                body: { target_id: w.sibling, position },
                want
              })),
              {
                label: `dave: POST /v1/resources/{child${name}}/move becoming a root`,
                key: d,
                method: "POST",
                path: `/v1/resources/${child}/move`,
                body: { target_id: root, position: "right", dry_run: true },
                want
              },
              {
                label: `dave: POST /v1/invites grant resource_id={root${name}}`,
                key: d,
                method: "POST",
                path: "/v1/invites",
                body: { kind: "grant", resource_id: root, resource_role: "reader" },
                want
              }
            ]
          }
          const cases: Array<Case> = [
            ...asMember(t.team, true),
            ...asMember(ghost("ws"), false),
            // a member of the workspace with no role on a restricted resource cannot see it at all
            { label: "bob: GET /v1/resources/{root} (restricted, no role)", key: b, method: "GET", path: `/v1/resources/${t.root}`, want: NOT_FOUND },
            ...([[t.root, "root"], [ghost("res"), "absent"]] as const).flatMap(([target, name]) =>
              (["last-child", "left"] as const).map((position): Case => ({
                label: `bob: POST /v1/resources/{his}/move target {${name}} ${position}${name === "root" ? " (restricted, no role)" : ""}`,
                key: b,
                method: "POST",
                path: `/v1/resources/${w.bobs}/move`,
                body: { target_id: target, position },
                want: NOT_FOUND
              }))
            ),
            // next to a resource he administers, under a parent he cannot see
            ...(["left", "last-sibling"] as const).map((position): Case => ({
              label: `bob: POST /v1/resources/{his}/move target {child} ${position} (new parent: the root he cannot see)`,
              key: b,
              method: "POST",
              path: `/v1/resources/${w.bobs}/move`,
              body: { target_id: t.child, position, dry_run: true },
              want: NOT_FOUND
            })),
            {
              label: "bob: POST /v1/invites grant resource_id={root} (restricted, no role)",
              key: b,
              method: "POST",
              path: "/v1/invites",
              body: { kind: "grant", resource_id: t.root, resource_role: "reader" },
              want: NOT_FOUND
            },
            ...asReader(t.root, t.child, t.access, true),
            // dave is not a member: the workspace itself is not his to see, the roots he reads are
            { label: "dave: GET /v1/workspaces/{team}", key: d, method: "GET", path: `/v1/workspaces/${t.team}`, want: NOT_FOUND },
            { label: "dave: GET /v1/workspaces/{team}/resources", key: d, method: "GET", path: `/v1/workspaces/${t.team}/resources`, want: OK },
            ...asReader(ghost("res"), ghost("res"), ghost("acc"), false),
            // someone else's invite is not found to whoever did not mint it
            { label: "bob: GET /v1/invites/{alice's}", key: b, method: "GET", path: `/v1/invites/${t.invite}`, want: INVITE_NOT_FOUND },
            { label: "bob: DELETE /v1/invites/{alice's}", key: b, method: "DELETE", path: `/v1/invites/${t.invite}`, want: INVITE_NOT_FOUND },
            // the batch check is for system admins, whatever it names
            {
              label: "bob: POST /v1/check",
              key: b,
              method: "POST",
              path: "/v1/check",
              body: { checks: [{ user_id: w.bob.id, resource_id: t.root, action: "read" }] },
              want: FORBIDDEN
            }
          ]
          const result = yield* check(cases)
          expect(result.got).toEqual(result.want)
          // dave's view of the root is a reader's
          const shown = result.replies[cases.findIndex((c) => c.label === "dave: GET /v1/resources/{root}")]!
          expect(shown.body.effective_role).toBe("reader")
          const roots = result.replies[cases.findIndex((c) => c.label === "dave: GET /v1/workspaces/{team}/resources")]!
          expect(roots.body.resources.map((r: { id: string }) => r.id)).toEqual([t.root])

          expect(yield* eventsSince(since)).toEqual([])
          expect(yield* snapshot(t)).toEqual(before)
        }),
      300_000
    )

    it.effect(
      "a revoked resource is resource_revoked to members of its workspace and not_found to anyone else, as an absent id is",
      () =>
        Effect.gen(function*() {
          const w = yield* world
          const t = w.targets
          const { sql } = yield* Served
          const gone = (yield* ok(201, w.alice.key, "POST", `/v1/workspaces/${t.team}/resources`, { title: "gone" })).id as string
          const goneChild = (yield* ok(201, w.alice.key, "POST", `/v1/workspaces/${t.team}/resources`, { title: "gone child", parent_id: gone })).id as string
          const at = new Date().toISOString()
          yield* sql`UPDATE resources SET revoked_at = ${at} WHERE id IN (${gone}, ${goneChild})`.pipe(Effect.orDie)
          const since = yield* mark
          const s = w.stranger.key
          const outsider = (name: string, id: string, key: string, who: string): Array<Case> => [
            { label: `${who}: GET /v1/resources/{${name}}`, key, method: "GET", path: `/v1/resources/${id}`, want: NOT_FOUND },
            { label: `${who}: PATCH /v1/resources/{${name}}`, key, method: "PATCH", path: `/v1/resources/${id}`, body: { title: "taken" }, want: NOT_FOUND },
            { label: `${who}: GET /v1/resources/{${name}}/children`, key, method: "GET", path: `/v1/resources/${id}/children`, want: NOT_FOUND },
            { label: `${who}: GET /v1/resources/{${name}}/accesses`, key, method: "GET", path: `/v1/resources/${id}/accesses`, want: NOT_FOUND },
            {
              label: `${who}: POST /v1/resources/{${name}}/accesses`,
              key,
              method: "POST",
              path: `/v1/resources/${id}/accesses`,
              body: { user_id: w.stranger.id, role: "reader" },
              want: NOT_FOUND
            },
            {
              label: `${who}: POST /v1/resources/{${name}}/move`,
              key,
              method: "POST",
              path: `/v1/resources/${id}/move`,
              body: { target_id: w.own, position: "last-child", dry_run: true },
              want: NOT_FOUND
            },
            ...(key === s
              ? [{
                label: `${who}: POST /v1/resources/{own}/move target {${name}}`,
                key,
                method: "POST",
                path: `/v1/resources/${w.own}/move`,
                body: { target_id: id, position: "left" },
                want: NOT_FOUND
              }]
              : []),
            {
              label: `${who}: POST /v1/invites grant resource_id={${name}}`,
              key,
              method: "POST",
              path: "/v1/invites",
              body: { kind: "grant", resource_id: id, resource_role: "reader" },
              want: NOT_FOUND
            }
          ]
          const existing = yield* check([
            ...outsider("gone", gone, s, "stranger"),
            ...outsider("gone child", goneChild, s, "stranger"),
            // dave reads another root of the workspace but is not a member of it
            ...outsider("gone", gone, w.dave.key, "dave")
          ])
          const absent = yield* check([
            ...outsider("gone", ghost("res"), s, "stranger"),
            ...outsider("gone child", ghost("res"), s, "stranger"),
            ...outsider("gone", ghost("res"), w.dave.key, "dave")
          ])
          expect(existing.got).toEqual(existing.want)
          expect(absent.got).toEqual(absent.want)
          expect(existing.replies.map(errorShape)).toEqual(absent.replies.map(errorShape))

          // members of the workspace may learn it existed
          const members = yield* check([
            { label: "bob: GET /v1/resources/{gone}", key: w.bob.key, method: "GET", path: `/v1/resources/${gone}`, want: REVOKED },
            { label: "bob: GET /v1/resources/{gone child}", key: w.bob.key, method: "GET", path: `/v1/resources/${goneChild}`, want: REVOKED },
            {
              label: "bob: POST /v1/invites grant resource_id={gone}",
              key: w.bob.key,
              method: "POST",
              path: "/v1/invites",
              body: { kind: "grant", resource_id: gone, resource_role: "reader" },
              want: REVOKED
            },
            {
              label: "bob: POST /v1/workspaces/{team}/resources parent_id={gone}",
              key: w.bob.key,
              method: "POST",
              path: `/v1/workspaces/${t.team}/resources`,
              body: { title: "under", parent_id: gone },
              want: REVOKED
            },
            { label: "alice: GET /v1/resources/{gone}", key: w.alice.key, method: "GET", path: `/v1/resources/${gone}`, want: REVOKED },
            {
              label: "alice: POST /v1/resources/{gone}/move",
              key: w.alice.key,
              method: "POST",
              path: `/v1/resources/${gone}/move`,
              body: { target_id: t.root, position: "last-child" },
              want: REVOKED
            },
            {
              label: "alice: POST /v1/resources/{child}/move target {gone}",
              key: w.alice.key,
              method: "POST",
              path: `/v1/resources/${t.child}/move`,
              body: { target_id: gone, position: "last-child" },
              want: INVALID_MOVE
            }
          ])
          expect(members.got).toEqual(members.want)
          expect(yield* eventsSince(since)).toEqual([])
        }),
      300_000
    )
  })
}
