// Proves that on one SQLite file shared by OS processes an invite is redeemed exactly once (a registration; a workspace
// grant, each process redeeming it in one call) and each migration is applied exactly once.
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { authenticate, createWorkspace, EventLog, InviteStore, mintInvite, SystemActor, UserStore, WorkspaceStore } from "@tessera/domain"
import { lastSeq, registerUser, uniqueHandle } from "@tessera/store-contract/fixtures"
import { loadMigrations, migrateUp } from "@tessera/store-sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Option, Redacted } from "effect"
import { dialect, layer, migrations, migrationsDir } from "../src/index.js"
import { copyMigrations } from "@tessera/store-sql/testing"
import { startWorker as startProcess } from "./fixtures/processes.js"

const PROCESSES = 4
const workerScript = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))

type Result =
  | { outcome: "registered"; userId: string }
  | { outcome: "redeemed"; userId: string; inOneCall: boolean }
  | { outcome: "failed"; tag: string }
  | { outcome: "migrated"; applied: Array<number> }
  | { outcome: "crashed"; output: string }

const startWorker = (args: ReadonlyArray<string>) => startProcess<Result>(workerScript, args)

/**
 * Runs the workers so that they contend: this process holds the write lock (an empty `BEGIN IMMEDIATE`
 * transaction) until every worker has opened the file and a little longer, so all of them are queued
 * on the lock when it is released. (This process opens one connection only: it never waits on the lock.)
 */
const raceWorkers = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const workers = Array.from({ length: PROCESSES }, () => startWorker(args))
    yield* sql.withTransaction(
      Effect.promise(() => Promise.all(workers.map((w) => w.ready))).pipe(Effect.zipRight(Effect.sleep("300 millis")))
    )
    return yield* Effect.promise(() => Promise.all(workers.map((w) => w.result)))
  })

const freshFile = () => join(mkdtempSync(join(tmpdir(), "tessera-mp-")), "tessera.db")

describe("SQLite across processes", () => {
  it.live(`one invite, ${PROCESSES} processes registering at once: exactly one succeeds`, () => {
    const file = freshFile()
    return Effect.gen(function*() {
      yield* migrateUp(migrations(), dialect)
      const handle = uniqueHandle("mp")
      const { invite, token } = yield* mintInvite(SystemActor, { kind: "registration", handle })
      const results = yield* raceWorkers(["register", file, Redacted.value(token)])

      expect(results.map((r) => (r.outcome === "failed" ? r.tag : r.outcome)).sort()).toEqual([
        ...Array<string>(PROCESSES - 1).fill("InviteAlreadyRedeemed"),
        "registered"
      ])
      const winners = results.filter((r) => r.outcome === "registered")
      const users = (yield* Effect.flatMap(UserStore, (s) => s.list)).filter((u) => u.handle === handle)
      expect(users.map((u) => u.id)).toEqual([winners[0]!.userId])
      const stored = Option.getOrThrow(yield* Effect.flatMap(InviteStore, (s) => s.findById(invite.id)))
      expect([stored.status, stored.redeemed_by]).toEqual(["redeemed", winners[0]!.userId])
      const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: 0, limit: 1000 }))
      expect(events.filter((e) => e.type === "invite.redeemed" && e.data["invite_id"] === invite.id)).toHaveLength(1)
    }).pipe(Effect.provide(layer(file)))
  })

  it.live(`one grant invite, ${PROCESSES} processes redeeming it at once, each in one call: exactly one succeeds`, () => {
    const file = freshFile()
    return Effect.gen(function*() {
      yield* migrateUp(migrations(), dialect)
      const minter = yield* registerUser(SystemActor)
      const team = yield* createWorkspace(yield* authenticate(minter.apiKey), { name: "raced" })
      const { invite, token } = yield* mintInvite(yield* authenticate(minter.apiKey), { kind: "grant", workspace_id: team.id, workspace_role: "member" })
      const keys = yield* Effect.forEach(Array.from({ length: PROCESSES }), () => Effect.map(registerUser(SystemActor), (r) => Redacted.value(r.apiKey)))
      const seq = yield* lastSeq
      const workers = keys.map((key) => startWorker(["redeem", file, Redacted.value(token), key]))
      const sql = yield* SqlClient.SqlClient
      yield* sql.withTransaction(
        Effect.promise(() => Promise.all(workers.map((w) => w.ready))).pipe(Effect.zipRight(Effect.sleep("300 millis")))
      )
      const results = yield* Effect.promise(() => Promise.all(workers.map((w) => w.result)))
      expect(results.map((r) => (r.outcome === "failed" ? r.tag : r.outcome)).sort()).toEqual([
        ...Array<string>(PROCESSES - 1).fill("InviteAlreadyRedeemed"),
        "redeemed"
      ])
      const winner = results.find((r) => r.outcome === "redeemed")!
      // it won in one call (the losers' claims did not apply, and the general path said why)
      expect(winner.inOneCall).toBe(true)
      const members = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(team.id))).members
      expect(members.map((m) => m.user_id).sort()).toEqual([minter.user.id, winner.userId].sort())
      const stored = Option.getOrThrow(yield* Effect.flatMap(InviteStore, (s) => s.findById(invite.id)))
      expect([stored.status, stored.redeemed_by]).toEqual(["redeemed", winner.userId])
      const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: seq, limit: 1000 }))
      expect(events.map((e) => e.type)).toEqual(["invite.redeemed", "workspace.member_added"])
    }).pipe(Effect.provide(layer(file)))
  })

  it.live(`${PROCESSES} migrators on a fresh file at once: each version is applied exactly once`, () => {
    const file = freshFile()
    const dir = copyMigrations(migrationsDir, 8) // the real steps plus eight trivial ones, so the migrators interleave
    const versions = loadMigrations(dir).map((m) => m.version)
    return Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const results = yield* raceWorkers(["migrate", file, dir])

      expect(results.map((r) => r.outcome)).toEqual(Array<string>(PROCESSES).fill("migrated"))
      const applied = results.flatMap((r) => (r.outcome === "migrated" ? r.applied : []))
      expect(applied.sort((a, b) => a - b)).toEqual(versions)
      const rows = yield* sql<{ version: number }>`SELECT version FROM tessera_migrations ORDER BY version`
      expect(rows.map((r) => r.version)).toEqual(versions)
    }).pipe(Effect.provide(layer(file)))
  })
})
