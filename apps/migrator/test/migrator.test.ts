/**
 * `pnpm migrate` as a process on both stores: `up` applies once, `status`
 * lists, `verify` passes on an untouched store and fails, naming the step,
 * once an applied migration no longer matches what was recorded.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqlClient } from "@effect/sql"
import { Effect, Redacted } from "effect"
import { runEntryPoint } from "@tessera/config/testing"
import * as Pg from "@tessera/store-pg"
import { freshDatabase } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

interface Store {
  readonly env: Record<string, string>
  readonly sql: <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) => Promise<A>
  readonly close: () => Promise<void>
}

const sqliteStore = async (): Promise<Store> => {
  const file = join(mkdtempSync(join(tmpdir(), "tessera-migrator-")), "t.db")
  return {
    env: { TESSERA_STORE: "sqlite", TESSERA_SQLITE_PATH: file },
    sql: (f) => Effect.runPromise(Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.orDie, Effect.provide(Sqlite.clientLayer(file)))),
    close: async () => {}
  }
}

const pgStore = async (): Promise<Store> => {
  let release: () => void = () => {}
  const url = await new Promise<Redacted.Redacted<string>>((resolveUrl, reject) => {
    Effect.runPromise(Effect.scoped(Effect.flatMap(freshDatabase, (u) =>
      Effect.async<void>((resume) => {
        resolveUrl(u)
        release = () => resume(Effect.void)
      })))).catch(reject)
  })
  return {
    env: { TESSERA_STORE: "pg", DATABASE_URL: Redacted.value(url) },
    sql: (f) => Effect.runPromise(Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.orDie, Effect.provide(Pg.clientLayer({ url, maxConnections: 1 })))),
    close: async () => release()
  }
}

/** Runs the migrator to its end as its own process (never blocking this worker). */
const migrate = (env: Record<string, string>, ...args: Array<string>) =>
  runEntryPoint("apps/migrator/src/bin.ts", { env, args, timeoutMs: 90_000 }).then((run) => ({ ...run, status: run.code }))

describe.each([["SQLite", sqliteStore], ["PostgreSQL", pgStore]] as const)("pnpm migrate on %s", (_, make) => {
  let store: Store
  beforeAll(async () => {
    store = await make()
  })
  afterAll(() => store?.close())

  it("up applies every step once, status lists them, verify passes, and fails after an applied step changed", () =>
    (async () => {
      const first = await migrate(store.env, "up", "--json")
      expect(first.status).toBe(0)
      const applied = JSON.parse(first.stdout).applied as Array<number>
      expect(applied.length).toBeGreaterThan(0)
      // once applied, a second up, status and verify only read: they run side by side
      const [again, statusRun, verified] = await Promise.all([
        migrate(store.env, "up", "--json"),
        migrate(store.env, "status", "--json"),
        migrate(store.env, "verify")
      ])
      expect(JSON.parse(again.stdout)).toEqual({ applied: [] })
      const status = JSON.parse(statusRun.stdout).migrations as Array<{ version: number; state: string }>
      expect(status.map((s) => s.version)).toEqual(applied)
      expect(status.every((s) => s.state === "applied")).toBe(true)
      expect(verified.status).toBe(0)
      // What was recorded no longer matches the file: the same as editing an applied file.
      await store.sql((sql) => sql`UPDATE tessera_migrations SET checksum = 'edited' WHERE version = 1`)
      const [verify, up, changed] = await Promise.all([
        migrate(store.env, "verify"),
        migrate(store.env, "up"),
        migrate(store.env, "status", "--json")
      ])
      expect(verify.status).not.toBe(0)
      expect(verify.stderr).toMatch(/^tessera: 0001_identity: applied file was changed/)
      expect(up.status).not.toBe(0)
      expect(JSON.parse(changed.stdout).migrations[0].state).toBe("changed")
    })(), 300_000)
})
