// Identity over HTTP, on both stores: the walk-through, the error wire
// format of every failure, single-use invites, revocation, and secrets.
import { expect, layer } from "@effect/vitest"
import { publicKeys } from "@tessera/store-contract"
import { Effect } from "effect"
import { handle, registered } from "./fixtures/people.js"
import { asAdmin, byAdmin, http, Served, served, storeOf, type StoreName } from "./harness.js"

/** A registration invite the admin mints through the SDK. */
const mint = (body: { readonly ttl_seconds?: number } = {}) =>
  byAdmin((admin) => admin.POST("/v1/invites", { body: { kind: "registration", handle: handle(), ...body } }))

const registerWith = (token: string, keys = publicKeys(), extra: Record<string, unknown> = {}) =>
  http("POST", "/v1/register", { json: { token, sign_pub: keys.signPub, kex_pub: keys.kexPub, ...extra } })

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(storeOf(store)), { timeout: "120 seconds", excludeTestServices: true })(`identity over HTTP (${store})`, (it) => {
    it.effect("health, readiness, OpenAPI and docs answer", () =>
      Effect.gen(function*() {
        expect((yield* http("GET", "/healthz")).body).toEqual({ status: "ok" })
        expect((yield* http("GET", "/readyz")).status).toBe(200)
        const openapi = yield* http("GET", "/openapi.json")
        expect(openapi.body.openapi).toMatch(/^3\./)
        expect(Object.keys(openapi.body.paths)).toContain("/v1/register")
        const docs = yield* http("GET", "/docs")
        expect(docs.status).toBe(200)
        expect(docs.text).toContain("<html")
      }))

    it.effect("mint, register with two public keys, then /v1/me", () =>
      Effect.gen(function*() {
        const { token, invite } = yield* mint()
        const keys = publicKeys()
        const reply = yield* registerWith(token, keys)
        expect(reply.status).toBe(201)
        expect(reply.body.user).toMatchObject({ handle: invite.handle, role: "member", sign_pub: keys.signPub, kex_pub: keys.kexPub })
        expect(reply.body.personal_workspace).toMatchObject({ is_personal: true, owner_user_id: reply.body.user.id })
        expect(reply.body.api_key).toMatch(/^tsk_[0-9a-f]{72}$/)
        const me = yield* http("GET", "/v1/me", { key: reply.body.api_key })
        expect(me.status).toBe(200)
        expect(me.body.user.id).toBe(reply.body.user.id)
        const workspace = yield* http("GET", "/v1/me/workspace", { key: reply.body.api_key })
        expect(workspace.body.id).toBe(reply.body.personal_workspace.id)
        const again = yield* registerWith(token)
        expect(again.status).toBe(409)
        expect(again.body).toEqual({ error: "invite_already_redeemed", message: expect.any(String) })
      }))

    it.effect("the redeemer cannot add fields: extra body fields are invalid_request and the invite stays pending", () =>
      Effect.gen(function*() {
        const { token, invite } = yield* mint()
        for (const extra of [{ role: "admin" }, { handle: "someone-else" }]) {
          const reply = yield* registerWith(token, publicKeys(), extra)
          expect(reply.status).toBe(400)
          expect(reply.body.error).toBe("invalid_request")
          expect(reply.body.issues).toEqual([{ path: Object.keys(extra)[0], message: expect.any(String) }])
        }
        expect((yield* asAdmin("GET", `/v1/invites/${invite.id}`)).body.invite.status).toBe("pending")
        const ok = yield* registerWith(token)
        expect(ok.body.user).toMatchObject({ handle: invite.handle, role: "member" })
      }))

    it.effect("expired, canceled, unknown and checksum-broken invites", () =>
      Effect.gen(function*() {
        const { sql } = yield* Served
        const expiring = yield* mint({ ttl_seconds: 60 })
        yield* sql`UPDATE invites SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ${expiring.invite.id}`.pipe(Effect.orDie)
        const expired = yield* registerWith(expiring.token)
        expect([expired.status, expired.body.error]).toEqual([410, "invite_expired"])
        const garbled = yield* mint({ ttl_seconds: 60 })
        yield* sql`UPDATE invites SET expires_at = 'not a time' WHERE id = ${garbled.invite.id}`.pipe(Effect.orDie)
        expect((yield* registerWith(garbled.token)).body.error).toBe("invite_expired")
        const canceled = yield* mint()
        const cancel = yield* asAdmin("DELETE", `/v1/invites/${canceled.invite.id}`)
        expect(cancel.body.invite.status).toBe("canceled")
        expect((yield* asAdmin("DELETE", `/v1/invites/${canceled.invite.id}`)).status).toBe(200)
        const refused = yield* registerWith(canceled.token)
        expect([refused.status, refused.body.error]).toEqual([410, "invite_canceled"])
        const unknown = "tsi_" + "ab".repeat(32)
        const { formatToken } = yield* Effect.promise(() => import("@tessera/domain"))
        const wellFormed = formatToken("tsi", new Uint8Array(32).fill(7))
        expect((yield* registerWith(wellFormed)).body.error).toBe("invite_not_found")
        const broken = canceled.token.slice(0, -1) + (canceled.token.endsWith("a") ? "b" : "a")
        const brokenReply = yield* registerWith(broken)
        expect([brokenReply.status, brokenReply.body.error]).toEqual([404, "invite_not_found"])
        expect(brokenReply.body.message).toContain("checksum")
        expect((yield* registerWith(unknown)).status).toBe(404)
      }))

    it.effect("keys must be a valid Ed25519 and a valid X25519 public key in lowercase hex", () =>
      Effect.gen(function*() {
        const { token } = yield* mint()
        const good = publicKeys()
        const cases: Array<[string, string, string]> = [
          [good.signPub.toUpperCase(), good.kexPub, "sign_pub"],
          ["ff".repeat(32), good.kexPub, "sign_pub"],
          [good.signPub.slice(0, 62), good.kexPub, "sign_pub"],
          [good.signPub, "zz".repeat(32), "kex_pub"],
          [good.signPub, "00".repeat(32), "kex_pub"]
        ]
        for (const [sign_pub, kex_pub, field] of cases) {
          const reply = yield* http("POST", "/v1/register", { json: { token, sign_pub, kex_pub } })
          expect([reply.status, reply.body.error, reply.body.field]).toEqual([400, "invalid_key", field])
        }
        expect((yield* registerWith(token, good)).status).toBe(201)
      }))

    it.effect("a registration refused for user_exists leaves the invite pending", () =>
      Effect.gen(function*() {
        const keys = publicKeys()
        const first = yield* mint()
        expect((yield* registerWith(first.token, keys)).status).toBe(201)
        const second = yield* mint()
        const refused = yield* registerWith(second.token, { signPub: keys.signPub, kexPub: publicKeys().kexPub })
        expect([refused.status, refused.body.error]).toEqual([409, "user_exists"])
        expect((yield* asAdmin("GET", `/v1/invites/${second.invite.id}`)).body.invite.status).toBe("pending")
      }))

    it.effect("malformed JSON, unknown fields and bad queries are invalid_request; unknown routes not_found", () =>
      Effect.gen(function*() {
        const malformed = yield* http("POST", "/v1/register", { raw: "{not json" })
        expect([malformed.status, malformed.body.error]).toEqual([400, "invalid_request"])
        expect(malformed.body.issues).toEqual([])
        const unknownField = yield* asAdmin("POST", "/v1/invites", { kind: "registration", handle: handle(), color: "red" })
        expect(unknownField.status).toBe(400)
        expect(unknownField.body.issues.map((i: { path: string }) => i.path)).toContain("color")
        const badTtl = yield* asAdmin("POST", "/v1/invites", { kind: "registration", handle: handle(), ttl_seconds: 5 })
        expect([badTtl.status, badTtl.body.error]).toEqual([400, "invalid_request"])
        const noTarget = yield* asAdmin("POST", "/v1/invites", { kind: "grant" })
        expect([noTarget.status, noTarget.body.error]).toEqual([400, "invalid_request"])
        const badQuery = yield* asAdmin("GET", "/v1/events?limit=zero")
        expect([badQuery.status, badQuery.body.error]).toEqual([400, "invalid_request"])
        const route = yield* http("GET", "/v1/nowhere")
        expect([route.status, route.body.error]).toEqual([404, "not_found"])
      }))

    it.effect("authentication and authorization failures", () =>
      Effect.gen(function*() {
        expect((yield* http("GET", "/v1/me")).body.error).toBe("unauthenticated")
        expect((yield* http("GET", "/v1/me", { key: "tsk_nope" })).status).toBe(401)
        const member = yield* registered
        const users = yield* http("GET", "/v1/users", { key: member.key })
        expect([users.status, users.body.error]).toEqual([403, "forbidden"])
        const mintAsMember = yield* http("POST", "/v1/invites", { key: member.key, json: { kind: "registration", handle: handle() } })
        expect(mintAsMember.status).toBe(403)
        const missing = yield* asAdmin("GET", "/v1/users/usr_00000000000000000000000000000000")
        expect([missing.status, missing.body.error]).toEqual([404, "not_found"])
      }))

    it.effect("a revoked user's API key is refused on the very next request", () =>
      Effect.gen(function*() {
        const member = yield* registered
        expect((yield* http("GET", "/v1/me", { key: member.key })).status).toBe(200)
        const revoke = yield* asAdmin("POST", `/v1/users/${member.id}/revoke`)
        expect(revoke.body.user.status).toBe("revoked")
        const next = yield* http("GET", "/v1/me", { key: member.key })
        expect([next.status, next.body.error]).toEqual([401, "unauthenticated"])
      }))

    it.effect("deleting a user reports what went; the last system admin stays", () =>
      Effect.gen(function*() {
        const member = yield* registered
        const report = yield* asAdmin("DELETE", `/v1/users/${member.id}`)
        expect(report.status).toBe(200)
        expect(report.body).toMatchObject({ user_id: member.id, personal_workspaces_deleted: 1, api_keys_deleted: 1 })
        expect((yield* http("GET", "/v1/me", { key: member.key })).status).toBe(401)
        const me = (yield* asAdmin("GET", "/v1/me")).body.user
        const self = yield* asAdmin("DELETE", `/v1/users/${me.id}`)
        expect([self.status, self.body.error]).toEqual([409, "last_system_admin"])
      }))

    it.effect("events page by seq and neither events nor list responses contain a secret", () =>
      Effect.gen(function*() {
        const { adminKey } = yield* Served
        const { token } = yield* mint()
        const member = yield* registerWith(token)
        const secrets = [adminKey, token, member.body.api_key as string]
        const lists = [
          yield* asAdmin("GET", "/v1/invites"),
          yield* asAdmin("GET", "/v1/users"),
          yield* asAdmin("GET", "/v1/events?limit=1000")
        ]
        for (const list of lists) {
          expect(list.status).toBe(200)
          for (const secret of secrets) {
            expect(list.text).not.toContain(secret)
            expect(list.text).not.toContain(secret.slice(4, 36))
          }
        }
        const first = yield* asAdmin("GET", "/v1/events?limit=2")
        expect(first.body.events).toHaveLength(2)
        const next = yield* asAdmin("GET", `/v1/events?after=${first.body.next_after}&limit=2`)
        expect(next.body.events[0].seq).toBe(first.body.next_after + 1)
        const forbidden = yield* http("GET", "/v1/events", { key: member.body.api_key })
        expect(forbidden.status).toBe(403)
      }))
  })
}
