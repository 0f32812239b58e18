// Existence over HTTP, on both stores (docs/http.md): someone with no access at
// all to a workspace, resource, access or invite is told it is not found —
// the same status and code as for an id that never existed — on every
// endpoint that names one (in the path or in the body), and nothing changes.
// Someone who can see the thing but may not do this is told 403 forbidden,
// so the two stay distinguishable.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { createResource, createTeam, grantAccess, handle, mintGrant, people, type User } from "./fixtures/people.js"
import { answers, as, asAdmin, eventsSince, mark, type Reply, Served, served, storeOf, type StoreName } from "./harness.js"

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

/** The case of `key` sending `method path`, with `body` when given, which must be answered `want`. */
const ask = (key: string, label: string, method: string, path: string, want: Case["want"], body?: unknown): Case =>
  body === undefined ? { label, key, method, path, want } : { label, key, method, path, body, want }

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
    ask(s, `GET /v1/workspaces/{${name}}`, "GET", `/v1/workspaces/${ws}`, NOT_FOUND),
    ask(s, `PATCH /v1/workspaces/{${name}} name`, "PATCH", `/v1/workspaces/${ws}`, NOT_FOUND, { name: "taken" }),
    ask(s, `PATCH /v1/workspaces/{${name}} is_personal`, "PATCH", `/v1/workspaces/${ws}`, NOT_FOUND, { is_personal: !personal }),
    ask(s, `PATCH /v1/workspaces/{${name}} owner_user_id`, "PATCH", `/v1/workspaces/${ws}`, NOT_FOUND, { owner_user_id: stranger.id }),
    ask(s, `PATCH /v1/workspaces/{${name}} members`, "PATCH", `/v1/workspaces/${ws}`, NOT_FOUND, { members: [{ user_id: stranger.id, role: "admin" }] }),
    ask(s, `DELETE /v1/workspaces/{${name}}`, "DELETE", `/v1/workspaces/${ws}`, NOT_FOUND),
    ask(s, `POST /v1/workspaces/{${name}}/members (self)`, "POST", `/v1/workspaces/${ws}/members`, NOT_FOUND, { user_id: stranger.id, role: "admin" }),
    ask(s, `PATCH /v1/workspaces/{${name}}/members/{alice}`, "PATCH", `/v1/workspaces/${ws}/members/${alice.id}`, NOT_FOUND, { role: "member" }),
    ask(s, `PATCH /v1/workspaces/{${name}}/members/{stranger}`, "PATCH", `/v1/workspaces/${ws}/members/${stranger.id}`, NOT_FOUND, { role: "admin" }),
    ask(s, `DELETE /v1/workspaces/{${name}}/members/{alice}`, "DELETE", `/v1/workspaces/${ws}/members/${alice.id}`, NOT_FOUND),
    ask(s, `DELETE /v1/workspaces/{${name}}/members/{stranger} (leave)`, "DELETE", `/v1/workspaces/${ws}/members/${stranger.id}`, NOT_FOUND),
    ask(s, `POST /v1/workspaces/{${name}}/resources`, "POST", `/v1/workspaces/${ws}/resources`, NOT_FOUND, { title: "planted" }),
    ask(s, `GET /v1/workspaces/{${name}}/resources`, "GET", `/v1/workspaces/${ws}/resources`, NOT_FOUND),
    ask(s, `POST /v1/invites grant workspace_id={${name}} member`, "POST", "/v1/invites", NOT_FOUND,
      { kind: "grant", workspace_id: ws, workspace_role: "member" }),
    ask(s, `POST /v1/invites grant workspace_id={${name}} admin`, "POST", "/v1/invites", NOT_FOUND,
      { kind: "grant", workspace_id: ws, workspace_role: "admin" }),
    ask(s, `POST /v1/invites registration workspace_id={${name}} (not a system admin)`, "POST", "/v1/invites", FORBIDDEN,
      { kind: "registration", handle: handle(), workspace_id: ws, workspace_role: "member" }),
    ask(s, `GET /v1/invites?workspace_id={${name}}`, "GET", `/v1/invites?workspace_id=${ws}`, OK),
    ask(s, `GET /v1/events?workspace_id={${name}}`, "GET", `/v1/events?workspace_id=${ws}`, FORBIDDEN)
  ]
  const resourceCases = (name: string, id: string): Array<Case> => [
    ask(s, `GET /v1/resources/{${name}}`, "GET", `/v1/resources/${id}`, NOT_FOUND),
    ask(s, `PATCH /v1/resources/{${name}} title`, "PATCH", `/v1/resources/${id}`, NOT_FOUND, { title: "taken" }),
    ask(s, `PATCH /v1/resources/{${name}} link_reach`, "PATCH", `/v1/resources/${id}`, NOT_FOUND, { link_reach: "workspace", link_role: "editor" }),
    ask(s, `GET /v1/resources/{${name}}/children`, "GET", `/v1/resources/${id}/children`, NOT_FOUND),
    ask(s, `GET /v1/resources/{${name}}/accesses`, "GET", `/v1/resources/${id}/accesses`, NOT_FOUND),
    ask(s, `GET /v1/resources/{${name}}/accesses?include=inherited`, "GET", `/v1/resources/${id}/accesses?include=inherited`, NOT_FOUND),
    ...(["reader", "owner"] as const).map((role): Case =>
      ask(s, `POST /v1/resources/{${name}}/accesses ${role} (self)`, "POST", `/v1/resources/${id}/accesses`, NOT_FOUND, { user_id: stranger.id, role })),
    ask(s, `PATCH /v1/resources/{${name}}/accesses/{access}`, "PATCH", `/v1/resources/${id}/accesses/${t.access}`, NOT_FOUND, { role: "owner" }),
    ask(s, `DELETE /v1/resources/{${name}}/accesses/{access}`, "DELETE", `/v1/resources/${id}/accesses/${t.access}`, NOT_FOUND),
    ask(s, `POST /v1/resources/{${name}}/move under the stranger's own`, "POST", `/v1/resources/${id}/move`, NOT_FOUND,
      { target_id: ownResource, position: "last-child" }),
    ask(s, `POST /v1/resources/{${name}}/move relative to itself`, "POST", `/v1/resources/${id}/move`, NOT_FOUND,
      { target_id: id, position: "left", dry_run: true }),
    ...(["last-child", "left", "last-sibling"] as const).flatMap((position): Array<Case> =>
      [false, true].map((dry_run) =>
        ask(s, `POST /v1/resources/{own}/move target {${name}} ${position}${dry_run ? " dry_run" : ""}`, "POST", `/v1/resources/${ownResource}/move`, NOT_FOUND,
          { target_id: id, position, dry_run }))
    ),
    ask(s, `POST /v1/workspaces/{own}/resources parent_id={${name}}`, "POST", `/v1/workspaces/${stranger.personal}/resources`, NOT_FOUND,
      { title: "planted", parent_id: id }),
    ...(["reader", "administrator"] as const).map((role): Case =>
      ask(s, `POST /v1/invites grant resource_id={${name}} ${role}`, "POST", "/v1/invites", NOT_FOUND,
        { kind: "grant", resource_id: id, resource_role: role })),
    ask(s, `GET /v1/invites?resource_id={${name}}`, "GET", `/v1/invites?resource_id=${id}`, OK),
    ask(s, `POST /v1/check {${name}} (not a system admin)`, "POST", "/v1/check", FORBIDDEN,
      { checks: [{ user_id: stranger.id, resource_id: id, action: "read" }] })
  ]
  return [
    ...workspaceCases("team", t.team, false),
    ...workspaceCases("carol's personal", t.personal, true),
    ...resourceCases("root", t.root),
    ...resourceCases("child", t.child),
    ...resourceCases("carol's", t.foreign),
    // alice, who sees her own tree, moving in it relative to a resource she cannot see
    ...(["last-child", "right"] as const).flatMap((position): Array<Case> =>
      [false, true].map((dry_run) =>
        ask(alice.key, `alice: POST /v1/resources/{hers}/move target {carol's} ${position}${dry_run ? " dry_run" : ""}`, "POST",
          `/v1/resources/${aliceResource}/move`, NOT_FOUND, { target_id: t.foreign, position, dry_run }))
    ),
    // an access id of someone else's resource, presented on the stranger's own resource
    ask(s, "PATCH /v1/resources/{own}/accesses/{access}", "PATCH", `/v1/resources/${ownResource}/accesses/${t.access}`, NOT_FOUND, { role: "reader" }),
    ask(s, "DELETE /v1/resources/{own}/accesses/{access}", "DELETE", `/v1/resources/${ownResource}/accesses/${t.access}`, NOT_FOUND),
    ask(s, "GET /v1/invites/{invite}", "GET", `/v1/invites/${t.invite}`, INVITE_NOT_FOUND),
    ask(s, "DELETE /v1/invites/{invite}", "DELETE", `/v1/invites/${t.invite}`, INVITE_NOT_FOUND)
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
  const root = (yield* createResource(alice, team, "root", undefined, { kind: "folder" })).id
  const child = (yield* createResource(alice, team, "child", root)).id
  const sibling = (yield* createResource(alice, team, "sibling", root)).id
  const access = (yield* grantAccess(alice, root, dave, "reader")).id
  const foreign = (yield* createResource(carol, carol.personal, "carol's")).id
  const invite = (yield* mintGrant(alice, { workspace_id: team, workspace_role: "member" })).id
  const own = (yield* createResource(stranger, stranger.personal, "mine")).id
  const bobs = (yield* createResource(bob, team, "bob's")).id
  // bob administers the child, not the root above it
  yield* grantAccess(alice, child, bob, "administrator")
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
          const mine = yield* answers(200, () =>
            w.stranger.client.GET("/v1/workspaces/{id}/resources", { params: { path: { id: w.stranger.personal } } }))
          expect(mine.resources.map((r) => r.id)).toEqual([w.own])
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
              ask(b, `bob: GET /v1/workspaces/{${name}}`, "GET", `/v1/workspaces/${ws}`, exists ? OK : NOT_FOUND),
              ask(b, `bob: GET /v1/workspaces/{${name}}/resources`, "GET", `/v1/workspaces/${ws}/resources`, exists ? OK : NOT_FOUND),
              ask(b, `bob: PATCH /v1/workspaces/{${name}} name`, "PATCH", `/v1/workspaces/${ws}`, want, { name: "taken" }),
              ask(b, `bob: PATCH /v1/workspaces/{${name}} members`, "PATCH", `/v1/workspaces/${ws}`, want,
                { members: [{ user_id: w.bob.id, role: "admin" }] }),
              ask(b, `bob: DELETE /v1/workspaces/{${name}}`, "DELETE", `/v1/workspaces/${ws}`, want),
              ask(b, `bob: POST /v1/workspaces/{${name}}/members`, "POST", `/v1/workspaces/${ws}/members`, want, { user_id: w.stranger.id, role: "member" }),
              ask(b, `bob: PATCH /v1/workspaces/{${name}}/members/{bob} admin`, "PATCH", `/v1/workspaces/${ws}/members/${w.bob.id}`, want, { role: "admin" }),
              ask(b, `bob: PATCH /v1/workspaces/{${name}}/members/{alice}`, "PATCH", `/v1/workspaces/${ws}/members/${w.alice.id}`, want, { role: "member" }),
              ask(b, `bob: DELETE /v1/workspaces/{${name}}/members/{alice}`, "DELETE", `/v1/workspaces/${ws}/members/${w.alice.id}`, want),
              ask(b, `bob: POST /v1/invites grant workspace_id={${name}}`, "POST", "/v1/invites", want,
                { kind: "grant", workspace_id: ws, workspace_role: "member" })
            ]
          }
          const asReader = (root: string, child: string, access: string, exists: boolean): Array<Case> => {
            const want = exists ? FORBIDDEN : NOT_FOUND
            const name = exists ? "" : " absent"
            return [
              ask(d, `dave: GET /v1/resources/{root${name}}`, "GET", `/v1/resources/${root}`, exists ? OK : NOT_FOUND),
              ask(d, `dave: GET /v1/resources/{child${name}}`, "GET", `/v1/resources/${child}`, exists ? OK : NOT_FOUND),
              ask(d, `dave: GET /v1/resources/{root${name}}/accesses`, "GET", `/v1/resources/${root}/accesses`, exists ? OK : NOT_FOUND),
              ask(d, `dave: PATCH /v1/resources/{root${name}} title`, "PATCH", `/v1/resources/${root}`, want, { title: "taken" }),
              ask(d, `dave: PATCH /v1/resources/{root${name}} link_reach`, "PATCH", `/v1/resources/${root}`, want, { link_reach: "workspace" }),
              ask(d, `dave: POST /v1/resources/{root${name}}/accesses`, "POST", `/v1/resources/${root}/accesses`, want,
                { user_id: w.stranger.id, role: "reader" }),
              ask(d, `dave: PATCH /v1/resources/{root${name}}/accesses/{his}`, "PATCH", `/v1/resources/${root}/accesses/${access}`, want,
                { role: "administrator" }),
              ask(d, `dave: DELETE /v1/resources/{root${name}}/accesses/{his}`, "DELETE", `/v1/resources/${root}/accesses/${access}`, want),
              ...(["last-child", "right"] as const).map((position): Case =>
                ask(d, `dave: POST /v1/resources/{child${name}}/move target {sibling} ${position}`, "POST", `/v1/resources/${child}/move`, want,
                  { target_id: w.sibling, position })),
              ask(d, `dave: POST /v1/resources/{child${name}}/move becoming a root`, "POST", `/v1/resources/${child}/move`, want,
                { target_id: root, position: "right", dry_run: true }),
              ask(d, `dave: POST /v1/invites grant resource_id={root${name}}`, "POST", "/v1/invites", want,
                { kind: "grant", resource_id: root, resource_role: "reader" })
            ]
          }
          const cases: Array<Case> = [
            ...asMember(t.team, true),
            ...asMember(ghost("ws"), false),
            // a member of the workspace with no role on a restricted resource cannot see it at all
            ask(b, "bob: GET /v1/resources/{root} (restricted, no role)", "GET", `/v1/resources/${t.root}`, NOT_FOUND),
            ...([[t.root, "root"], [ghost("res"), "absent"]] as const).flatMap(([target, name]) =>
              (["last-child", "left"] as const).map((position): Case =>
                ask(b, `bob: POST /v1/resources/{his}/move target {${name}} ${position}${name === "root" ? " (restricted, no role)" : ""}`, "POST",
                  `/v1/resources/${w.bobs}/move`, NOT_FOUND, { target_id: target, position }))
            ),
            // next to a resource he administers, under a parent he cannot see
            ...(["left", "last-sibling"] as const).map((position): Case =>
              ask(b, `bob: POST /v1/resources/{his}/move target {child} ${position} (new parent: the root he cannot see)`, "POST",
                `/v1/resources/${w.bobs}/move`, NOT_FOUND, { target_id: t.child, position, dry_run: true })),
            ask(b, "bob: POST /v1/invites grant resource_id={root} (restricted, no role)", "POST", "/v1/invites", NOT_FOUND,
              { kind: "grant", resource_id: t.root, resource_role: "reader" }),
            ...asReader(t.root, t.child, t.access, true),
            // dave is not a member: the workspace itself is not his to see, the roots he reads are
            ask(d, "dave: GET /v1/workspaces/{team}", "GET", `/v1/workspaces/${t.team}`, NOT_FOUND),
            ask(d, "dave: GET /v1/workspaces/{team}/resources", "GET", `/v1/workspaces/${t.team}/resources`, OK),
            ...asReader(ghost("res"), ghost("res"), ghost("acc"), false),
            // someone else's invite is not found to whoever did not mint it
            ask(b, "bob: GET /v1/invites/{alice's}", "GET", `/v1/invites/${t.invite}`, INVITE_NOT_FOUND),
            ask(b, "bob: DELETE /v1/invites/{alice's}", "DELETE", `/v1/invites/${t.invite}`, INVITE_NOT_FOUND),
            // the batch check is for system admins, whatever it names
            ask(b, "bob: POST /v1/check", "POST", "/v1/check", FORBIDDEN, { checks: [{ user_id: w.bob.id, resource_id: t.root, action: "read" }] })
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
          const gone = (yield* createResource(w.alice, t.team, "gone")).id
          const goneChild = (yield* createResource(w.alice, t.team, "gone child", gone)).id
          const at = new Date().toISOString()
          yield* sql`UPDATE resources SET revoked_at = ${at} WHERE id IN (${gone}, ${goneChild})`.pipe(Effect.orDie)
          const since = yield* mark
          const s = w.stranger.key
          const outsider = (name: string, id: string, key: string, who: string): Array<Case> => [
            ask(key, `${who}: GET /v1/resources/{${name}}`, "GET", `/v1/resources/${id}`, NOT_FOUND),
            ask(key, `${who}: PATCH /v1/resources/{${name}}`, "PATCH", `/v1/resources/${id}`, NOT_FOUND, { title: "taken" }),
            ask(key, `${who}: GET /v1/resources/{${name}}/children`, "GET", `/v1/resources/${id}/children`, NOT_FOUND),
            ask(key, `${who}: GET /v1/resources/{${name}}/accesses`, "GET", `/v1/resources/${id}/accesses`, NOT_FOUND),
            ask(key, `${who}: POST /v1/resources/{${name}}/accesses`, "POST", `/v1/resources/${id}/accesses`, NOT_FOUND,
              { user_id: w.stranger.id, role: "reader" }),
            ask(key, `${who}: POST /v1/resources/{${name}}/move`, "POST", `/v1/resources/${id}/move`, NOT_FOUND,
              { target_id: w.own, position: "last-child", dry_run: true }),
            ...(key === s
              ? [
                ask(key, `${who}: POST /v1/resources/{own}/move target {${name}}`, "POST", `/v1/resources/${w.own}/move`, NOT_FOUND,
                  { target_id: id, position: "left" })]
              : []),
            ask(key, `${who}: POST /v1/invites grant resource_id={${name}}`, "POST", "/v1/invites", NOT_FOUND,
              { kind: "grant", resource_id: id, resource_role: "reader" })
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
            ask(w.bob.key, "bob: GET /v1/resources/{gone}", "GET", `/v1/resources/${gone}`, REVOKED),
            ask(w.bob.key, "bob: GET /v1/resources/{gone child}", "GET", `/v1/resources/${goneChild}`, REVOKED),
            ask(w.bob.key, "bob: POST /v1/invites grant resource_id={gone}", "POST", "/v1/invites", REVOKED,
              { kind: "grant", resource_id: gone, resource_role: "reader" }),
            ask(w.bob.key, "bob: POST /v1/workspaces/{team}/resources parent_id={gone}", "POST", `/v1/workspaces/${t.team}/resources`, REVOKED,
              { title: "under", parent_id: gone }),
            ask(w.alice.key, "alice: GET /v1/resources/{gone}", "GET", `/v1/resources/${gone}`, REVOKED),
            ask(w.alice.key, "alice: POST /v1/resources/{gone}/move", "POST", `/v1/resources/${gone}/move`, REVOKED,
              { target_id: t.root, position: "last-child" }),
            ask(w.alice.key, "alice: POST /v1/resources/{child}/move target {gone}", "POST", `/v1/resources/${t.child}/move`, INVALID_MOVE,
              { target_id: gone, position: "last-child" })
          ])
          expect(members.got).toEqual(members.want)
          expect(yield* eventsSince(since)).toEqual([])
        }),
      300_000
    )
  })
}
