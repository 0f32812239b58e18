/**
 * Test support for the entry points as processes (`pnpm start`,
 * `pnpm tessera`, `pnpm migrate`): runs one's compiled output with plain
 * `node`, as those scripts do, with only the
 * configuration a test gives it, lists the misconfigurations every entry
 * point must refuse alike, before any side effect, and checks the refusal.
 * Tests only; no entry point imports it.
 */
import { spawn } from "node:child_process"
import { mkdtemp, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { expect } from "vitest"

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))

/**
 * The `node` arguments that run an entry point, given by its source path
 * from the repository root, the way `pnpm start|tessera|migrate` do: its
 * compiled output (`apps/x/src/bin.ts` → `apps/x/dist/src/bin.js`, built by
 * `pnpm build`, which `pnpm test` runs first), with the workspace packages
 * resolved to their compiled output too (the `tessera-dist` condition).
 */
export const entryPointArgs = (file: string): Array<string> => [
  "--conditions=tessera-dist",
  join(repoRoot, file.replace(/(^|\/)src\/(.*)\.ts$/, "$1dist/src/$2.js"))
]

export interface Run {
  /** `null` when the process was killed for overrunning its time. */
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The environment of this process without any of Tessera's variables: a child sees only those a test gives it. */
export const withoutConfiguration = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] =>
      entry[1] !== undefined && !entry[0].startsWith("TESSERA_") && !entry[0].startsWith("OTEL_") &&
        !["DATABASE_URL", "PORT", "HOST"].includes(entry[0])
    )
  )

/**
 * Runs the entry point at `file` (a path from the repository root) to its
 * end, in `cwd`, with `env` as its whole configuration. A process still
 * running after `timeoutMs` is killed and reported with a `null` code.
 */
export const runEntryPoint = (
  file: string,
  options: {
    readonly env: Readonly<Record<string, string>>
    readonly args?: ReadonlyArray<string>
    readonly cwd?: string
    readonly timeoutMs?: number
  }
): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entryPointArgs(file), ...(options.args ?? [])], {
      cwd: options.cwd ?? repoRoot,
      env: { ...withoutConfiguration(), ...options.env }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000)
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

export interface Misconfiguration {
  readonly name: string
  /** Added to a configuration whose `TESSERA_SQLITE_PATH` is a file that does not exist yet. */
  readonly env: Readonly<Record<string, string>>
  /** The one line on stderr. */
  readonly line: RegExp
  /** What must appear nowhere in the output. */
  readonly secrets: ReadonlyArray<string>
}

const deadPg = "postgres://postgres:secretpw@127.0.0.1:1/test"

/** What every entry point refuses with one line naming the variable, exit status 1, no store opened and no key printed. */
export const misconfigurations: ReadonlyArray<Misconfiguration> = [
  {
    name: "PORT=abc",
    env: { PORT: "abc" },
    line: /^tessera: invalid configuration: PORT must be a port number \(got "abc"\)$/,
    secrets: []
  },
  {
    name: "an empty HOST",
    env: { HOST: "" },
    line: /^tessera: invalid configuration: HOST must be a host name or address, not empty$/,
    secrets: []
  },
  {
    name: "an unknown TESSERA_STORE",
    env: { TESSERA_STORE: "mysql" },
    line: /^tessera: invalid configuration: TESSERA_STORE must be one of sqlite, pg \(got "mysql"\)$/,
    secrets: []
  },
  {
    name: "TESSERA_STORE=pg without DATABASE_URL",
    env: { TESSERA_STORE: "pg" },
    line: /^tessera: invalid configuration: DATABASE_URL is required when TESSERA_STORE=pg$/,
    secrets: []
  },
  {
    name: "a malformed DATABASE_URL",
    env: { TESSERA_STORE: "pg", DATABASE_URL: "postgres://postgres:secretpw@127.0.0.1:port/test" },
    line: /^tessera: invalid configuration: DATABASE_URL must be a postgres:\/\/user@host:port\/database URL$/,
    secrets: ["secretpw", "127.0.0.1:port"]
  },
  {
    name: "a non-PostgreSQL DATABASE_URL",
    env: { TESSERA_STORE: "pg", DATABASE_URL: "mysql://root:secretpw@127.0.0.1:3306/test" },
    line: /^tessera: invalid configuration: DATABASE_URL must be a postgres:\/\/user@host:port\/database URL$/,
    secrets: ["secretpw", "mysql://"]
  },
  {
    name: "a malformed TESSERA_BOOTSTRAP_TOKEN",
    env: { TESSERA_BOOTSTRAP_TOKEN: "tsk_not-a-real-key" },
    line: /^tessera: invalid configuration: TESSERA_BOOTSTRAP_TOKEN must be a well-formed tsk_ API key$/,
    secrets: ["tsk_not-a-real-key"]
  },
  {
    name: "TESSERA_MAX_BODY_BYTES=0",
    env: { TESSERA_MAX_BODY_BYTES: "0" },
    line: /^tessera: invalid configuration: TESSERA_MAX_BODY_BYTES must be a positive whole number of bytes \(got "0"\)$/,
    secrets: []
  },
  {
    name: "TESSERA_EVENTS_HEARTBEAT_MS=5",
    env: { TESSERA_EVENTS_HEARTBEAT_MS: "5" },
    line: /^tessera: invalid configuration: TESSERA_EVENTS_HEARTBEAT_MS must be a whole number of milliseconds from 10 to 3600000 \(got "5"\)$/,
    secrets: []
  },
  {
    name: "an unknown TESSERA_LOG_FORMAT",
    env: { TESSERA_LOG_FORMAT: "xml" },
    line: /^tessera: invalid configuration: TESSERA_LOG_FORMAT must be one of json, pretty \(got "xml"\)$/,
    secrets: []
  },
  {
    name: "TESSERA_SHUTDOWN_TIMEOUT=soon",
    env: { TESSERA_SHUTDOWN_TIMEOUT: "soon" },
    line: /^tessera: invalid configuration: TESSERA_SHUTDOWN_TIMEOUT must be a duration in seconds or milliseconds/,
    secrets: []
  },
  {
    name: "a non-HTTP OTEL_EXPORTER_OTLP_ENDPOINT",
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://collector:4317" },
    line: /^tessera: invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL$/,
    secrets: []
  },
  {
    name: "an empty OTEL_SERVICE_NAME",
    env: { OTEL_SERVICE_NAME: " " },
    line: /^tessera: invalid configuration: OTEL_SERVICE_NAME must be a name, not empty$/,
    secrets: []
  },
  {
    name: "several bad variables at once",
    env: { PORT: "abc", TESSERA_STORE: "mysql", TESSERA_BOOTSTRAP_TOKEN: "tsk_not-a-real-key" },
    line:
      /^tessera: invalid configuration: (?=.*TESSERA_STORE must be one of)(?=.*PORT must be a port number)(?=.*TESSERA_BOOTSTRAP_TOKEN must be a well-formed).*$/,
    secrets: ["tsk_not-a-real-key"]
  },
  {
    name: "an unreachable PostgreSQL",
    env: { TESSERA_STORE: "pg", DATABASE_URL: deadPg },
    line: /^tessera: cannot connect to PostgreSQL at 127\.0\.0\.1:1 \(DATABASE_URL\): .*ECONNREFUSED/,
    secrets: ["secretpw", "postgres://"]
  },
  {
    name: "an uncreatable TESSERA_SQLITE_PATH",
    env: { TESSERA_SQLITE_PATH: "/dev/null/tessera.db" },
    line: /^tessera: cannot open SQLite database "\/dev\/null\/tessera\.db" \(TESSERA_SQLITE_PATH\): /,
    secrets: []
  }
]

/**
 * Runs `file` with `misconfiguration`, in a fresh directory that also holds
 * its SQLite file's place, and reports what the run left in that directory.
 */
export const runMisconfigured = async (
  file: string,
  args: ReadonlyArray<string>,
  misconfiguration: Misconfiguration
): Promise<Run & { readonly created: ReadonlyArray<string> }> => {
  const dir = await mkdtemp(join(tmpdir(), "tessera-config-"))
  try {
    const run = await runEntryPoint(file, {
      env: { TESSERA_SQLITE_PATH: join(dir, "tessera.db"), ...misconfiguration.env },
      args,
      cwd: dir
    })
    return { ...run, created: await readdir(dir) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Asserts how a command refused `misconfiguration`: one line on stderr naming
 * the variable, exit status 1, nothing on stdout, nothing created, and no
 * secret of it echoed.
 */
export const expectRefused = (run: Run & { readonly created: ReadonlyArray<string> }, misconfiguration: Misconfiguration) => {
  expect(run.stderr.split("\n").filter((line) => line.length > 0)).toEqual([expect.stringMatching(misconfiguration.line)])
  expect(run.code).toBe(1)
  expect(run.stdout).toBe("")
  expect(run.created).toEqual([])
  for (const secret of misconfiguration.secrets) expect(run.stderr).not.toContain(secret)
}
