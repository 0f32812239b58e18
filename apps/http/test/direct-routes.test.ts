// The direct routes (docs/http.md, "Direct routes") against the application,
// on both stores: any request a client can send — to `GET /healthz`,
// `GET /v1/me`, `POST /v1/check` or beside them, with any method, path
// variant, Authorization header, content type, body and framing — is sent to
// a server with the direct routes and to one on the same store without them,
// and both answer alike: status, content type, JSON body, `connection: close`
// and `Allow`; a connection either server keeps answers the next request.
// Requests go out through `node:http` with exactly the headers and framing
// generated (a body on a GET, a `Content-Length` of 0 or with leading zeros,
// chunked bodies, a length declared past the limit), which `fetch` would not
// send. Pipelined requests are answered in order by both. A check whose
// connection closes at any point, even while its key is looked up, ends (it
// is stopped, as the platform stops the application's handler, or answered
// into the closed connection), and the server keeps serving.
import { expect, layer } from "@effect/vitest"
import { formatToken } from "@tessera/domain"
import { Effect, FastCheck as fc } from "effect"
import { randomBytes } from "node:crypto"
import { Agent, type ClientRequest, type IncomingMessage, request, type RequestOptions } from "node:http"
import { connect } from "node:net"
import { directInFlight } from "../src/direct.js"
import { createResource, createTeam, grantAccess, people, shareLink } from "./fixtures/people.js"
import { byAdmin, sdk, Served, servedTwice, storeOf, type StoreName, Undirected } from "./harness.js"

/** `TESSERA_MAX_BODY_BYTES` as the harness runs it (the default). */
const LIMIT = 1024 * 1024

/** Cases per store: each is sent to both servers. */
const RUNS = 600

/** How long one answer may take on a loaded machine before the request counts as unanswered. */
const ANSWER_MS = 30_000

/** A body as generated: small enough to print in a counterexample; the large ones are built when sent. */
type Payload =
  | { readonly json: unknown }
  | { readonly text: string }
  | { readonly bytes: ReadonlyArray<number> }
  /** `{"checks":[…]}` with this many valid checks. */
  | { readonly checks: number }
  /** `{"checks":[]}` padded with spaces to exactly the limit. */
  | { readonly atLimit: true }

/**
 * How the body goes out: with its `Content-Length`, with one of leading
 * zeros, chunked in pieces, or declared one byte past the limit with only
 * its first bytes sent (the answer must come from the declaration alone).
 */
type Framing = "length" | "zero-padded length" | "chunked" | "declared past the limit"

interface Sent {
  readonly method: string
  readonly path: string
  readonly authorization?: string
  readonly contentType?: string
  readonly body?: { readonly payload: Payload; readonly framing: Framing; readonly pieces: number } | undefined
}

/** What the comparison looks at in an answer. */
interface Answer {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: unknown
  readonly connection: string | undefined
  readonly allow: string | undefined
  /** The status of a `GET /healthz` sent next on the same connection, when the server kept it. */
  readonly followUp: number | "another connection" | undefined
}

interface World {
  readonly keys: {
    readonly admin: string
    readonly member: string
    readonly revoked: string
    readonly malformed: string
    readonly unknown: string
    readonly link: string
    readonly unknownLink: string
  }
  readonly users: ReadonlyArray<string>
  readonly resources: ReadonlyArray<string>
}

const bytesOf = (payload: Payload, world: World): Buffer => {
  if ("json" in payload) return Buffer.from(JSON.stringify(payload.json), "utf8")
  if ("text" in payload) return Buffer.from(payload.text, "utf8")
  if ("bytes" in payload) return Buffer.from(payload.bytes)
  if ("checks" in payload) {
    const checks = Array.from({ length: payload.checks }, (_, i) => ({
      user_id: world.users[i % world.users.length],
      resource_id: world.resources[i % world.resources.length],
      action: "read"
    }))
    return Buffer.from(JSON.stringify({ checks }), "utf8")
  }
  const head = "{\"checks\":[]}"
  return Buffer.from(head + " ".repeat(LIMIT - head.length), "utf8")
}

/** The parts of `bytes` the chunked framing sends, `pieces` of them (the last may be empty). */
const split = (bytes: Buffer, pieces: number) => {
  const size = Math.ceil(bytes.length / pieces)
  return Array.from({ length: pieces }, (_, i) => bytes.subarray(i * size, (i + 1) * size))
}

/** One request on `agent`'s connection and its whole answer; `write` sends the body (and may leave it unfinished). */
const exchange = (
  agent: Agent,
  options: RequestOptions,
  write: (outgoing: ClientRequest) => void
): Promise<{ readonly incoming: IncomingMessage; readonly text: string }> =>
  new Promise((resolve, reject) => {
    let answered = false
    const outgoing = request({ ...options, agent }, (incoming) => {
      const chunks: Array<Buffer> = []
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk))
      incoming.on("error", reject)
      incoming.on("end", () => {
        answered = true
        resolve({ incoming, text: Buffer.concat(chunks).toString("utf8") })
      })
    })
    // once answered, a server that stopped reading may reset the rest of the upload
    outgoing.on("error", (error) => {
      if (!answered) reject(error)
    })
    write(outgoing)
  })

/**
 * Sends `sent` on a connection of its own, kept alive (so `connection: close`
 * is the server's choice), and reads the answer; when the server keeps the
 * connection, a `GET /healthz` follows on it, so a connection left mid-request
 * shows.
 */
const sendTo = async (baseUrl: string, sent: Sent, world: World): Promise<Answer> => {
  const url = new URL(baseUrl)
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const bytes = sent.body === undefined ? undefined : bytesOf(sent.body.payload, world)
  const framing = sent.body?.framing
  const headers: Record<string, string> = {}
  if (sent.authorization !== undefined) headers.authorization = sent.authorization
  if (sent.contentType !== undefined) headers["content-type"] = sent.contentType
  if (bytes !== undefined) {
    if (framing === "length") headers["content-length"] = String(bytes.length)
    if (framing === "zero-padded length") headers["content-length"] = `00${bytes.length}`
    if (framing === "chunked") headers["transfer-encoding"] = "chunked"
    if (framing === "declared past the limit") headers["content-length"] = String(LIMIT + 1)
  }
  const at = { host: url.hostname, port: url.port }
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_MS} ms`)), ANSWER_MS)
  })
  try {
    const answer = await Promise.race([
      late,
      exchange(agent, { ...at, method: sent.method, path: sent.path, headers }, (outgoing) => {
        if (bytes === undefined) {
          outgoing.end()
        } else if (framing === "chunked") {
          for (const piece of split(bytes, sent.body!.pieces)) outgoing.write(piece)
          outgoing.end()
        } else if (framing === "declared past the limit") {
          // never finished: the answer must come from the declaration
          outgoing.write(bytes.subarray(0, 1024))
          outgoing.once("response", (incoming) => incoming.once("end", () => outgoing.destroy()))
        } else {
          outgoing.end(bytes)
        }
      })
    ])
    const { incoming, text } = answer
    let body: unknown = text === "" ? undefined : text
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON: compared as text
    }
    let followUp: number | "another connection" | undefined = undefined
    if (incoming.headers.connection === "keep-alive" && framing !== "declared past the limit") {
      const next = await Promise.race([late, exchange(agent, { ...at, method: "GET", path: "/healthz" }, (o) => o.end())])
      followUp = next.incoming.socket === incoming.socket ? next.incoming.statusCode! : "another connection"
    }
    return {
      status: incoming.statusCode!,
      contentType: incoming.headers["content-type"],
      body,
      connection: incoming.headers.connection,
      allow: incoming.headers.allow,
      followUp
    }
  } finally {
    clearTimeout(timer)
    agent.destroy()
  }
}

/** `application/json`, with or without parameters, as the server judges a content type. */
const isJson = (contentType: string | undefined) =>
  contentType !== undefined && contentType.split(";")[0]!.trim().toLowerCase() === "application/json"

/** Whether the direct routes take `sent` (their own test, restated), to see that the cases exercise them. */
const plain = (sent: Sent) => {
  const path = sent.path.split("?")[0]
  const framing = sent.body?.framing
  if (sent.method === "GET") {
    const empty = sent.body !== undefined && "text" in sent.body.payload && sent.body.payload.text === ""
    return (path === "/healthz" || path === "/v1/me") && (sent.body === undefined || (framing === "length" && empty))
  }
  // `node:http` declares no body on a POST as `Content-Length: 0`
  return sent.method === "POST" && path === "/v1/check" && isJson(sent.contentType) &&
    (framing === undefined || framing === "length" || framing === "zero-padded length")
}

/** The requests: mostly the direct routes' own, with every variation around them. */
const requests = (world: World): fc.Arbitrary<Sent> => {
  const { keys } = world
  // well-formed ids: those of the world, and ones that name no user or resource
  const userId = fc.constantFrom(...world.users, `usr_${"0".repeat(32)}`)
  const resourceId = fc.constantFrom(...world.resources, `res_${"0".repeat(32)}`)
  const action = fc.constantFrom("read", "comment", "edit", "administer", "own")
  const check = fc.record({ user_id: userId, resource_id: resourceId, action })
  const batch = fc.record(
    { checks: fc.array(check, { maxLength: 8 }), explain: fc.constantFrom(true, false) },
    { requiredKeys: ["checks"] }
  )
  // a check the schema refuses: a malformed id or action, a field too many or missing, not an object
  const badCheck = fc.oneof(
    check.chain((c) =>
      fc.constantFrom<unknown>(
        { ...c, user_id: "usr_nothex" },
        { ...c, user_id: "" },
        { ...c, user_id: `USR_${"a".repeat(32)}` },
        { ...c, user_id: c.resource_id },
        { ...c, resource_id: "res_" },
        { ...c, resource_id: "res_\u00e9" },
        { ...c, action: "fly" },
        { ...c, action: "READ" },
        { ...c, extra: true },
        { user_id: c.user_id, resource_id: c.resource_id },
        [c.user_id, c.resource_id, c.action]
      )
    ),
    fc.constantFrom<unknown>(1, null, "x", { user_id: 1, resource_id: [], action: {} })
  )
  const badBatch = fc.oneof(
    fc.tuple(batch, badCheck, fc.nat()).map(([b, bad, at]) => {
      const checks: Array<unknown> = [...b.checks]
      checks.splice(at % (checks.length + 1), 0, bad)
      return { ...b, checks }
    }),
    fc.tuple(batch, fc.constantFrom<unknown>("yes", null, 1, [])).map(([b, explain]) => ({ ...b, explain })),
    batch.map((b) => ({ ...b, extra: 1 })),
    fc.constantFrom<unknown>({ explain: true }, { checks: {} }, { checks: null }, { checks: "x" }, [{ checks: [] }])
  )
  const nested = (depth: number) => `{"checks":${"[".repeat(depth)}${"]".repeat(depth)}}`
  const payload: fc.Arbitrary<Payload> = fc.oneof(
    { arbitrary: batch.map((json) => ({ json })), weight: 20 },
    { arbitrary: badBatch.map((json) => ({ json })), weight: 4 },
    { arbitrary: fc.constantFrom(1000, 1001).map((checks) => ({ checks })), weight: 1 },
    {
      arbitrary: fc.constantFrom<Payload>(
        { text: "" },
        { text: "   " },
        { text: "{" },
        { text: "{'checks':[]}" },
        { text: "null" },
        { text: "[]" },
        { text: "1" },
        { text: "\"checks\"" },
        { text: "{}" },
        { text: "{\"checks\":{}}" },
        { text: "{\"checks\":null}" },
        { text: "{\"checks\":[],\"checks\":[1]}" },
        { text: "\uFEFF{\"checks\":[]}" },
        { text: "{\"checks\":[]} trailing" },
        { text: nested(30) },
        { text: nested(31) },
        { text: nested(32) },
        { text: "[".repeat(200) },
        { text: `{"checks":[{"user_id":"usr_\\u0000","resource_id":"res_x","action":"read"}]}` },
        { text: "{\"che\\u0000cks\":[]}" },
        { text: "{\"checks\":[\"\u0000\"]}" },
        { text: "{\"checks\":[],\"explain\":1e999}" },
        { bytes: [0x7b, 0xff, 0xfe, 0x7d] },
        { bytes: [0x7b, 0x22, 0x63, 0xc3, 0x22, 0x3a, 0x5b, 0x5d, 0x7d] },
        { bytes: [0xef, 0xbb, 0xbf, 0x7b, 0x7d] },
        { atLimit: true }
      ),
      weight: 6
    },
    { arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ text })), weight: 1 },
    { arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ text })), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => ({ bytes: [...bytes] })), weight: 1 }
  )
  const framing = fc.oneof(
    { arbitrary: fc.constant<Framing>("length"), weight: 10 },
    { arbitrary: fc.constantFrom<Framing>("zero-padded length", "chunked", "declared past the limit"), weight: 3 }
  )
  const body = fc.record({ payload, framing, pieces: fc.integer({ min: 1, max: 3 }) })
  const smallBody = fc.record({
    payload: fc.constantFrom<Payload>({ text: "" }, { text: "{}" }, { text: "{\"checks\":[]}" }, { bytes: [0] }),
    framing: fc.constantFrom<Framing>("length", "length", "chunked"),
    pieces: fc.constant(1)
  })
  const authorization = fc.oneof(
    { arbitrary: fc.constant(`Bearer ${keys.admin}`), weight: 8 },
    { arbitrary: fc.constant(`Bearer ${keys.member}`), weight: 3 },
    {
      arbitrary: fc.constantFrom<string | undefined>(
        undefined,
        "",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer tsk_",
        `Bearer ${keys.revoked}`,
        `Bearer ${keys.malformed}`,
        `Bearer ${keys.unknown}`,
        `Bearer ${keys.link}`,
        `Bearer ${keys.unknownLink}`,
        `bearer ${keys.admin}`,
        `BEARER ${keys.admin}`,
        `bearer  ${keys.admin}`,
        `Bearer\t${keys.admin}`,
        `Bearer ${keys.admin} `,
        `Bearer ${keys.admin} x`,
        `Bearer ${keys.admin.toUpperCase()}`,
        `Token ${keys.admin}`,
        `Bearer ${keys.member}, Bearer ${keys.admin}`,
        `Bearer ${keys.admin}\u00e9`
      ),
      weight: 6
    }
  )
  const contentType = fc.oneof(
    { arbitrary: fc.constant("application/json"), weight: 10 },
    {
      arbitrary: fc.constantFrom<string | undefined>(
        undefined,
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json;charset=latin1",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonl",
        "application/json, text/plain",
        ""
      ),
      weight: 4
    }
  )
  const route = fc.oneof(
    { arbitrary: fc.constant(["GET", "/healthz"]), weight: 1 },
    { arbitrary: fc.constant(["GET", "/v1/me"]), weight: 2 },
    { arbitrary: fc.constant(["POST", "/v1/check"]), weight: 6 },
    {
      arbitrary: fc.tuple(fc.constantFrom("GET", "POST", "HEAD", "PUT"), fc.constantFrom("/healthz", "/v1/me", "/v1/check")),
      weight: 3
    }
  )
  const query = fc.constantFrom("", "a=1", "explain=true", "limit=5&cursor=x", "%zz", "a=%00", "?", "a=1&a=2")
  const variant = (path: string): fc.Arbitrary<string> =>
    fc.oneof(
      { arbitrary: fc.constant(path), weight: 10 },
      { arbitrary: query.map((q) => `${path}?${q}`), weight: 3 },
      {
        arbitrary: fc.constantFrom(
          `${path}/`,
          path.toUpperCase(),
          path.replace("e", "E"),
          path.replace(/[a-z]$/, (c) => `%${c.charCodeAt(0).toString(16)}`),
          path.replace(/[a-z]$/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
          path.replace(/\/([^/]*)$/, "/./$1"),
          path.replace(/\/([^/]*)$/, "//$1"),
          path.replace("/", "%2F"),
          `${path}#x`,
          `${path};x`,
          `/x/..${path}`
        ),
        weight: 3
      }
    )
  return fc.tuple(route, authorization, contentType).chain(([[method, path], authorization, contentType]) =>
    fc.record({
      method: fc.constant(method!),
      path: variant(path!),
      body: method === "HEAD"
        ? fc.constant(undefined)
        : method === "GET"
        ? fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: smallBody, weight: 1 })
        : fc.oneof({ arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: body, weight: 9 })
    }).map((sent): Sent => {
      // A large body goes out only where it is read to its end (a check by the admin): the server's close
      // after an answer that left a large upload unread can reset the connection before the answer is read.
      const large = sent.body !== undefined && ("atLimit" in sent.body.payload || "checks" in sent.body.payload)
      const readToItsEnd = sent.method === "POST" && /^\/v1\/check(\?|$)/.test(sent.path) && isJson(contentType) &&
        sent.body?.framing !== "declared past the limit"
      const body = large && !readToItsEnd ? { ...sent.body!, payload: { text: "{\"checks\":[]}" } } : sent.body
      return {
        ...sent,
        body,
        ...(large && readToItsEnd ? { authorization: `Bearer ${keys.admin}` } : authorization === undefined ? {} : { authorization }),
        ...(contentType === undefined ? {} : { contentType })
      }
    })
  )
}

/** A workspace's small tree, a member with an access, a revoked user, a revoked resource and a share link. */
const world = Effect.gen(function*() {
  const { adminKey } = yield* Served
  const [owner, member, gone] = yield* people(3)
  const team = yield* createTeam(owner, [member, gone])
  const root = (yield* createResource(owner, team, "root")).id
  const child = (yield* createResource(owner, team, "child", root)).id
  const leaf = (yield* createResource(owner, team, "leaf", child)).id
  const dropped = (yield* createResource(owner, team, "dropped", root)).id
  const own = (yield* createResource(owner, owner.personal, "own")).id
  yield* grantAccess(owner, child, member, "editor")
  yield* grantAccess(owner, root, gone, "commenter")
  const link = yield* shareLink(owner, root, "reader")
  yield* sdk(() => owner.client.DELETE("/v1/resources/{id}", { params: { path: { id: dropped } } }))
  yield* byAdmin((admin) => admin.POST("/v1/users/{id}/revoke", { params: { path: { id: gone.id } } }))
  const admin = yield* byAdmin((admin) => admin.GET("/v1/me"))
  const last = adminKey.at(-1) === "0" ? "1" : "0"
  return {
    keys: {
      admin: adminKey,
      member: member.key,
      revoked: gone.key,
      malformed: adminKey.slice(0, -1) + last,
      unknown: formatToken("tsk", randomBytes(32)),
      link: link.token,
      unknownLink: formatToken("tsl", randomBytes(32))
    },
    users: [admin.user.id, owner.id, member.id, gone.id],
    resources: [root, child, leaf, dropped, own]
  } satisfies World
})

const validBatch = (w: World): Sent => ({
  method: "POST",
  path: "/v1/check",
  authorization: `Bearer ${w.keys.admin}`,
  contentType: "application/json",
  body: {
    payload: { json: { checks: [{ user_id: w.users[2], resource_id: w.resources[1], action: "edit" }] } },
    framing: "length",
    pieces: 1
  }
})

/**
 * A check by `key` whose connection is closed after `sent` bytes of its
 * 100-byte body: at once (while its key is still being looked up), or
 * `after` ms once they are written (while the body is being read).
 */
const cutOff = (baseUrl: string, key: string, sent: number, after: number | "at once") =>
  new Promise<void>((resolve, reject) => {
    const url = new URL(baseUrl)
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `POST /v1/check HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${key}\r\n` +
          `Content-Type: application/json\r\nContent-Length: 100\r\n\r\n` + "{\"checks\":[".padEnd(sent, " ").slice(0, sent)
      )
      const close = () => {
        socket.destroy()
        resolve()
      }
      if (after === "at once") close()
      else setTimeout(close, after)
    })
    socket.on("error", reject)
  })

/**
 * Writes `requests` (raw HTTP/1.1 requests) on one connection at once,
 * pipelined, and reads the answers until the server closes it: each one's
 * status, content type, JSON body and `connection`.
 */
const pipelined = (baseUrl: string, requests: ReadonlyArray<string>) =>
  new Promise<ReadonlyArray<Omit<Answer, "allow" | "followUp">>>((resolve, reject) => {
    const url = new URL(baseUrl)
    const chunks: Array<Buffer> = []
    const socket = connect(Number(url.port), url.hostname, () => socket.write(requests.join("")))
    socket.setTimeout(ANSWER_MS, () => socket.destroy(new Error(`the connection was not closed within ${ANSWER_MS} ms`)))
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.on("error", reject)
    socket.on("end", () => {
      const all = Buffer.concat(chunks)
      const answers: Array<Omit<Answer, "allow" | "followUp">> = []
      let at = 0
      while (at < all.length) {
        const headEnd = all.indexOf("\r\n\r\n", at)
        const [statusLine, ...lines] = all.subarray(at, headEnd).toString("latin1").split("\r\n")
        const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]))
        let body = Buffer.alloc(0)
        at = headEnd + 4
        if (headers.get("transfer-encoding") === "chunked") {
          for (;;) {
            const sizeEnd = all.indexOf("\r\n", at)
            const size = parseInt(all.subarray(at, sizeEnd).toString("latin1"), 16)
            body = Buffer.concat([body, all.subarray(sizeEnd + 2, sizeEnd + 2 + size)])
            at = sizeEnd + 2 + size + 2
            if (size === 0) break
          }
        } else {
          const length = Number(headers.get("content-length") ?? 0)
          body = all.subarray(at, at + length)
          at += length
        }
        answers.push({
          status: Number(statusLine!.split(" ")[1]),
          contentType: headers.get("content-type"),
          body: body.length === 0 ? undefined : JSON.parse(body.toString("utf8")),
          connection: headers.get("connection")
        })
      }
      resolve(answers)
    })
  })

/** How long a cut-off check may take to end (stopped by its closed connection) on a loaded machine. */
const ENDED_MS = 20_000

/** Waits until no direct-route request is being served (the servers run in this process), or the deadline. */
const allEnded = Effect.gen(function*() {
  const deadline = Date.now() + ENDED_MS
  while (directInFlight() > 0 && Date.now() < deadline) yield* Effect.sleep("50 millis")
  return directInFlight()
})

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(servedTwice(storeOf(store)), { timeout: "180 seconds", excludeTestServices: true })(`direct routes (${store})`, (it) => {
    it.effect("every request answers as the application answers it", () =>
      Effect.gen(function*() {
        const direct = (yield* Served).baseUrl
        const undirected = (yield* Undirected).baseUrl
        const w = yield* world
        let taken = 0
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(requests(w), async (sent) => {
              if (plain(sent)) taken++
              const [byDirect, byApplication] = await Promise.all([sendTo(direct, sent, w), sendTo(undirected, sent, w)])
              const both = `direct routes: ${JSON.stringify(byDirect)}\napplication: ${JSON.stringify(byApplication)}`
              expect(byDirect, both).toEqual(byApplication)
              expect(byApplication.status).toBeLessThan(500)
              // a connection kept open is ready for the next request
              expect([undefined, 200]).toContain(byApplication.followUp)
            }),
            { numRuns: RUNS }
          )
        )
        // most cases are the direct routes' own requests, not ones they pass on
        expect(taken).toBeGreaterThan(RUNS / 3)
      }), 240_000)

    it.effect("a check refused before its empty body is read keeps the connection, as the application does", () =>
      Effect.gen(function*() {
        const direct = (yield* Served).baseUrl
        const undirected = (yield* Undirected).baseUrl
        const w = yield* world
        for (const authorization of [undefined, `Bearer ${w.keys.unknown}`, `Bearer ${w.keys.revoked}`]) {
          // `Content-Length: 0`: no body follows, so none is left unread
          const sent: Sent = {
            method: "POST",
            path: "/v1/check",
            contentType: "application/json",
            body: { payload: { text: "" }, framing: "length", pieces: 1 },
            ...(authorization === undefined ? {} : { authorization })
          }
          const byApplication = yield* Effect.promise(() => sendTo(undirected, sent, w))
          expect([byApplication.status, byApplication.connection]).toEqual([401, "keep-alive"])
          expect(yield* Effect.promise(() => sendTo(direct, sent, w))).toEqual(byApplication)
        }
      }), 120_000)

    it.effect("pipelined requests on one connection are answered in order, as the application answers them", () =>
      Effect.gen(function*() {
        const direct = (yield* Served).baseUrl
        const undirected = (yield* Undirected).baseUrl
        const w = yield* world
        const raw = (method: string, path: string, key: string | undefined, body?: string) =>
          `${method} ${path} HTTP/1.1\r\nHost: tessera\r\n${key === undefined ? "" : `Authorization: Bearer ${key}\r\n`}` +
          (body === undefined ? "" : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`) +
          `\r\n${body ?? ""}`
        const batch = JSON.stringify({ checks: [{ user_id: w.users[2], resource_id: w.resources[1], action: "edit" }], explain: true })
        const requests = [
          raw("POST", "/v1/check", w.keys.admin, batch),
          raw("GET", "/v1/me", w.keys.member),
          raw("GET", "/healthz", undefined),
          raw("POST", "/v1/check", w.keys.member, batch),
          raw("PUT", "/v1/me", w.keys.admin),
          raw("POST", "/v1/check", w.keys.admin, "{\"checks\":"),
          raw("GET", "/v1/me", undefined),
          raw("POST", "/v1/check?x=1", w.keys.admin, batch),
          // refused before its body is read: the connection closes after it
          raw("POST", "/v1/check", w.keys.unknown, batch),
          raw("GET", "/healthz", undefined)
        ]
        const byApplication = yield* Effect.promise(() => pipelined(undirected, requests))
        expect(byApplication.map((a) => a.status)).toEqual([200, 200, 200, 403, 405, 400, 401, 200, 401])
        expect(yield* Effect.promise(() => pipelined(direct, requests))).toEqual(byApplication)
      }), 120_000)

    // PostgreSQL can hold the key's lookup (a table lock), so the connection surely closes before the body is read
    if (store === "pg") {
      it.effect("a check whose connection closes while its key is looked up is stopped, not left waiting", () =>
        Effect.gen(function*() {
          const { baseUrl, sql } = yield* Served
          const w = yield* world
          const cuts = [0, 11, 100]
          yield* sql.withTransaction(Effect.gen(function*() {
            yield* sql`LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE`
            for (const sent of cuts) yield* Effect.promise(() => cutOff(baseUrl, w.keys.admin, sent, "at once"))
            // time for the server to see the connections close while the lookups wait
            yield* Effect.sleep("500 millis")
          }))
          expect(yield* allEnded).toBe(0)
        }), 120_000)
    }

    it.effect("a check cut off at any point ends, never left waiting, and the server keeps serving", () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* Served
        const w = yield* world
        const cuts = [[0, "at once"], [11, "at once"], [100, "at once"], [0, 0], [11, 0], [0, 200], [11, 200], [99, 200]] as const
        for (const [sent, after] of cuts) yield* Effect.promise(() => cutOff(baseUrl, w.keys.admin, sent, after))
        // each is stopped by its closed connection, or answered into it: none waits for a body that cannot come
        expect(yield* allEnded).toBe(0)
        const answer = yield* Effect.promise(() => sendTo(baseUrl, validBatch(w), w))
        expect([answer.status, answer.body]).toEqual([200, { results: [{ allowed: true, role: "editor" }] }])
      }), 120_000)
  })
}
