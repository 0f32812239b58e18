// Graceful shutdown of the server process (docs/operations.md, "Shutdown"), on both stores: SIGTERM sent while 50
// permission-check batches are in flight (each 1,000 checks over a deep tree, so they queue on the store); every one
// of them completes with 200, the listener accepts no new connection, `/readyz` on a connection already open answers
// 503, and the process exits 0 after saying it drained.
import { describe, expect, it } from "@effect/vitest"
import { entryPointArgs, repoRoot, withoutConfiguration } from "@tessera/config/testing"
import { formatToken } from "@tessera/domain"
import { publicKeys } from "@tessera/store-contract/fixtures"
import { freshDatabase } from "@tessera/store-pg/testing"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { Agent, request as httpRequest } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import { freePorts, request } from "./fixtures/servers.js"

const IN_FLIGHT = 50
const DEPTH = 25

const storeCases = [
  {
    name: "SQLite",
    open: Effect.sync(() => ({ TESSERA_STORE: "sqlite", TESSERA_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), "tessera-stop-")), "t.db") }))
  },
  {
    name: "PostgreSQL",
    open: Effect.map(freshDatabase, (url) => ({ TESSERA_STORE: "pg", DATABASE_URL: Redacted.value(url) }))
  }
] as const

interface Answer {
  readonly status: number
  /** `performance.now()` when the whole response had arrived. */
  readonly at: number
  readonly error?: string
}

/** One request on `agent`; resolves when it has been written out (`sent`) and when it is answered (`answered`). */
const send = (agent: Agent, port: number, method: string, path: string, key?: string, json?: unknown) => {
  let sent!: () => void
  const written = new Promise<void>((resolve) => (sent = resolve))
  const answered = new Promise<Answer>((resolve) => {
    const body = json === undefined ? undefined : JSON.stringify(json)
    const req = httpRequest({
      agent,
      host: "127.0.0.1",
      port,
      method,
      path,
      headers: {
        ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {})
      }
    }, (res) => {
      res.resume()
      res.on("end", () => resolve({ status: res.statusCode ?? 0, at: performance.now() }))
    })
    req.on("error", (error) => {
      sent()
      resolve({ status: 0, at: performance.now(), error: String(error) })
    })
    req.on("finish", () => sent())
    req.end(body)
  })
  return { written, answered }
}

describe("SIGTERM", () => {
  for (const store of storeCases) {
    it.live(`${store.name}: ${IN_FLIGHT} check batches in flight all complete with 200, /readyz says 503, the process exits 0`, () =>
      Effect.scoped(Effect.gen(function*() {
        const env = yield* store.open
        const adminKey = formatToken("tsk", randomBytes(32))
        const [port] = yield* freePorts(1)
        const base = `http://127.0.0.1:${port}`
        let output = ""
        const child = yield* Effect.acquireRelease(
          Effect.sync(() => {
            const child = spawn(process.execPath, entryPointArgs("apps/http/src/main.ts"), {
              cwd: repoRoot,
              env: {
                ...withoutConfiguration(),
                ...env,
                HOST: "127.0.0.1",
                PORT: String(port),
                TESSERA_BOOTSTRAP_TOKEN: adminKey,
                TESSERA_LOG_FORMAT: "json",
                TESSERA_SHUTDOWN_TIMEOUT: "120s"
              },
              stdio: ["ignore", "pipe", "pipe"]
            })
            child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
            child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
            return child
          }),
          (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
        )
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
        const result = yield* Effect.promise(async () => {
          const deadline = Date.now() + 90_000
          for (;;) {
            const ready = await fetch(`${base}/readyz`).then((r) => r.status, () => 0)
            if (ready === 200) break
            if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the server did not start:\n${output}`)
            await new Promise((r) => setTimeout(r, 250))
          }
          // a user with a grant at the top of a deep tree: every check walks up to it
          const minted = await request(base, "POST", "/v1/invites", { key: adminKey, json: { kind: "registration", handle: `stop${Date.now().toString(36)}` } })
          const keys = publicKeys()
          const alice = (await request(base, "POST", "/v1/register", {
            json: { token: minted.body.token, sign_pub: keys.signPub, kex_pub: keys.kexPub }
          })).body
          const team = (await request(base, "POST", "/v1/workspaces", { key: alice.api_key, json: { name: "deep" } })).body.id as string
          const chain: Array<string> = []
          for (let i = 0; i < DEPTH; i++) {
            const made = await request(base, "POST", `/v1/workspaces/${team}/resources`, {
              key: alice.api_key,
              json: { title: `level ${i}`, ...(i > 0 ? { parent_id: chain[i - 1] } : {}) }
            })
            if (made.status !== 201) throw new Error(`resource: ${made.status} ${JSON.stringify(made.body)}`)
            chain.push(made.body.id)
          }
          const actions = ["read", "comment", "edit", "administer", "own"]
          const checks = Array.from({ length: 1000 }, (_, i) => ({
            user_id: alice.user.id,
            resource_id: chain[DEPTH - 1 - (i % 5)],
            action: actions[i % actions.length]
          }))
          const tried = await request(base, "POST", "/v1/check", { key: adminKey, json: { checks } })
          if (tried.status !== 200) throw new Error(`check: ${tried.status} ${JSON.stringify(tried.body)}`)

          // connections opened before the signal: 50 for the batches, one for the readiness probe
          const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT })
          const warm = await Promise.all(Array.from({ length: IN_FLIGHT }, () => send(agent, port!, "GET", "/healthz").answered))
          if (warm.some((a) => a.status !== 200)) throw new Error("warm-up failed")
          // the readiness probe's connections: each answer given while draining closes its connection
          const prober = new Agent({ keepAlive: true, maxSockets: 20 })
          await Promise.all(Array.from({ length: 20 }, () => send(prober, port!, "GET", "/healthz").answered))

          const batches = Array.from({ length: IN_FLIGHT }, () => send(agent, port!, "POST", "/v1/check", adminKey, { checks }))
          await Promise.all(batches.map((b) => b.written))
          const signalled = performance.now()
          child.kill("SIGTERM")
          // on connections opened before the signal, readiness turns to 503 once the signal is taken
          let readiness = await send(prober, port!, "GET", "/readyz").answered
          for (let tries = 0; readiness.status === 200 && tries < 19; tries++) {
            await new Promise((r) => setTimeout(r, 20))
            readiness = await send(prober, port!, "GET", "/readyz").answered
          }
          // a new connection is refused
          const fresh = (await send(new Agent({ keepAlive: false }), port!, "GET", "/healthz").answered).status
          const answers = await Promise.all(batches.map((b) => b.answered))
          const code = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 150_000))])
          agent.destroy()
          prober.destroy()
          return { answers, signalled, readiness, fresh, code }
        })
        expect(result.answers.filter((a) => a.at < result.signalled), "answered before SIGTERM").toEqual([])
        expect(result.answers.map((a) => a.status)).toEqual(Array.from({ length: IN_FLIGHT }, () => 200))
        expect(result.readiness, JSON.stringify(result.readiness)).toMatchObject({ status: 503 })
        expect(result.fresh).toBe(0)
        expect(result.code, output).toBe(0)
        // the drain began with batches still in flight
        expect(Number(/"drained: (\d+) requests? finished"/.exec(output)?.[1])).toBeGreaterThan(0)
        void child
      })), { timeout: 400_000 })
  }
})
