// Graceful shutdown of the server process (docs/operations.md, "Shutdown"), on both stores.
// - SIGTERM sent while 50 permission-check batches are in flight (each 1,000 checks over a deep tree, so they queue on
//   the store): every one of them completes with 200, the listener accepts no new connection, `/readyz` on a
//   connection already open answers 503, and the process exits 0 after saying it drained.
// - SIGTERM sent while event streams are open (docs/events.md) and requests are in flight, with a 60 s shutdown
//   timeout: the streams end cleanly with a `: shutdown` comment, the requests complete 2xx, the process exits 0 having
//   drained (not cut short) before the timeout could expire; each stream's client, resuming with `Last-Event-ID` on a
//   new process on the same store, receives every event of the log once, in `seq` order.
import { describe, expect, it } from "@effect/vitest"
import { entryPointArgs, repoRoot, withoutConfiguration } from "@tessera/config/testing"
import { formatToken } from "@tessera/domain"
import { publicKeys } from "@tessera/store-contract/fixtures"
import { freshDatabase } from "@tessera/store-pg/testing"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { Agent, request as httpRequest } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import { freePorts, request, serverProcess } from "./fixtures/servers.js"

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

/**
 * The server on `port` with `env` as its whole configuration (JSON log), for a test that signals it itself and reads
 * its exit status; killed when the scope closes should it still run.
 */
const serverToStop = (port: number, env: Readonly<Record<string, string>>) =>
  Effect.gen(function*() {
    let output = ""
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = spawn(process.execPath, entryPointArgs("apps/http/src/main.ts"), {
          cwd: repoRoot,
          env: { ...withoutConfiguration(), ...env, HOST: "127.0.0.1", PORT: String(port), TESSERA_LOG_FORMAT: "json" },
          stdio: ["ignore", "pipe", "pipe"]
        })
        child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
        child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
        return child
      }),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    )
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    return { child, exited, output: () => output }
  })

/** Waits until the server answers `/readyz` with 200; throws should it exit first or take 90 s. */
const untilReady = async (base: string, child: ChildProcess, output: () => string) => {
  const deadline = Date.now() + 90_000
  for (;;) {
    const ready = await fetch(`${base}/readyz`).then((r) => r.status, () => 0)
    if (ready === 200) return
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the server did not start:\n${output()}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/**
 * A user with a grant at the top of a tree `DEPTH` deep, and a batch of 1,000 checks on its deepest resources: every
 * check walks up to the grant, so such batches queue on the store and are still in flight when the signal comes.
 */
const deepTree = async (base: string, adminKey: string) => {
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
  return { team, checks }
}

interface Follower {
  /** The `id` of every event frame received, in order. */
  readonly ids: Array<number>
  readonly comments: Array<string>
  /** Settles when the body ends: `"clean"` when it ended as a whole HTTP response, else the error that cut it. */
  readonly ended: Promise<string>
  /** Resolves once an event frame with `id` at least `seq` has arrived; rejects after `ms` or when the stream ends. */
  readonly reach: (seq: number, ms: number) => Promise<void>
  readonly close: () => void
}

/** A client of `GET /v1/events/stream` from `lastEventId` on, as an EventSource resumes: it keeps ids and comments. */
const follow = async (base: string, key: string, lastEventId: number): Promise<Follower> => {
  const abort = new AbortController()
  const response = await fetch(`${base}/v1/events/stream`, {
    headers: { authorization: `Bearer ${key}`, "last-event-id": String(lastEventId) },
    signal: abort.signal
  })
  if (response.status !== 200 || response.body === null) throw new Error(`stream: ${response.status} ${await response.text()}`)
  const ids: Array<number> = []
  const comments: Array<string> = []
  let over = false
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  const ended = (async () => {
    let buffer = ""
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return "clean"
        buffer += value
        let end: number
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          for (const line of buffer.slice(0, end).split("\n")) {
            if (line.startsWith(":")) comments.push(line.slice(1).trim())
            else if (line.startsWith("id: ")) ids.push(Number(line.slice(4)))
          }
          buffer = buffer.slice(end + 2)
        }
      }
    } catch (error) {
      return String(error)
    } finally {
      over = true
    }
  })()
  const reach = async (seq: number, ms: number) => {
    const deadline = Date.now() + ms
    while ((ids.at(-1) ?? lastEventId) < seq) {
      if (over) throw new Error(`the stream ended at ${ids.at(-1) ?? lastEventId} before ${seq}`)
      if (Date.now() > deadline) throw new Error(`the stream did not reach ${seq} within ${ms} ms (at ${ids.at(-1) ?? lastEventId})`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return { ids, comments, ended, reach, close: () => abort.abort() }
}

/** Every event's `seq` after `after`, paged through `GET /v1/events`. */
const seqsAfter = async (base: string, key: string, after: number) => {
  const seqs: Array<number> = []
  for (let cursor = after;;) {
    const page = await request(base, "GET", `/v1/events?after=${cursor}&limit=1000`, { key })
    if (page.status !== 200) throw new Error(`events: ${page.status} ${JSON.stringify(page.body)}`)
    seqs.push(...page.body.events.map((e: { seq: number }) => e.seq))
    if (page.body.events.length < 1000) return seqs
    cursor = page.body.next_after
  }
}

describe("SIGTERM", () => {
  for (const store of storeCases) {
    it.live(`${store.name}: ${IN_FLIGHT} check batches in flight all complete with 200, /readyz says 503, the process exits 0`, () =>
      Effect.scoped(Effect.gen(function*() {
        const env = yield* store.open
        const adminKey = formatToken("tsk", randomBytes(32))
        const [port] = yield* freePorts(1)
        const base = `http://127.0.0.1:${port}`
        const { child, exited, output } = yield* serverToStop(port!, { ...env, TESSERA_BOOTSTRAP_TOKEN: adminKey, TESSERA_SHUTDOWN_TIMEOUT: "120s" })
        const result = yield* Effect.promise(async () => {
          await untilReady(base, child, output)
          const { checks } = await deepTree(base, adminKey)

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
        // on failure, the server's log says why (a 500's cause is logged, never sent)
        expect(result.answers.map((a) => a.status), output().slice(-6000)).toEqual(Array.from({ length: IN_FLIGHT }, () => 200))
        expect(result.readiness, JSON.stringify(result.readiness)).toMatchObject({ status: 503 })
        expect(result.fresh).toBe(0)
        expect(result.code, output()).toBe(0)
        // the drain began with batches still in flight
        expect(Number(/"drained: (\d+) requests? finished"/.exec(output())?.[1])).toBeGreaterThan(0)
        void child
      })), { timeout: 400_000 })
  }
})

/** The shutdown timeout of the streams' server: the bound its exit must come within, never reached when streams end at once. */
const SHUTDOWN_TIMEOUT_MS = 60_000
const STREAMS = 3
const CHECKS_IN_FLIGHT = 10
const WRITES_IN_FLIGHT = 10

describe("SIGTERM with event streams open", () => {
  for (const store of storeCases) {
    it.live(
      `${store.name}: ${STREAMS} streams end with a shutdown comment, ${CHECKS_IN_FLIGHT} check batches and ${WRITES_IN_FLIGHT} writes in flight complete 2xx, ` +
        `the process exits 0 within its ${SHUTDOWN_TIMEOUT_MS / 1000} s timeout, and resuming on a new process loses nothing`,
      () =>
        Effect.scoped(Effect.gen(function*() {
          const env = yield* store.open
          const adminKey = formatToken("tsk", randomBytes(32))
          const [port, next] = yield* freePorts(2)
          const base = `http://127.0.0.1:${port}`
          const { child, exited, output } = yield* serverToStop(port!, {
            ...env,
            TESSERA_BOOTSTRAP_TOKEN: adminKey,
            TESSERA_SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_MS}ms`
          })
          const stopped = yield* Effect.promise(async () => {
            await untilReady(base, child, output)
            const { checks, team } = await deepTree(base, adminKey)
            const rename = (name: string) => ({ name })
            const start = (await seqsAfter(base, adminKey, 0)).at(-1)!
            const followers = await Promise.all(Array.from({ length: STREAMS }, () => follow(base, adminKey, start)))
            // events reach every stream live before the signal
            for (let i = 0; i < 5; i++) {
              const renamed = await request(base, "PATCH", `/v1/workspaces/${team}`, { key: adminKey, json: rename(`before ${i}`) })
              if (renamed.status !== 200) throw new Error(`rename: ${renamed.status} ${JSON.stringify(renamed.body)}`)
            }
            const before = (await seqsAfter(base, adminKey, start)).at(-1)!
            await Promise.all(followers.map((f) => f.reach(before, 30_000)))

            // connections opened before the signal, then requests on them: slow check batches and writes that append events
            const agent = new Agent({ keepAlive: true, maxSockets: CHECKS_IN_FLIGHT + WRITES_IN_FLIGHT })
            const warm = await Promise.all(
              Array.from({ length: CHECKS_IN_FLIGHT + WRITES_IN_FLIGHT }, () => send(agent, port!, "GET", "/healthz").answered)
            )
            if (warm.some((a) => a.status !== 200)) throw new Error("warm-up failed")
            const inFlight = [
              ...Array.from({ length: CHECKS_IN_FLIGHT }, () => send(agent, port!, "POST", "/v1/check", adminKey, { checks })),
              ...Array.from({ length: WRITES_IN_FLIGHT }, (_, i) =>
                send(agent, port!, "PATCH", `/v1/workspaces/${team}`, adminKey, rename(`during ${i}`)))
            ]
            await Promise.all(inFlight.map((r) => r.written))
            const signalled = performance.now()
            child.kill("SIGTERM")
            // the timeout is the bound: a drain held by the streams would end only when it expires
            const code = await Promise.race([
              exited,
              new Promise<"not within the shutdown timeout">((r) => setTimeout(() => r("not within the shutdown timeout"), SHUTDOWN_TIMEOUT_MS))
            ])
            const answers = await Promise.all(inFlight.map((r) => r.answered))
            const endings = await Promise.all(followers.map((f) => f.ended))
            agent.destroy()
            return { start, followers, endings, answers, signalled, code }
          })
          expect(stopped.code, output()).toBe(0)
          expect(stopped.answers.map((a) => a.status)).toEqual(Array.from({ length: CHECKS_IN_FLIGHT + WRITES_IN_FLIGHT }, () => 200))
          // some were still in flight when the signal came
          expect(stopped.answers.some((a) => a.at > stopped.signalled)).toBe(true)
          expect(stopped.endings).toEqual(Array.from({ length: STREAMS }, () => "clean"))
          expect(stopped.followers.map((f) => f.comments.at(-1))).toEqual(Array.from({ length: STREAMS }, () => "shutdown"))
          expect(output()).toMatch(/"drained: \d+ requests? finished"/)
          expect(output()).not.toContain("shutdown timeout")

          // another process on the same store: each client resumes from the last id it received
          const resumed = yield* serverProcess(next!, { ...env, TESSERA_BOOTSTRAP_TOKEN: adminKey })
          const received = yield* Effect.promise(async () => {
            const everything = await seqsAfter(resumed.baseUrl, adminKey, stopped.start)
            const last = everything.at(-1)!
            const received: Array<Array<number>> = []
            for (const before of stopped.followers) {
              const again = await follow(resumed.baseUrl, adminKey, before.ids.at(-1) ?? stopped.start)
              await again.reach(last, 30_000)
              again.close()
              received.push([...before.ids, ...again.ids])
            }
            return { everything, received }
          })
          // the writes in flight appended their events; every client has each of them, once, in order
          expect(received.everything.length).toBeGreaterThanOrEqual(5 + WRITES_IN_FLIGHT)
          expect(received.received).toEqual(Array.from({ length: STREAMS }, () => received.everything))
        })),
      { timeout: 400_000 }
    )
  }
})
