// Proves on PostgreSQL, with every racer inside its own transaction on its own pooled connection, that writes racing
// a user's deletion leave nothing that refers to the deleted user: reading their personal workspace never recreates
// it, a team workspace created while they are deleted never ends with no live admin, and a resource created in their
// personal workspace never breaks the deletion (nor the creation) with a constraint error. Each racer either
// finishes before the deletion or is refused as Unauthenticated; none dies. Also proves that concurrent mints of a
// registration invite for one handle leave exactly one pending invite (the others are Conflict).
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import {
  createResource,
  createWorkspace,
  deleteUser,
  mintInvite,
  myPersonalWorkspace,
  SystemActor,
  Transactor,
  type UserId
} from "@tessera/domain"
import { deletionLeftovers, newUser, uniqueHandle } from "@tessera/store-contract/fixtures"
import { Cause, Effect, Either, Option } from "effect"
import { gatedTransactor, racingStore } from "./fixtures/gate.js"

const ROUNDS = 30
const MINTERS = 16

const store = racingStore(MINTERS)

type Outcome = { readonly tag: string; readonly value?: unknown }

/** A defect in one line: the driver's message when the database refused a statement. */
const describeDefect = (cause: Cause.Cause<unknown>) => {
  const defect = Cause.squash(cause) as { _tag?: unknown; cause?: { message?: unknown } }
  const driver = typeof defect?.cause?.message === "string" ? `: ${defect.cause.message}` : ""
  return `die: ${String(defect?._tag ?? Cause.pretty(cause).split("\n")[0])}${driver}`
}

/**
 * Runs the racers at once, each in its own gated transaction on its own connection; racer `i` then waits
 * `delays[i]` milliseconds inside its transaction before its program starts, so that across rounds it lands
 * before, inside and after the other's writes. A business failure is its tag; a defect (a constraint error, an
 * escaped deadlock) is `die: …` with the driver's message, so the assertion that fails names it.
 */
const race = <R>(
  racers: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string }, R>>,
  delays: ReadonlyArray<number> = []
) =>
  Effect.gen(function*() {
    const gated = yield* gatedTransactor(racers.length)
    const results = yield* Effect.all(
      racers.map((r, i) => {
        const delayed = Transactor.of({ run: (program) => gated.run(Effect.zipRight(Effect.sleep(delays[i] ?? 0), program)) })
        return Effect.either(Effect.catchAllCause(r, (cause) =>
          Effect.fail({ _tag: Cause.isFailType(cause) ? cause.error._tag : describeDefect(cause) })
        )).pipe(Effect.provideService(Transactor, delayed))
      }),
      { concurrency: "unbounded" }
    )
    return results.map((r): Outcome => (Either.isRight(r) ? { tag: "ok", value: r.right } : { tag: r.left._tag }))
  })

/** How long the writer racing a deletion waits inside its transaction, by round: from not at all to well after. */
const chase = (round: number) => [0, 1, 3, 6, 12, 25][round % 6]!

const rows = (statement: string) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<Record<string, unknown>>(statement)).pipe(Effect.orDie)

const violations = rows(deletionLeftovers)

/** Workspaces and resources that still mention `userId` as owner, member or grantee. */
const traces = (userId: UserId) =>
  rows(`
    SELECT 'owner' AS kind, id FROM workspaces WHERE owner_user_id = '${userId}'
    UNION ALL SELECT 'member', workspace_id FROM workspace_members WHERE user_id = '${userId}'
    UNION ALL SELECT 'grantee', resource_id FROM resource_accesses WHERE user_id = '${userId}'`)

const countOf = (statement: string) => Effect.map(rows(statement), (r) => Number(r[0]!["n"]))

layer(store, { excludeTestServices: true, timeout: "180 seconds" })("PostgreSQL writes racing a user's deletion", (it) => {
  it.effect(`GET my personal workspace while I am deleted (${ROUNDS} rounds): never recreated, the racer is ok before or Unauthenticated`, () =>
    Effect.gen(function*() {
      const seen: Array<{ round: number; read: string; deleted: string; traces: number }> = []
      const wrong: Array<unknown> = []
      for (let round = 0; round < ROUNDS; round++) {
        const doomed = yield* newUser
        const [read, deleted] = yield* race([
          myPersonalWorkspace(doomed.principal),
          deleteUser(SystemActor, doomed.user.id, Option.none())
        ], [chase(round)])
        // Succeeding before the deletion can only return the workspace the user was created with.
        if (read!.tag === "ok" && (read!.value as { id: string }).id !== doomed.personal) wrong.push({ round, returned: read!.value })
        seen.push({ round, read: read!.tag, deleted: deleted!.tag, traces: (yield* traces(doomed.user.id)).length })
      }
      expect(seen.filter((s) => !["ok", "Unauthenticated"].includes(s.read) || s.deleted !== "ok" || s.traces !== 0)).toEqual([])
      expect(wrong).toEqual([])
      expect(yield* violations).toEqual([])
      expect(yield* countOf(`SELECT COUNT(*) AS n FROM workspaces WHERE is_personal = 1 AND owner_user_id IS NULL`)).toBe(0)
    }))

  it.effect(`creating a team workspace while its creator is deleted (${ROUNDS} rounds): never a team whose only admin is gone`, () =>
    Effect.gen(function*() {
      const heir = yield* newUser
      const unexpected: Array<unknown> = []
      for (let round = 0; round < ROUNDS; round++) {
        // odd rounds hand the creator's seats to an heir, even rounds do not
        const transfer = round % 2 === 1 ? Option.some(heir.user.id) : Option.none<UserId>()
        const doomed = yield* newUser
        const [created, deleted] = yield* race([
          createWorkspace(doomed.principal, { name: `chase ${round}` }),
          deleteUser(SystemActor, doomed.user.id, transfer)
        ], [chase(round)])
        const pair = `${created!.tag}/${deleted!.tag}`
        // created first: without an heir the creator is now its last admin (LastAdmin), with one the heir takes over;
        // deleted first: the creator no longer exists (Unauthenticated)
        const allowed = Option.isNone(transfer) ? ["Unauthenticated/ok", "ok/LastAdmin"] : ["Unauthenticated/ok", "ok/ok"]
        const team = created!.tag === "ok" ? (created!.value as { id: string }).id : undefined
        const admins = team === undefined
          ? []
          : (yield* rows(`SELECT user_id FROM workspace_members WHERE workspace_id = '${team}' AND role = 'admin'`)).map((r) => r["user_id"])
        const expectedAdmins = team === undefined ? [] : deleted!.tag === "ok" ? [heir.user.id] : [doomed.user.id]
        if (!allowed.includes(pair) || JSON.stringify(admins) !== JSON.stringify(expectedAdmins)) {
          unexpected.push({ round, transfer: Option.isSome(transfer), pair, admins, expectedAdmins })
        }
        if (deleted!.tag === "ok") expect({ round, traces: yield* traces(doomed.user.id) }).toEqual({ round, traces: [] })
      }
      expect(unexpected).toEqual([])
      expect(yield* violations).toEqual([])
    }))

  it.effect(`creating a resource in my personal workspace while I am deleted (${ROUNDS} rounds): both sides end cleanly`, () =>
    Effect.gen(function*() {
      const seen: Array<{ round: number; pair: string; left: number }> = []
      for (let round = 0; round < ROUNDS; round++) {
        const doomed = yield* newUser
        // half the rounds the workspace already holds a resource the deletion must sweep too
        if (round % 2 === 1) yield* createResource(doomed.principal, doomed.personal, { title: "already there" })
        const [created, deleted] = yield* race([
          createResource(doomed.principal, doomed.personal, { title: `late ${round}` }),
          deleteUser(SystemActor, doomed.user.id, Option.none())
        ], [chase(round)])
        const left = yield* countOf(
          `SELECT (SELECT COUNT(*) FROM resources WHERE workspace_id = '${doomed.personal}')
                + (SELECT COUNT(*) FROM workspaces WHERE id = '${doomed.personal}') AS n`
        )
        seen.push({ round, pair: `${created!.tag}/${deleted!.tag}`, left })
      }
      // A resource created first goes with the workspace; one created after the deletion is refused.
      expect(seen.filter((s) => !["ok/ok", "Unauthenticated/ok"].includes(s.pair) || s.left !== 0)).toEqual([])
      expect(yield* violations).toEqual([])
    }))

  it.effect(`${MINTERS} registration invites minted for one handle at once (3 rounds): exactly one stays pending`, () =>
    Effect.gen(function*() {
      for (let round = 0; round < 3; round++) {
        const handle = uniqueHandle("one")
        const results = yield* race(Array.from({ length: MINTERS }, () => mintInvite(SystemActor, { kind: "registration", handle })))
        expect({ round, outcomes: results.map((o) => o.tag).sort() }).toEqual({
          round,
          outcomes: [...Array<string>(MINTERS - 1).fill("Conflict"), "ok"]
        })
        const winner = (results.find((o) => o.tag === "ok")!.value as { invite: { id: string } }).invite.id
        const pending = yield* rows(`SELECT id FROM invites WHERE kind = 'registration' AND status = 'pending' AND handle = '${handle}'`)
        expect(pending.map((r) => r["id"])).toEqual([winner])
        expect(yield* countOf(`SELECT COUNT(*) AS n FROM invites WHERE handle = '${handle}'`)).toBe(1)
        const minted = yield* countOf(`SELECT COUNT(*) AS n FROM events WHERE type = 'invite.minted' AND data LIKE '%"handle":"${handle}"%'`)
        expect(minted).toBe(1)
      }
    }))
})
