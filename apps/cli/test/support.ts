/**
 * Test support for the CLI: runs the real `tessera` binary as a child
 * process against a fresh store (a temporary SQLite file or a new PostgreSQL
 * database), reads or adjusts that store directly through the same
 * configured-store layer the binary uses, and gives a `describe` its own
 * store with users registered the way an operator would.
 */
import { SqlClient } from "@effect/sql"
import { type ConfiguredStore, StoreLive } from "@tessera/config"
import { authenticate, type Principal, register } from "@tessera/domain"
import { publicKeys } from "@tessera/store-contract/fixtures"
import { ConfigProvider, Effect, Redacted } from "effect"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, expect } from "vitest"

export type Env = Readonly<Record<string, string>>

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))
/** `tessera` as `pnpm tessera` runs it: the bundled compiled CLI (`pnpm build`; docs/cli.md, "Start-up"). */
const bin = [join(repoRoot, "apps/cli/dist/tessera.mjs")]

// The child sees only the store configuration a test gives it.
const inherited = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith("TESSERA_") && name !== "DATABASE_URL")
)

/** A child's whole output and its exit code, once it has closed. */
const completion = (child: ChildProcessWithoutNullStreams): Promise<Run> =>
  new Promise((resolve, reject) => {
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/** Runs `tessera <args>` from the repository root with `env` as its configuration. */
export const tessera = (env: Env, ...args: ReadonlyArray<string>): Promise<Run> =>
  completion(spawn(process.execPath, [...bin, ...args], { cwd: repoRoot, env: { ...inherited, ...env } }))

/**
 * Runs `tessera <args>` on a pseudo-terminal (`script` from util-linux), as
 * an operator at a terminal would: stdout and stderr are both the terminal,
 * so the run's `stdout` holds everything it printed, in order.
 */
export const tesseraOnTerminal = (env: Env, ...args: ReadonlyArray<string>): Promise<Run> => {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`
  const command = [process.execPath, ...bin, ...args].map(quote).join(" ")
  return completion(spawn("script", ["-qec", command, "/dev/null"], { cwd: repoRoot, env: { ...inherited, ...env } }))
}

/** Asserts a successful run and returns its stdout parsed as JSON. */
export const jsonOf = (run: Run): any => {
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout)
}

/** Asserts a successful run and returns its stdout. */
export const textOf = (run: Run): string => {
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  return run.stdout
}

/** An internal name in a message: a class or tag such as `UserNotFound:` or `InvalidArguments`. */
const internalName = /\b(?:[A-Z][a-z0-9]+){2,}\b/

/** Asserts a failed run: non-zero status, nothing on stdout, one `tessera: …` line on stderr matching `pattern`, no internal name. */
export const expectFailure = (run: Run, pattern: RegExp) => {
  expect(run.code).not.toBe(0)
  expect(run.stdout).toBe("")
  const lines = run.stderr.split("\n").filter((line) => line.length > 0)
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^tessera: /)
  expect(lines[0]).toMatch(pattern)
  expect(lines[0]).not.toMatch(internalName)
}

/**
 * Asserts a failed `--json` run: non-zero status, nothing on stdout, and one
 * line on stderr that is a JSON object with the HTTP API's `error` code and a
 * `message` matching `pattern`. Returns the object.
 */
export const expectJsonFailure = (run: Run, error: string, pattern: RegExp = /./): Record<string, unknown> => {
  expect(run.code).not.toBe(0)
  expect(run.stdout).toBe("")
  const lines = run.stderr.split("\n").filter((line) => line.length > 0)
  expect(lines).toHaveLength(1)
  const report = JSON.parse(lines[0]!) as Record<string, unknown>
  expect(report).toMatchObject({ error, message: expect.stringMatching(pattern) })
  expect(report["message"]).not.toMatch(internalName)
  return report
}

/** Runs `program` in this process against the store `env` configures. */
export const onStore = <A, E>(env: Env, program: Effect.Effect<A, E, ConfiguredStore>): Promise<A> =>
  Effect.runPromise(
    program.pipe(
      Effect.provide(StoreLive),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    )
  )

const sql = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.orDie)

/** Runs one SQL statement with parameters on the store. */
export const execute = (env: Env, statement: (s: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>) =>
  onStore(env, sql(statement))

const TABLES = ["users", "api_keys", "invites", "workspaces", "workspace_members", "events"]

/** Every stored row of the identity tables, as text, to show that a command changed nothing. */
export const snapshot = (env: Env): Promise<string> =>
  onStore(env, sql((s) => Effect.forEach(TABLES, (table) => s.unsafe(`SELECT * FROM ${table} ORDER BY 1, 2`)))).then(
    (rows) => JSON.stringify(rows)
  )

export interface TestStore {
  readonly env: Env
  readonly drop: () => Promise<void>
}

/** A store in a new temporary directory; nothing exists there yet. */
export const sqliteStore = async (): Promise<TestStore> => {
  const dir = await mkdtemp(join(tmpdir(), "tessera-cli-"))
  return {
    env: { TESSERA_STORE: "sqlite", TESSERA_SQLITE_PATH: join(dir, "tessera.db") },
    drop: () => rm(dir, { recursive: true, force: true })
  }
}

const pgServer = process.env["TESSERA_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/test"

/**
 * A new, empty PostgreSQL database on the test server; an unreachable server fails the suite.
 * Like `freshDatabase` of `@tessera/store-pg/testing`, it commits without waiting for the disk
 * when the vitest settings ask for it (docs/testing.md).
 */
export const pgStore = async (): Promise<TestStore> => {
  const name = `tessera_cli_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const server = { TESSERA_STORE: "pg", DATABASE_URL: pgServer }
  const durability = process.env["TESSERA_TEST_PG_SYNCHRONOUS_COMMIT"] === "off"
    ? [`ALTER DATABASE ${name} SET synchronous_commit = off`]
    : []
  await execute(server, (s) => Effect.forEach([`CREATE DATABASE ${name}`, ...durability], (statement) => s.unsafe(statement)))
  const url = new URL(pgServer)
  url.pathname = `/${name}`
  return {
    env: { TESSERA_STORE: "pg", DATABASE_URL: url.toString() },
    drop: () => execute(server, (s) => s.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined)
  }
}

/** A user registered through an invite the binary minted: their id, API key, personal workspace and principal. */
export interface Registered {
  readonly id: string
  readonly apiKey: string
  readonly personal: string
  readonly principal: Principal
}

/**
 * The enclosing `describe`'s own store, made before its tests and dropped
 * after them: the admin bootstrapped by the binary, one user registered per
 * handle through an invite the binary mints (all minted by concurrent runs),
 * then `setUp` run. `env` and `users` are filled in by then.
 */
export const storeWithUsers = (
  makeStore: () => Promise<TestStore>,
  handles: ReadonlyArray<string>,
  setUp: (env: Env, users: Readonly<Record<string, Registered>>) => Promise<unknown> = async () => {},
  timeout?: number
) => {
  const suite = { env: {} as Env, users: {} as Record<string, Registered> }
  let store: TestStore | undefined
  beforeAll(async () => {
    store = await makeStore()
    suite.env = store.env
    jsonOf(await tessera(suite.env, "admin", "bootstrap", "--json"))
    // the binary mints every invite at once; the users then register one after another, in `handles` order
    const minted = await Promise.all(handles.map((handle) =>
      tessera(suite.env, "invites", "mint", "--kind", "registration", "--handle", handle, "--json")
    ))
    for (const [i, handle] of handles.entries()) {
      const { token } = jsonOf(minted[i]!)
      const r = await onStore(suite.env, register({ token: Redacted.make(token), ...publicKeys() }))
      const principal = await onStore(suite.env, authenticate(r.apiKey))
      suite.users[handle] = { id: r.user.id, apiKey: Redacted.value(r.apiKey), personal: r.personalWorkspace.id, principal }
    }
    await setUp(suite.env, suite.users)
  }, timeout)
  afterAll(() => store?.drop())
  return suite
}
