/**
 * The HTTP workloads (run by `run.ts`): Tessera's server (`apps/http/dist/src/main.js`, compiled, as `pnpm start` runs it)
 * beside a bare `node:http` server (`http-bare.ts`) answering the same three requests through the same driver on
 * the same data (`check-data.ts`, plus an admin whose API key both servers are asked with): `GET /healthz`,
 * `GET /v1/me` and `POST /v1/check` with one check (a member's `read` at depth 8). Both run as child processes
 * so that the server's CPU is its own and autocannon's (32 connections) stays in this process: on a 2-core
 * machine an in-process server would share its core with the load generator. Each endpoint is loaded on the two
 * servers alternately, `reps` times, after a warm-up; the median throughput is kept. Before anything is timed
 * both servers must give the same answers. Asserts nothing about speed.
 */
import { bootstrapAdmin, formatToken, type Handle } from "@tessera/domain"
import { migrateUp } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import { freshDatabase } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import autocannon from "autocannon"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Effect, Layer, Option, Redacted } from "effect"
import { fillCheckData, REVOKED_EVERY, TEAM_SIZE, teamOf, teamResource, userId } from "./check-data.js"

export interface HttpMeasured {
  readonly rps: number
  /**
   * The server process's CPU time (user + system) per request, in µs: unlike req/s, barely moved by other work on
   * the machine, so its ratio is the steadier estimate of what the server costs per request. The database's own
   * CPU (PostgreSQL's backends) is not in it.
   */
  readonly cpuUs: number
  /** Latency percentiles in milliseconds, over every repetition's histogram (their medians). */
  readonly p50: number
  readonly p99: number
}

export interface HttpRow {
  readonly store: string
  readonly endpoint: string
  readonly tessera: HttpMeasured
  readonly bare: HttpMeasured
  /** Tessera's throughput over the bare server's (< 1: Tessera is slower). */
  readonly ratio: number
  /** The bare server's CPU per request over Tessera's: the throughput ratio a CPU-bound server would show. */
  readonly cpuRatio: number
  /** The least `ratio` the target asks for; `null`: shown for reference, no target. */
  readonly target: number | null
}

export interface HttpOptions {
  /** Seconds each measurement loads a server. */
  readonly seconds: number
  readonly reps: number
  /** Seconds of load before the first measurement of each endpoint on each server, not counted. */
  readonly warmup: number
  readonly connections: number
}

export const fullHttp: HttpOptions = { seconds: 2, reps: 3, warmup: 0.5, connections: 32 }
export const smokeHttp: HttpOptions = { seconds: 1, reps: 1, warmup: 0.5, connections: 32 }

const root = fileURLToPath(new URL("../../", import.meta.url))
/** The server as `pnpm start` runs it: the compiled entry point, resolving the packages to their builds. */
export const tesseraMain = join(root, "apps/http/dist/src/main.js")
const tesseraFlags = ["--conditions=tessera-dist"]
const bareMain = fileURLToPath(new URL("./http-bare.ts", import.meta.url))
/** tsx as a loader of the node process itself, so that the child is the server (no relay process in between). */
const tsxLoader = pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx")).href

export type StoreTarget = { readonly dialect: "sqlite"; readonly file: string } | { readonly dialect: "pg"; readonly url: string }

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))))
    })
  })

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux). */
const CLK_TCK = 100

const cpuMsOf = (pid: number | undefined) => {
  try {
    // the fields after the command name, which may hold spaces, start after its closing parenthesis
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK
  } catch {
    return Number.NaN
  }
}

export interface Running {
  readonly name: string
  readonly url: string
  readonly child: ChildProcess
  /** Bytes the server wrote to stdout (its request log), drained as a log collector would. */
  readonly logged: () => number
  /** CPU time the process has used so far, in ms (Linux: from `/proc`; NaN elsewhere). */
  readonly cpuMs: () => number
  /** The last few thousand characters the server wrote (stdout and stderr). */
  readonly tail: () => string
  readonly stop: () => Promise<void>
}

const waitFor = async (url: string, child: ChildProcess, output: () => string, deadline: number) => {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited (${child.exitCode}): ${output().slice(-2000)}`)
    try {
      if ((await fetch(url)).status === 200) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer: ${output().slice(-2000)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Starts `entry` under node (plus `nodeFlags`, e.g. `--cpu-prof`; with tsx as its loader when it is TypeScript)
 * and waits until `/healthz` answers.
 */
export const startServer = async (
  name: string,
  entry: string,
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  port: number,
  nodeFlags: ReadonlyArray<string> = []
): Promise<Running> => {
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run pnpm build first`)
  const base: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("TESSERA_") && k !== "DATABASE_URL" && k !== "PORT" && k !== "HOST") base[k] = v
  }
  const child = spawn(process.execPath, [...nodeFlags, ...(entry.endsWith(".ts") ? ["--import", tsxLoader] : []), entry, ...args], {
    cwd: mkdtempSync(join(tmpdir(), "tessera-http-bench-")),
    env: { ...base, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let logged = 0
  let errors = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    logged += chunk.length
    errors = (errors + String(chunk.subarray(-4000))).slice(-4000)
  })
  child.stderr!.on("data", (chunk: Buffer) => (errors = (errors + String(chunk)).slice(-4000)))
  const url = `http://127.0.0.1:${port}`
  await waitFor(`${url}/healthz`, child, () => errors, Date.now() + 120_000)
  return {
    name,
    url,
    child,
    logged: () => logged,
    tail: () => errors,
    cpuMs: () => cpuMsOf(child.pid),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
        child.once("exit", () => {
          clearTimeout(timer)
          resolve()
        })
        child.kill("SIGINT")
      })
  }
}

const storeEnv = (store: StoreTarget): Record<string, string> =>
  store.dialect === "sqlite" ? { TESSERA_STORE: "sqlite", TESSERA_SQLITE_PATH: store.file } : { TESSERA_STORE: "pg", DATABASE_URL: store.url }

export const startTessera = async (store: StoreTarget, nodeFlags: ReadonlyArray<string> = []) =>
  startServer("tessera", tesseraMain, [], storeEnv(store), await freePort(), [...tesseraFlags, ...nodeFlags])

export const startBare = async (store: StoreTarget, nodeFlags: ReadonlyArray<string> = []) =>
  startServer("bare", bareMain, store.dialect === "sqlite" ? ["sqlite", store.file] : ["pg", store.url], {}, await freePort(), nodeFlags)

/** The requests of the workloads: what is asked, with whose key. */
export interface Endpoint {
  readonly name: string
  readonly method: "GET" | "POST"
  readonly path: string
  readonly body?: string
  readonly target: number | null
}

export const endpointsFor = (users: number): ReadonlyArray<Endpoint> => {
  const teams = users / TEAM_SIZE
  // a member of a team whose chain has no revoked node, reading its node at depth 8 (a direct `reader` on the root)
  let i = teams + 1
  while (teamOf(i, teams) % REVOKED_EVERY === 0) i++
  const check = { user_id: userId(i), resource_id: teamResource(teamOf(i, teams), 8), action: "read" }
  return [
    { name: "GET /healthz", method: "GET", path: "/healthz", target: 0.5 },
    { name: "GET /v1/me", method: "GET", path: "/v1/me", target: 0.6 },
    { name: "POST /v1/check (1 check)", method: "POST", path: "/v1/check", body: JSON.stringify({ checks: [check] }), target: 0.6 }
  ]
}

const requestOf = (endpoint: Endpoint, key: string) => ({
  method: endpoint.method,
  headers: { authorization: `Bearer ${key}`, ...(endpoint.body === undefined ? {} : { "content-type": "application/json" }) },
  ...(endpoint.body === undefined ? {} : { body: endpoint.body })
})

/** Loads `server` with `endpoint` for `seconds`; fails on any error, timeout or non-2xx answer. */
export const load = async (server: Running, endpoint: Endpoint, key: string, seconds: number, connections: number) => {
  const cpuBefore = server.cpuMs()
  const result = await autocannon({
    url: server.url + endpoint.path,
    connections,
    duration: seconds,
    ...requestOf(endpoint, key)
  })
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    const lines = server.tail().split("\n").filter((line) => !line.includes('"status":200')).slice(-10).join("\n")
    throw new Error(`${server.name} ${endpoint.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx\n${lines}`)
  }
  const cpuUs = result.requests.total > 0 ? ((server.cpuMs() - cpuBefore) * 1000) / result.requests.total : Number.NaN
  return { ...result, cpuUs }
}

/** Both servers must answer the same (ids and results; Tessera's user has more fields than the bare one prints). */
const sameAnswers = async (tessera: Running, bare: Running, endpoint: Endpoint, key: string) => {
  const ask = async (server: Running) => {
    const response = await fetch(server.url + endpoint.path, requestOf(endpoint, key))
    if (response.status !== 200) throw new Error(`${server.name} ${endpoint.name}: ${response.status} ${await response.text()}`)
    return response.json() as Promise<Record<string, unknown>>
  }
  const [a, b] = [await ask(tessera), await ask(bare)]
  const shown = (body: Record<string, unknown>) =>
    JSON.stringify("user" in body ? { id: (body["user"] as { id: unknown }).id, role: (body["user"] as { role: unknown }).role } : body)
  if (shown(a) !== shown(b)) throw new Error(`${endpoint.name}: Tessera answers ${shown(a)}, the bare server ${shown(b)}`)
}

type Loaded = Awaited<ReturnType<typeof load>>

const median = (values: ReadonlyArray<number>) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!

/** Every endpoint on both servers over `store`, alternated, `options.reps` times each. */
export const httpBench = async (label: string, store: StoreTarget, key: string, users: number, options: HttpOptions) => {
  const tessera = await startTessera(store)
  try {
    const bare = await startBare(store)
    try {
      const rows: Array<HttpRow> = []
      for (const endpoint of endpointsFor(users)) {
        await sameAnswers(tessera, bare, endpoint, key)
        const runs = { tessera: [] as Array<Loaded>, bare: [] as Array<Loaded> }
        for (const server of [tessera, bare]) await load(server, endpoint, key, options.warmup, options.connections)
        for (let rep = 0; rep < options.reps; rep++) {
          for (const server of rep % 2 === 0 ? [tessera, bare] : [bare, tessera]) {
            runs[server.name as "tessera" | "bare"].push(await load(server, endpoint, key, options.seconds, options.connections))
          }
        }
        const measured = (results: ReadonlyArray<Loaded>): HttpMeasured => ({
          rps: median(results.map((r) => r.requests.average)),
          cpuUs: median(results.map((r) => r.cpuUs)),
          p50: median(results.map((r) => r.latency.p50)),
          p99: median(results.map((r) => r.latency.p99))
        })
        const [t, b] = [measured(runs.tessera), measured(runs.bare)]
        rows.push({ store: label, endpoint: endpoint.name, tessera: t, bare: b, ratio: t.rps / b.rps, cpuRatio: b.cpuUs / t.cpuUs, target: endpoint.target })
      }
      return rows
    } finally {
      await bare.stop()
    }
  } finally {
    await tessera.stop()
  }
}

/** A fresh admin key, then the check data: the admin is bootstrapped first, on the empty store, as `pnpm start` would. */
const seed = (users: number, key: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    yield* bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.some(key) })
    yield* fillCheckData(users)
  }).pipe(Effect.orDie)

export const adminKey = () => formatToken("tsk", randomBytes(32))

/** A SQLite file in a temporary directory, migrated and seeded; removed when the scope closes. */
export const sqliteStore = (users: number, key: string) =>
  Effect.gen(function*() {
    const dir = mkdtempSync(join(tmpdir(), "tessera-http-bench-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    const file = join(dir, "http.db")
    yield* Effect.provide(Effect.zipRight(migrateUp(Sqlite.migrations(), Sqlite.dialect), seed(users, Redacted.make(key))), Layer.fresh(Sqlite.layer(file)))
    return { dialect: "sqlite", file } as StoreTarget
  })

/** A fresh PostgreSQL database, migrated and seeded; dropped when the scope closes. */
export const pgStore = (users: number, key: string) =>
  Effect.gen(function*() {
    const url = yield* freshDatabase
    yield* Effect.provide(Effect.zipRight(migrateUp(Pg.migrations(), Pg.dialect), seed(users, Redacted.make(key))), Layer.fresh(Pg.layer({ url })))
    return { dialect: "pg", url: Redacted.value(url) } as StoreTarget
  })

/** The HTTP workloads on both stores, each seeded with `users` users. */
export const httpWorkloads = (users: number, options: HttpOptions) =>
  Effect.gen(function*() {
    const key = adminKey()
    const rows: Array<HttpRow> = []
    for (const [label, store] of [["sqlite", sqliteStore], ["pg", pgStore]] as const) {
      const target = yield* store(users, key)
      rows.push(...(yield* Effect.promise(() => httpBench(label, target, key, users, options))))
    }
    return rows as ReadonlyArray<HttpRow>
  }).pipe(Effect.scoped, Effect.orDie)
