// Proves on one SQLite file shared by OS processes that a user's writes racing their deletion (reading their
// personal workspace, creating a team workspace, creating a resource in their personal workspace) each either
// commit before the deletion or are refused as Unauthenticated after it — never a constraint error on either side —
// and leave nothing that refers to the deleted user; and that registration invites minted for one handle from
// several processes at once leave exactly one pending invite (the others are Conflict).
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { deletionLeftovers, newUser, uniqueHandle } from "@tessera/store-contract/fixtures"
import { migrateUp } from "@tessera/store-sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Redacted } from "effect"
import { dialect, layer, migrations } from "../src/index.js"
import { type Crashed, raceWorkers as raceProcesses } from "./fixtures/processes.js"

const ROUNDS = 3
const USERS = 4
const MINTERS = 6
const HANDLES = 3
const workerScript = fileURLToPath(new URL("./fixtures/deletion-worker.ts", import.meta.url))

type Step =
  | { step: string; outcome: "ok"; id?: string }
  | { step: string; outcome: "failed"; tag: string }
  | { step: string; outcome: "defect"; message: string }
type Result = ReadonlyArray<Step> | Crashed

const outcomeOf = (s: Step) => (s.outcome === "failed" ? s.tag : s.outcome)

/** Races the workers (see `raceWorkers`); a crashed worker fails the test with its output. */
const raceWorkers = (argLists: ReadonlyArray<ReadonlyArray<string>>) =>
  Effect.map(raceProcesses<Result>(workerScript, argLists), (results) =>
    results.map((r) => {
      if (!Array.isArray(r)) throw new Error(`a worker crashed: ${(r as Crashed).output}`)
      return r as ReadonlyArray<Step>
    }))

const rows = (statement: string) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<Record<string, unknown>>(statement)).pipe(Effect.orDie)

const violations = rows(deletionLeftovers)

const freshFile = () => join(mkdtempSync(join(tmpdir(), "tessera-sdr-")), "tessera.db")

/** Each user's writes, in an order that differs per user so that the deletion lands between different ones. */
const actionsFor = (i: number) => {
  const base = ["create-resource", "create-workspace", "my-workspace"]
  const rotated = [...base.slice(i % 3), ...base.slice(0, i % 3)]
  return [...rotated, ...rotated].join(",")
}

describe("SQLite writes racing a user's deletion, across processes", () => {
  it.live(
    `${USERS} users writing from ${USERS} processes while a fifth deletes them (${ROUNDS} rounds): ok before, Unauthenticated after, nothing left behind`,
    () => {
      const file = freshFile()
      return Effect.gen(function*() {
        yield* migrateUp(migrations(), dialect)
        const heir = yield* newUser
        const problems: Array<unknown> = []
        const seen = new Set<string>()
        for (let round = 0; round < ROUNDS; round++) {
          const doomed = yield* Effect.all(Array.from({ length: USERS }, () => newUser))
          const results = yield* raceWorkers([
            ...doomed.map((u, i) => ["act", file, Redacted.value(u.apiKey), u.personal, actionsFor(round + i)]),
            // the deletion order alternates, so that the first and the last user differ between rounds
            ["delete", file, heir.user.id, (round % 2 === 0 ? doomed : [...doomed].reverse()).map((u) => u.user.id).join(",")]
          ])
          const deletions = results[USERS]!
          if (deletions.some((d) => d.outcome !== "ok")) problems.push({ round, deletions })
          doomed.forEach((user, i) => {
            const steps = results[i]!
            const outcomes = steps.map(outcomeOf)
            for (const outcome of outcomes) seen.add(outcome)
            // Once the deletion has committed the user never gets back in: every later write is Unauthenticated.
            const firstRefused = outcomes.indexOf("Unauthenticated")
            const wellFormed = outcomes.every((o, j) => (firstRefused === -1 || j < firstRefused ? o === "ok" : o === "Unauthenticated"))
            // Before the deletion, the personal workspace read is the one the user was created with.
            const recreated = steps.some((s) => s.step === "my-workspace" && s.outcome === "ok" && s.id !== user.personal)
            if (!wellFormed || recreated) problems.push({ round, user: i, steps })
          })
          const left = yield* rows(`
            SELECT 'workspace' AS kind, id FROM workspaces WHERE owner_user_id IN (${doomed.map((u) => `'${u.user.id}'`).join(",")})
            UNION ALL SELECT 'resource', id FROM resources WHERE workspace_id IN (${doomed.map((u) => `'${u.personal}'`).join(",")})
            UNION ALL SELECT 'user', id FROM users WHERE id IN (${doomed.map((u) => `'${u.user.id}'`).join(",")})`)
          if (left.length > 0) problems.push({ round, left })
          // Team workspaces created before their creator's deletion went to the heir.
          const orphanTeams = yield* rows(`
            SELECT w.id FROM workspaces w WHERE w.is_personal = 0
              AND NOT EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.role = 'admin' AND m.user_id = '${heir.user.id}')`)
          if (orphanTeams.length > 0) problems.push({ round, teamsWithoutHeir: orphanTeams })
        }
        expect(problems).toEqual([])
        expect(yield* violations).toEqual([])
        // The rounds raced: some writes landed before a deletion and some after.
        expect(seen).toEqual(new Set(["ok", "Unauthenticated"]))
      }).pipe(Effect.provide(layer(file)))
    },
    300_000
  )

  it.live(`${MINTERS} processes minting registration invites for the same ${HANDLES} handles at once: one pending invite per handle`, () => {
    const file = freshFile()
    return Effect.gen(function*() {
      yield* migrateUp(migrations(), dialect)
      const handles = Array.from({ length: HANDLES }, () => uniqueHandle("one"))
      const results = yield* raceWorkers(Array.from({ length: MINTERS }, () => ["mint", file, handles.join(",")]))
      for (const handle of handles) {
        const steps = results.map((r) => r.find((s) => s.step === handle)!)
        expect({ handle, outcomes: steps.map(outcomeOf).sort() }).toEqual({
          handle,
          outcomes: [...Array<string>(MINTERS - 1).fill("Conflict"), "ok"]
        })
        const winner = steps.find((s) => s.outcome === "ok") as { id: string }
        const stored = yield* rows(`SELECT id, status FROM invites WHERE handle = '${handle}'`)
        expect(stored).toEqual([{ id: winner.id, status: "pending" }])
      }
    }).pipe(Effect.provide(layer(file)))
  }, 180_000)
})
