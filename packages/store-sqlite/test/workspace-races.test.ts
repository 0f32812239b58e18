// Proves that on one SQLite file shared by OS processes a workspace grant invite adds exactly one member, and
// admins stepping down at once never leave a team workspace without an admin.
import { describe, expect, it } from "@effect/vitest"
import {
  createResource,
  grantAccess,
  ResourceStore,
  addMember,
  createWorkspace,
  EventLog,
  InviteStore,
  mintInvite,
  WorkspaceStore
} from "@tessera/domain"
import { newUser } from "@tessera/store-contract/fixtures"
import { migrateUp } from "@tessera/store-sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Option, Redacted } from "effect"
import { dialect, layer, migrations } from "../src/index.js"
import { raceWorkers as raceProcesses } from "./fixtures/processes.js"

const PROCESSES = 4
const workerScript = fileURLToPath(new URL("./fixtures/workspace-worker.ts", import.meta.url))

type Result = { outcome: "ok" } | { outcome: "failed"; tag: string } | { outcome: "crashed"; output: string }

const raceWorkers = (argLists: ReadonlyArray<ReadonlyArray<string>>) => raceProcesses<Result>(workerScript, argLists)

const outcomeOf = (r: Result) => (r.outcome === "failed" ? r.tag : r.outcome)

const freshFile = () => join(mkdtempSync(join(tmpdir(), "tessera-mpw-")), "tessera.db")

describe("SQLite workspaces across processes", () => {
  it.live(`one workspace grant invite, ${PROCESSES} processes redeeming at once: exactly one becomes a member`, () => {
    const file = freshFile()
    return Effect.gen(function*() {
      yield* migrateUp(migrations(), dialect)
      const owner = yield* newUser
      const team = (yield* createWorkspace(owner.principal, { name: "grant" })).id
      const { invite, token } = yield* mintInvite(owner.principal, { kind: "grant", workspace_id: team, workspace_role: "member" })
      const redeemers = yield* Effect.all(Array.from({ length: PROCESSES }, () => newUser))
      const results = yield* raceWorkers(redeemers.map((r) => ["redeem", file, Redacted.value(r.apiKey), Redacted.value(token)]))

      expect(results.map(outcomeOf).sort()).toEqual([...Array<string>(PROCESSES - 1).fill("InviteAlreadyRedeemed"), "ok"])
      const winner = redeemers[results.findIndex((r) => r.outcome === "ok")]!.user.id
      const members = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(team))).members
      const byUser = (x: { user_id: string }, y: { user_id: string }) => (x.user_id < y.user_id ? -1 : 1)
      expect(members.map((m) => ({ user_id: m.user_id, role: m.role })).sort(byUser)).toEqual(
        [{ user_id: owner.user.id, role: "admin" }, { user_id: winner, role: "member" }].sort(byUser)
      )
      const stored = Option.getOrThrow(yield* Effect.flatMap(InviteStore, (s) => s.findById(invite.id)))
      expect([stored.status, stored.redeemed_by]).toEqual(["redeemed", winner])
      const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: 0, limit: 1000, workspaceId: team }))
      expect(events.filter((e) => e.type === "invite.redeemed")).toHaveLength(1)
      expect(events.filter((e) => e.type === "workspace.member_added" && e.data["invite_id"] === invite.id).map((e) => e.data["user_id"]))
        .toEqual([winner])
    }).pipe(Effect.provide(layer(file)))
  })

  it.live(`${PROCESSES} admins of one team stepping down at once from ${PROCESSES} processes: the last one is last_admin`, () => {
    const file = freshFile()
    return Effect.gen(function*() {
      yield* migrateUp(migrations(), dialect)
      const admins = yield* Effect.all(Array.from({ length: PROCESSES }, () => newUser))
      const team = (yield* createWorkspace(admins[0]!.principal, { name: "step-down" })).id
      for (const a of admins.slice(1)) yield* addMember(admins[0]!.principal, team, a.user.id, "admin")
      const results = yield* raceWorkers(
        admins.map((a, i) => ["step-down", file, Redacted.value(a.apiKey), team, i % 2 === 0 ? "demote" : "remove"])
      )

      expect(results.map(outcomeOf).sort()).toEqual(["LastAdmin", ...Array<string>(PROCESSES - 1).fill("ok")])
      const last = admins[results.findIndex((r) => r.outcome === "failed")]!.user.id
      const members = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(team))).members
      expect(members.filter((m) => m.role === "admin").map((m) => m.user_id)).toEqual([last])
    }).pipe(Effect.provide(layer(file)))
  })

  it.live(`${PROCESSES} owners of one root dropping their own access from ${PROCESSES} processes: the last one is last_owner`, () => {
    const file = freshFile()
    return Effect.gen(function*() {
      yield* migrateUp(migrations(), dialect)
      const owners = yield* Effect.all(Array.from({ length: PROCESSES }, () => newUser))
      const team = (yield* createWorkspace(owners[0]!.principal, { name: "owners" })).id
      for (const o of owners.slice(1)) yield* addMember(owners[0]!.principal, team, o.user.id, "member")
      const root = yield* createResource(owners[0]!.principal, team, { title: "shared root" })
      for (const o of owners.slice(1)) yield* grantAccess(owners[0]!.principal, root.id, o.user.id, "owner")
      const accessOf = new Map((yield* Effect.flatMap(ResourceStore, (s) => s.accesses([root.id]))).map((a) => [a.user_id, a.id]))
      // every owner drops their own access at once: without the guard the root would end with none
      const results = yield* raceWorkers(owners.map((o) => [
        "remove-access",
        file,
        Redacted.value(o.apiKey),
        root.id,
        accessOf.get(o.user.id)!
      ]))

      expect(results.map(outcomeOf).sort()).toEqual(["LastOwner", ...Array<string>(PROCESSES - 1).fill("ok")])
      const last = owners[results.findIndex((r) => r.outcome === "failed")]!.user.id
      const remaining = (yield* Effect.flatMap(ResourceStore, (s) => s.accesses([root.id]))).filter((a) => a.role === "owner")
      expect(remaining.map((a) => a.user_id)).toEqual([last])
    }).pipe(Effect.provide(layer(file)))
  })
})
