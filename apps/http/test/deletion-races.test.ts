// Proves, with two real server processes on one store (one PostgreSQL database; one SQLite file), that users'
// writes sent to both servers while a system admin deletes those users never answer 5xx, that every deletion
// (handing the users' seats to the admin) succeeds, and that afterwards no stored row refers to a deleted user:
// no membership, workspace owner, direct access, API key or pending invite of theirs; no team workspace without
// an admin; no live root resource without a direct owner.
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { createClient, unwrap } from "@tessera/client"
import { formatToken } from "@tessera/domain"
import { publicKeys } from "@tessera/store-contract/fixtures"
import * as Pg from "@tessera/store-pg"
import { freshDatabase } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Layer, Redacted } from "effect"
import { freePorts, type Reply, request, serverProcess, type ServerProcess } from "./fixtures/servers.js"

const USERS = 6
const ROUNDS = 3
/** Each user's writes are sent this many times, alternating between the two servers. */
const REPEATS = 2

interface Doomed {
  readonly id: string
  readonly key: string
  readonly personal: string
  readonly team: string
  readonly root: string
}


/**
 * Every stored row that refers to a missing user, and every broken invariant a deletion could leave (docs/domain.md#users-and-credentials,
 * #workspaces, #resources and docs/doctor.md): memberships, workspace owners, direct accesses, API keys and pending invites of missing users;
 * team workspaces without an admin; live roots without a direct owner; personal workspaces whose members are not
 * exactly their owner.
 */
const violations = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.unsafe<{ problem: string; id: string }>(`
    SELECT 'member of a missing user' AS problem, workspace_id AS id FROM workspace_members WHERE user_id NOT IN (SELECT id FROM users)
    UNION ALL SELECT 'workspace owned by a missing user', id FROM workspaces WHERE owner_user_id IS NOT NULL AND owner_user_id NOT IN (SELECT id FROM users)
    UNION ALL SELECT 'access of a missing user', id FROM resource_accesses WHERE user_id NOT IN (SELECT id FROM users)
    UNION ALL SELECT 'api key of a missing user', id FROM api_keys WHERE user_id NOT IN (SELECT id FROM users)
    UNION ALL SELECT 'pending invite minted by a missing user', id FROM invites
      WHERE status = 'pending' AND created_by IS NOT NULL AND created_by NOT IN (SELECT id FROM users)
    UNION ALL SELECT 'team without an admin', w.id FROM workspaces w WHERE w.is_personal = 0
      AND NOT EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.role = 'admin')
    UNION ALL SELECT 'live root without an owner', r.id FROM resources r WHERE r.parent_id IS NULL AND r.revoked_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM resource_accesses a WHERE a.resource_id = r.id AND a.role = 'owner')
    UNION ALL SELECT 'personal workspace with another member', w.id FROM workspaces w JOIN workspace_members m ON m.workspace_id = w.id
      WHERE w.is_personal = 1 AND (m.user_id <> w.owner_user_id OR m.role <> 'admin')
    UNION ALL SELECT 'resource in a missing workspace', id FROM resources WHERE workspace_id NOT IN (SELECT id FROM workspaces)
    ORDER BY 1, 2`)).pipe(Effect.orDie)

/** What the servers logged at error level or above (a defect's 500 logs its cause there), one entry per log record. */
const errorLogs = (servers: ReadonlyArray<ServerProcess>) =>
  servers.flatMap((s) =>
    s.output().split(/\n(?=\[\d\d:\d\d:\d\d\.\d+\] )/).filter((entry) => /^\[[^\]]+\] (ERROR|FATAL) /.test(entry)).map((entry) =>
      entry.slice(0, 2000)
    )
  )

/**
 * Registers a user through the admin's registration invite and gives them a team, a root in it, and one in their personal workspace
 * (through the SDK: a failed step throws its `TesseraError`).
 */
const setUpUser = async (baseUrl: string, adminKey: string, n: string): Promise<Doomed> => {
  const admin = createClient({ baseUrl, apiKey: adminKey })
  const minted = await unwrap(admin.POST("/v1/invites", { body: { kind: "registration", handle: `doomed-${n}` } }))
  const keys = publicKeys()
  const registered = await unwrap(
    createClient({ baseUrl }).POST("/v1/register", { body: { token: minted.token, sign_pub: keys.signPub, kex_pub: keys.kexPub } })
  )
  const key = registered.api_key
  const user = createClient({ baseUrl, apiKey: key })
  const team = (await unwrap(user.POST("/v1/workspaces", { body: { name: `team ${n}` } }))).id
  const root = (await unwrap(user.POST("/v1/workspaces/{id}/resources", { params: { path: { id: team } }, body: { title: `root ${n}`, kind: "folder" } })))
    .id
  const personal = registered.personal_workspace.id
  await unwrap(user.POST("/v1/workspaces/{id}/resources", { params: { path: { id: personal } }, body: { title: `mine ${n}` } }))
  return { id: registered.user.id, key, personal, team, root }
}

/** Ties the users to each other: the next one is a member of this one's team, an editor of its root, and there is a pending grant invite for it. */
const connect = async (baseUrl: string, users: ReadonlyArray<Doomed>) => {
  for (const [i, u] of users.entries()) {
    const next = users[(i + 1) % users.length]!
    const user = createClient({ baseUrl, apiKey: u.key })
    await unwrap(user.POST("/v1/workspaces/{id}/members", { params: { path: { id: u.team } }, body: { user_id: next.id, role: "member" } }))
    await unwrap(user.POST("/v1/resources/{id}/accesses", { params: { path: { id: u.root } }, body: { user_id: next.id, role: "editor" } }))
    await unwrap(user.POST("/v1/invites", { body: { kind: "grant", resource_id: u.root, resource_role: "reader" } }))
  }
}

/** One user's writes: everything a user might be doing at the moment they are deleted, touching other doomed users too. */
const writesOf = (u: Doomed, i: number, users: ReadonlyArray<Doomed>, repeat: number) => {
  const other = (k: number) => users[(i + k) % users.length]!
  return [
    ["GET", "/v1/me/workspace", undefined],
    ["POST", "/v1/workspaces", { name: `raced ${i}.${repeat}` }],
    ["POST", `/v1/workspaces/${u.personal}/resources`, { title: `raced ${repeat}` }],
    ["POST", `/v1/workspaces/${u.team}/resources`, { title: `raced root ${repeat}` }],
    ["POST", `/v1/workspaces/${u.team}/members`, { user_id: other(2).id, role: repeat === 0 ? "admin" : "member" }],
    ["POST", `/v1/resources/${u.root}/accesses`, { user_id: other(3).id, role: "editor" }],
    ["POST", "/v1/invites", { kind: "grant", resource_id: u.root, resource_role: "reader" }],
    ["PATCH", `/v1/workspaces/${u.team}`, { name: `renamed ${repeat}` }]
  ] as const
}

/** Waits a random moment up to `ms` milliseconds. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * ms)))

const storeCases = [
  {
    name: "SQLite (one file)",
    open: Effect.sync(() => {
      const file = join(mkdtempSync(join(tmpdir(), "tessera-2srv-")), "tessera.db")
      return { env: { TESSERA_STORE: "sqlite", TESSERA_SQLITE_PATH: file }, client: Sqlite.clientLayer(file) }
    })
  },
  {
    name: "PostgreSQL (one database)",
    open: Effect.map(freshDatabase, (url) => ({
      env: { TESSERA_STORE: "pg", DATABASE_URL: Redacted.value(url) },
      client: Pg.clientLayer({ url, maxConnections: 2 })
    }))
  }
] as const

describe("two server processes on one store, users deleted while they write", () => {
  for (const store of storeCases) {
    it.live(
      `${store.name}: ${USERS} users × ${REPEATS * 8} writes sent to both servers while the admin deletes them (${ROUNDS} rounds): no 5xx, nothing left referring to them`,
      () =>
        Effect.scoped(Effect.gen(function*() {
          const { client, env } = yield* store.open
          const adminKey = formatToken("tsk", randomBytes(32))
          const ports = yield* freePorts(2)
          // Both start at once on the empty store: one migrates and bootstraps, the other finds it done.
          const servers = yield* Effect.all(ports.map((port) => serverProcess(port, { ...env, TESSERA_BOOTSTRAP_TOKEN: adminKey })), {
            concurrency: "unbounded"
          })
          const sql = Context.get(yield* Layer.build(client), SqlClient.SqlClient)
          const [a, b] = servers.map((s) => s.baseUrl) as [string, string]
          const adminId = (yield* Effect.promise(() => unwrap(createClient({ baseUrl: a, apiKey: adminKey }).GET("/v1/me")))).user.id

          const replies: Array<Reply> = []
          const problems: Array<unknown> = []
          for (let round = 0; round < ROUNDS; round++) {
            const users = yield* Effect.promise(async () => {
              const made: Array<Doomed> = []
              for (let i = 0; i < USERS; i++) made.push(await setUpUser(i % 2 === 0 ? a : b, adminKey, `${round}-${i}`))
              await connect(a, made)
              return made
            })

            const writes = users.flatMap((u, i) =>
              Array.from({ length: REPEATS }, (_, repeat) =>
                writesOf(u, i, users, repeat).map(([method, path, json]) => async () => {
                  await pause(300)
                  return request((i + repeat) % 2 === 0 ? a : b, method, path, { key: u.key, ...(json !== undefined ? { json } : {}) })
                })
              ).flat()
            )
            // Writes and deletions leave at random moments in one short window, so that deletions land among the writes.
            const deletions = users.map((u, i) => async () => {
              await pause(300)
              return request(i % 2 === 0 ? b : a, "DELETE", `/v1/users/${u.id}?transfer_to=${adminId}`, { key: adminKey })
            })
            const [written, deleted] = yield* Effect.promise(() =>
              Promise.all([Promise.all(writes.map((w) => w())), Promise.all(deletions.map((d) => d()))])
            )
            replies.push(...written, ...deleted)

            for (const reply of deleted) {
              if (reply.status !== 200) problems.push({ round, deletion: reply })
            }
            for (const u of users) {
              const after = yield* Effect.promise(() => request(b, "GET", `/v1/users/${u.id}`, { key: adminKey }))
              if (after.status !== 404) problems.push({ round, stillThere: u.id, status: after.status })
            }
            const found = yield* Effect.provideService(violations, SqlClient.SqlClient, sql)
            if (found.length > 0) problems.push({ round, violations: found })
          }

          const failed = replies.filter((r) => r.status >= 500 || r.status === 0)
          expect({ failed, errors: errorLogs(servers), problems }).toEqual({ failed: [], errors: [], problems: [] })
          // The writes raced the deletions: some were answered before their user was deleted, some after (401).
          const statuses = new Set(replies.filter((r) => r.method !== "DELETE").map((r) => r.status))
          expect([statuses.has(401), [...statuses].some((s) => s >= 200 && s < 300)]).toEqual([true, true])
        })),
      300_000
    )
  }
})
