// `GET /v1/events/stream` with two real server processes on one store (one PostgreSQL database; one SQLite file), as
// docs/events.md promises: an event committed through one server appears on a stream held open on the other within 1 s
// (and the commit-to-delivery latency is measured and printed); a client that disconnects and resumes from its last id,
// on either server, receives every event once, in `seq` order; a workspace admin's stream carries exactly their
// workspace's events, never another's, and ends with an `error` frame once they are no longer its admin; heartbeats
// keep an idle stream alive; and refusals answer their status before any stream opens.
import { describe, expect, it } from "@effect/vitest"
import { formatToken } from "@tessera/domain"
import { publicKeys } from "@tessera/store-contract/fixtures"
import { freshDatabase } from "@tessera/store-pg/testing"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import { freePorts, type Reply, request, serverProcess } from "./fixtures/servers.js"

/** How soon an event committed through one server must reach a stream on the other. */
const DELIVERY_MS = 1000
const HEARTBEAT_MS = 400
const LATENCY_SAMPLES = 60

interface Frame {
  readonly id?: number
  readonly event?: string
  readonly data?: any
  readonly comment?: string
  /** `performance.now()` when the frame was parsed. */
  readonly at: number
}

interface EventStream {
  readonly status: number
  readonly frames: Array<Frame>
  /** Resolves with the first frame (from `from` on) that satisfies `test`; rejects after `ms`. */
  readonly waitFor: (test: (frame: Frame) => boolean, ms: number, from?: number) => Promise<Frame>
  readonly ended: () => boolean
  readonly close: () => void
}

/** Opens an SSE stream with fetch and parses its frames as they arrive. */
const openStream = async (baseUrl: string, path: string, key: string, lastEventId?: number): Promise<EventStream> => {
  const abort = new AbortController()
  const response = await fetch(baseUrl + path, {
    headers: { authorization: `Bearer ${key}`, ...(lastEventId !== undefined ? { "last-event-id": String(lastEventId) } : {}) },
    signal: abort.signal
  })
  const frames: Array<Frame> = []
  const waiters = new Set<() => void>()
  let ended = false
  const notify = () => waiters.forEach((w) => w())
  if (response.status === 200 && response.body !== null) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    void (async () => {
      let buffer = ""
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          buffer += value
          let end: number
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const at = performance.now()
            const fields: Record<string, string> = {}
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) frames.push({ comment: line.slice(1).trim(), at })
              else {
                const colon = line.indexOf(":")
                fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart()
              }
            }
            if (fields["data"] !== undefined) {
              frames.push({
                ...(fields["id"] !== undefined ? { id: Number(fields["id"]) } : {}),
                ...(fields["event"] !== undefined ? { event: fields["event"] } : {}),
                data: JSON.parse(fields["data"]),
                at
              })
            }
          }
          notify()
        }
      } catch {
        // aborted by close()
      } finally {
        ended = true
        notify()
      }
    })()
  } else {
    await response.text()
    ended = true
  }
  return {
    status: response.status,
    frames,
    ended: () => ended,
    close: () => abort.abort(),
    waitFor: (test, ms, from = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = frames.slice(from).find(test)
          if (found !== undefined) {
            clear()
            resolve(found)
          } else if (ended) {
            clear()
            reject(new Error(`stream ended without the frame (${frames.length} frames)`))
          }
        }
        const timer = setTimeout(() => {
          clear()
          reject(new Error(`no such frame within ${ms} ms (${frames.length} frames)`))
        }, ms)
        const clear = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
  }
}

const expectStatus = (reply: Reply, status: number) => {
  if (reply.status !== status) throw new Error(`${reply.method} ${reply.path}: expected ${status}, got ${reply.status} ${JSON.stringify(reply.body)}`)
  return reply.body
}

/** Every event after `after`, paged through `GET /v1/events`. */
const allEventsAfter = async (base: string, key: string, after: number, workspaceId?: string) => {
  const events: Array<any> = []
  for (let cursor = after;;) {
    const page = expectStatus(
      await request(base, "GET", `/v1/events?after=${cursor}&limit=1000${workspaceId !== undefined ? `&workspace_id=${workspaceId}` : ""}`, { key }),
      200
    )
    events.push(...page.events)
    if (page.events.length < 1000) return events
    cursor = page.next_after
  }
}

const register = async (base: string, adminKey: string, handle: string) => {
  const minted = expectStatus(await request(base, "POST", "/v1/invites", { key: adminKey, json: { kind: "registration", handle } }), 201)
  const keys = publicKeys()
  const registered = expectStatus(
    await request(base, "POST", "/v1/register", { json: { token: minted.token, sign_pub: keys.signPub, kex_pub: keys.kexPub } }),
    201
  )
  return { id: registered.user.id as string, key: registered.api_key as string }
}

const newestSeq = async (base: string, key: string) => (await allEventsAfter(base, key, 0)).at(-1)?.seq as number

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

const storeCases = [
  {
    name: "SQLite (one file)",
    open: Effect.sync(() => ({ TESSERA_STORE: "sqlite", TESSERA_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), "tessera-sse-")), "tessera.db") }))
  },
  {
    name: "PostgreSQL (one database)",
    open: Effect.map(freshDatabase, (url) => ({ TESSERA_STORE: "pg", DATABASE_URL: Redacted.value(url) }))
  }
] as const

describe("the live event stream across two server processes", () => {
  for (const store of storeCases) {
    it.live(
      `${store.name}: delivery within ${DELIVERY_MS} ms across processes, lossless resumption, workspace admins see only their workspace`,
      () =>
        Effect.scoped(Effect.gen(function*() {
          const env = yield* store.open
          const adminKey = formatToken("tsk", randomBytes(32))
          const ports = yield* freePorts(2)
          const servers = yield* Effect.all(
            ports.map((port) =>
              serverProcess(port, { ...env, TESSERA_BOOTSTRAP_TOKEN: adminKey, TESSERA_EVENTS_HEARTBEAT_MS: String(HEARTBEAT_MS) })
            ),
            { concurrency: "unbounded" }
          )
          const [a, b] = servers.map((s) => s.baseUrl) as [string, string]
          const streams: Array<EventStream> = []
          yield* Effect.addFinalizer(() => Effect.sync(() => streams.forEach((s) => s.close())))
          const open = (...args: Parameters<typeof openStream>) =>
            openStream(...args).then((s) => {
              streams.push(s)
              return s
            })

          yield* Effect.promise(async () => {
            // --- refusals answer their status before any stream opens
            const alice = await register(a, adminKey, `alice-${ports[0]}`)
            const bob = await register(a, adminKey, `bob-${ports[0]}`)
            const aliceTeam = expectStatus(await request(a, "POST", "/v1/workspaces", { key: alice.key, json: { name: "alice's" } }), 201).id as string
            const bobTeam = expectStatus(await request(a, "POST", "/v1/workspaces", { key: bob.key, json: { name: "bob's" } }), 201).id as string
            expect({
              noKey: (await fetch(`${b}/v1/events/stream`)).status,
              aliceAll: (await open(b, "/v1/events/stream", alice.key)).status,
              aliceOnBobs: (await open(b, `/v1/events/stream?workspace_id=${bobTeam}`, alice.key)).status,
              badAfter: (await open(b, "/v1/events/stream?after=-1", adminKey)).status,
              badType: (await open(b, "/v1/events/stream?type=DROP%20TABLE", adminKey)).status
            }).toEqual({ noKey: 401, aliceAll: 403, aliceOnBobs: 403, badAfter: 400, badType: 400 })

            // --- an idle stream gets heartbeats; a stream from now starts after the newest event
            const idle = await open(b, "/v1/events/stream", adminKey)
            expect(idle.status).toBe(200)
            await idle.waitFor((f) => f.comment === "heartbeat", HEARTBEAT_MS * 4)
            expect(idle.frames.filter((f) => f.id !== undefined)).toEqual([])

            // --- committed through A, delivered on B's stream within DELIVERY_MS; latency measured
            const watching = await open(b, "/v1/events/stream", adminKey)
            await watching.waitFor((f) => f.comment?.startsWith("ready") === true, 10_000)
            const fromResponse: Array<number> = []
            const fromRequest: Array<number> = []
            for (let i = 0; i < LATENCY_SAMPLES; i++) {
              const from = watching.frames.length
              const sent = performance.now()
              const patched = await request(a, "PATCH", `/v1/workspaces/${aliceTeam}`, { key: adminKey, json: { name: `renamed ${i}` } })
              const answered = performance.now()
              expectStatus(patched, 200)
              const frame = await watching.waitFor((f) => f.event === "workspace.updated" && f.data.workspace_id === aliceTeam, DELIVERY_MS * 5, from)
              fromResponse.push(frame.at - answered)
              fromRequest.push(frame.at - sent)
              // writes arrive at random moments relative to the SQLite poll and the heartbeats
              await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 60)))
            }
            const sortedResponse = [...fromResponse].sort((x, y) => x - y)
            const sortedRequest = [...fromRequest].sort((x, y) => x - y)
            const report = {
              store: store.name,
              samples: LATENCY_SAMPLES,
              afterCommitResponse: { p50: percentile(sortedResponse, 50), p99: percentile(sortedResponse, 99), max: sortedResponse.at(-1) },
              afterRequestSent: { p50: percentile(sortedRequest, 50), p99: percentile(sortedRequest, 99), max: sortedRequest.at(-1) }
            }
            console.log(`commit-to-delivery across processes (ms): ${JSON.stringify(report, (_, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v))}`)
            expect(sortedRequest.at(-1)!).toBeLessThan(DELIVERY_MS)
            const watched = watching.frames.filter((f) => f.id !== undefined).map((f) => f.id!)
            expect(watched).toEqual([...watched].sort((x, y) => x - y))

            // --- resumption: writes go on through both servers while a client disconnects and resumes (on either server)
            const start = await newestSeq(a, adminKey)
            const WRITES = 90
            const writing = (async () => {
              for (let i = 0; i < WRITES; i++) {
                const base = i % 2 === 0 ? a : b
                expectStatus(await request(base, "PATCH", `/v1/workspaces/${i % 3 === 0 ? bobTeam : aliceTeam}`, { key: adminKey, json: { name: `w${i}` } }), 200)
              }
            })()
            const received: Array<number> = []
            let last = start
            for (let round = 0; round < 6; round++) {
              const server = round % 2 === 0 ? b : a
              // the first connection resumes with ?after=, the rest as an EventSource does, with Last-Event-ID
              const resumed = round === 0
                ? await open(server, `/v1/events/stream?after=${last}`, adminKey)
                : await open(server, "/v1/events/stream?after=0", adminKey, last)
              await resumed.waitFor((f) => f.id !== undefined, 10_000).catch(() => undefined)
              await new Promise((r) => setTimeout(r, 80 + Math.floor(Math.random() * 120)))
              resumed.close()
              for (const f of resumed.frames) if (f.id !== undefined) received.push(f.id)
              last = received.at(-1) ?? last
            }
            await writing
            const final = await open(a, `/v1/events/stream`, adminKey, last)
            const everything = await allEventsAfter(a, adminKey, start)
            const lastSeq = everything.at(-1)!.seq as number
            if (last < lastSeq) await final.waitFor((f) => f.id === lastSeq, 10_000)
            for (const f of final.frames) if (f.id !== undefined) received.push(f.id)
            expect(everything.length).toBeGreaterThanOrEqual(WRITES)
            expect(received).toEqual(everything.map((e) => e.seq))

            // --- a workspace admin's stream carries their workspace's events and nothing else, until they are not its admin
            const since = await newestSeq(a, adminKey)
            const aliceStream = await open(b, `/v1/events/stream?workspace_id=${aliceTeam}`, alice.key)
            const typed = await open(a, `/v1/events/stream?type=workspace.member_added`, adminKey)
            expect([aliceStream.status, typed.status]).toEqual([200, 200])
            await aliceStream.waitFor((f) => f.comment?.startsWith("ready") === true, 10_000)
            for (let i = 0; i < 10; i++) {
              expectStatus(await request(i % 2 === 0 ? a : b, "PATCH", `/v1/workspaces/${bobTeam}`, { key: bob.key, json: { name: `b${i}` } }), 200)
              expectStatus(await request(i % 2 === 0 ? b : a, "PATCH", `/v1/workspaces/${aliceTeam}`, { key: alice.key, json: { name: `a${i}` } }), 200)
            }
            expectStatus(await request(a, "POST", `/v1/workspaces/${aliceTeam}/members`, { key: alice.key, json: { user_id: bob.id, role: "admin" } }), 201)
            const aliceEvents = (await allEventsAfter(a, adminKey, since, aliceTeam)).map((e) => e.seq)
            await aliceStream.waitFor((f) => f.id === aliceEvents.at(-1), DELIVERY_MS * 5)
            // bob demotes alice: her stream ends with one error frame and carries nothing after
            expectStatus(await request(a, "PATCH", `/v1/workspaces/${aliceTeam}/members/${alice.id}`, { key: bob.key, json: { role: "member" } }), 200)
            expectStatus(await request(a, "PATCH", `/v1/workspaces/${bobTeam}`, { key: bob.key, json: { name: "after" } }), 200)
            expectStatus(await request(a, "PATCH", `/v1/workspaces/${aliceTeam}`, { key: bob.key, json: { name: "after" } }), 200)
            const refusal = await aliceStream.waitFor((f) => f.event === "error", DELIVERY_MS * 5)
            await new Promise((r) => setTimeout(r, 300))
            const carried = aliceStream.frames.filter((f) => f.id !== undefined)
            expect({
              onlyHers: carried.every((f) => f.data.workspace_id === aliceTeam),
              // her events up to the demotion (which she may see, or not, depending on when her stream read)
              hers: carried.map((f) => f.id).slice(0, aliceEvents.length),
              refusal: refusal.data.error,
              ended: aliceStream.ended()
            }).toEqual({ onlyHers: true, hers: aliceEvents, refusal: "forbidden", ended: true })
            const memberAdded = (await allEventsAfter(a, adminKey, since)).filter((e) => e.type === "workspace.member_added").map((e) => e.seq)
            await typed.waitFor((f) => f.id === memberAdded.at(-1), DELIVERY_MS * 5)
            expect(typed.frames.filter((f) => f.id !== undefined).map((f) => [f.id, f.event])).toEqual(
              memberAdded.map((seq) => [seq, "workspace.member_added"])
            )
          })
        })),
      300_000
    )
  }
})
