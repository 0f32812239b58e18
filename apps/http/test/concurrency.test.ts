// Single-use under real concurrency: 32 simultaneous POST /v1/register with
// one invite, served over one PostgreSQL pool of 40 connections; and on both
// stores 64 users redeeming one grant invite at once.
import { expect, layer } from "@effect/vitest"
import { publicKeys } from "@tessera/store-contract"
import { Effect } from "effect"
import { createTeam, mintGrant, people } from "./fixtures/people.js"
import { byAdmin, pgStore, type SdkResult, Served, served, sqliteStore, type StoreName } from "./harness.js"

/** Each reply's status and body (its data or its error), as the SDK received it. */
const settled = <R extends SdkResult>(calls: ReadonlyArray<Promise<R>>) =>
  Effect.promise(() =>
    Promise.all(calls.map((call) => call.then((r) => ({ status: r.response.status, body: (r.data ?? r.error) as any }))))
  )

layer(served(pgStore(40)), { timeout: "120 seconds", excludeTestServices: true })("registration race (pg)", (it) => {
  it.effect("32 concurrent registrations with one invite: exactly one 201, the rest 409", () =>
    Effect.gen(function*() {
      const { client, sql } = yield* Served
      const handle = `race${Date.now().toString(36)}`
      const minted = yield* byAdmin((admin) => admin.POST("/v1/invites", { body: { kind: "registration", handle } }))
      const token = minted.token
      const replies = yield* settled(Array.from({ length: 32 }, () => {
        const keys = publicKeys()
        return client().POST("/v1/register", { body: { token, sign_pub: keys.signPub, kex_pub: keys.kexPub } })
      }))
      const statuses = replies.map((r) => r.status).sort()
      expect(statuses.filter((s) => s === 201)).toHaveLength(1)
      expect(statuses.filter((s) => s === 409)).toHaveLength(31)
      expect(replies.filter((r) => r.status === 409).every((r) => r.body.error === "invite_already_redeemed")).toBe(true)
      const users = yield* sql<{ id: string }>`SELECT id FROM users WHERE handle = ${handle}`.pipe(Effect.orDie)
      expect(users).toHaveLength(1)
      const winner = replies.find((r) => r.status === 201)!
      expect(users[0]!.id).toBe(winner.body.user.id)
      const redeemed = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM events WHERE type = 'invite.redeemed' AND data LIKE ${`%${minted.invite.id}%`}`.pipe(Effect.orDie)
      expect(Number(redeemed[0]!.n)).toBe(1)
    }))
})

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(store === "sqlite" ? sqliteStore() : pgStore(40)), { timeout: "180 seconds", excludeTestServices: true })(`grant race (${store})`, (it) => {
    it.effect("64 users redeem one grant invite at once: one 200, 63 × 409 invite_already_redeemed, no 5xx, one member added", () =>
      Effect.gen(function*() {
        const { sql } = yield* Served
        const [owner, ...racers] = yield* people(65)
        const team = yield* createTeam(owner)
        const minted = yield* mintGrant(owner, { workspace_id: team, workspace_role: "member" })
        const replies = yield* settled(racers.map((racer) => racer.client.POST("/v1/invites/redeem", { body: { token: minted.token } })))
        expect(replies.filter((r) => r.status >= 500)).toEqual([])
        const winners = replies.flatMap((r, i) => (r.status === 200 ? [racers[i]!] : []))
        expect(winners).toHaveLength(1)
        expect(replies.filter((r) => r.status === 409 && r.body.error === "invite_already_redeemed")).toHaveLength(63)
        const members = yield* sql<{ user_id: string }>`SELECT user_id FROM workspace_members WHERE workspace_id = ${team} ORDER BY user_id`.pipe(Effect.orDie)
        expect(members.map((m) => m.user_id).sort()).toEqual([owner.id, winners[0]!.id].sort())
        const stored = yield* sql<{ status: string; redeemed_by: string }>`SELECT status, redeemed_by FROM invites WHERE id = ${minted.id}`.pipe(Effect.orDie)
        expect(stored).toEqual([{ status: "redeemed", redeemed_by: winners[0]!.id }])
        const redeemed = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM events WHERE type = 'invite.redeemed' AND data LIKE ${`%${minted.id}%`}`.pipe(Effect.orDie)
        expect(Number(redeemed[0]!.n)).toBe(1)
      }))
  })
}
