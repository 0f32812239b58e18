// Proves on PostgreSQL, with every racer inside its own transaction on its own pooled connection, that writes racing
// a user's deletion leave nothing that refers to the deleted user: reading their personal workspace never recreates
// it, a team workspace created while they are deleted never ends with no live admin, and a resource created in their
// personal workspace never breaks the deletion (nor the creation) with a constraint error. Each racer either
// finishes before the deletion or is refused as Unauthenticated; none dies. Also proves that concurrent mints of a
// registration invite for one handle leave exactly one pending invite (the others are Conflict).
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import {
  authenticate,
  createResource,
  createWorkspace,
  deleteUser,
  mintInvite,
  myPersonalWorkspace,
  register,
  SystemActor,
  Transactor,
  type UserId
} from "@tessera/domain"
import { publicKeys, uniqueHandle } from "@tessera/store-contract/fixtures"
import { migrateUp } from "@tessera/store-sql"
import { Cause, Effect, Either, Layer, Option } from "effect"
import { dialect, layer as pgLayer, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"
import { gatedTransactor } from "./fixtures/gate.js"

const ROUNDS = 30
const MINTERS = 16

const store = freshDatabaseLayer((url) =>
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
    Layer.provideMerge(pgLayer({ url, maxConnections: MINTERS + 4 })),
    Layer.orDie
  )
)

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

const newUser = Effect.gen(function*() {
  const { token } = yield* mintInvite(SystemActor, { kind: "registration", handle: uniqueHandle("dr") })
  const { apiKey, personalWorkspace, user } = yield* register({ token, ...publicKeys() })
  return { user, personal: personalWorkspace.id, principal: yield* authenticate(apiKey) }
})

const rows = (statement: string) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<Record<string, unknown>>(statement)).pipe(Effect.orDie)

/**
 * Every stored row that refers to a missing user, every team workspace without an admin and every live root
 * without a direct owner (SPEC §3.9 doctor). The foreign keys of migration 0003 refuse the first kinds at write
 * time; the query still looks, so that the test does not depend on them.
 */
const violations = rows(`
  SELECT 'member of a missing user' AS problem, workspace_id AS id FROM workspace_members WHERE user_id NOT IN (SELECT id FROM users)
  UNION ALL SELECT 'workspace owned by a missing user', id FROM workspaces WHERE owner_user_id IS NOT NULL AND owner_user_id NOT IN (SELECT id FROM users)
  UNION ALL SELECT 'access of a missing user', id FROM resource_accesses WHERE user_id NOT IN (SELECT id FROM users)
  UNION ALL SELECT 'api key of a missing user', id FROM api_keys WHERE user_id NOT IN (SELECT id FROM users)
  UNION ALL SELECT 'team without an admin', w.id FROM workspaces w WHERE w.is_personal = 0
    AND NOT EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.role = 'admin')
  UNION ALL SELECT 'live root without an owner', r.id FROM resources r WHERE r.parent_id IS NULL AND r.revoked_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM resource_accesses a WHERE a.resource_id = r.id AND a.role = 'owner')
  UNION ALL SELECT 'resource in a missing workspace', id FROM resources WHERE workspace_id NOT IN (SELECT id FROM workspaces)`)

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
