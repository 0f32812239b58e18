// Single-use under real concurrency: 32 simultaneous POST /v1/register with
// one invite, served over one PostgreSQL pool of 40 connections.
import { expect, layer } from "@effect/vitest"
import { publicKeys } from "@tessera/store-contract"
import { Effect } from "effect"
import { call, pgStore, Served, served } from "./harness.js"

layer(served(pgStore(40)), { timeout: "120 seconds", excludeTestServices: true })("registration race (pg)", (it) => {
  it.effect("32 concurrent registrations with one invite: exactly one 201, the rest 409", () =>
    Effect.gen(function*() {
      const { adminKey, baseUrl, sql } = yield* Served
      const handle = `race${Date.now().toString(36)}`
      const minted = yield* Effect.promise(() =>
        call(baseUrl, "POST", "/v1/invites", { key: adminKey, json: { kind: "registration", handle } }))
      const token = minted.body.token as string
      const replies = yield* Effect.promise(() =>
        Promise.all(Array.from({ length: 32 }, () => {
          const keys = publicKeys()
          return call(baseUrl, "POST", "/v1/register", { json: { token, sign_pub: keys.signPub, kex_pub: keys.kexPub } })
        })))
      const statuses = replies.map((r) => r.status).sort()
      expect(statuses.filter((s) => s === 201)).toHaveLength(1)
      expect(statuses.filter((s) => s === 409)).toHaveLength(31)
      expect(replies.filter((r) => r.status === 409).every((r) => r.body.error === "invite_already_redeemed")).toBe(true)
      const users = yield* sql<{ id: string }>`SELECT id FROM users WHERE handle = ${handle}`.pipe(Effect.orDie)
      expect(users).toHaveLength(1)
      const winner = replies.find((r) => r.status === 201)!
      expect(users[0]!.id).toBe(winner.body.user.id)
      const redeemed = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM events WHERE type = 'invite.redeemed' AND data LIKE ${`%${minted.body.invite.id}%`}`.pipe(Effect.orDie)
      expect(Number(redeemed[0]!.n)).toBe(1)
    }))
})
