// Logs, traces and metrics of the server process (docs/operations.md, "Logs, traces and metrics"), on both stores:
// a run that calls every endpoint of the contract (with real ids, keys, invite tokens and a share link) leaves a JSON
// request log in which every line parses, each request line carries route template, status, duration, request id and
// principal, and no key, invite or link token nor any digest appears; X-Request-Id is echoed or generated; /metrics
// answers Prometheus text; and with OTEL_EXPORTER_OTLP_ENDPOINT set, a request's span reaches an OTLP receiver run by
// the test with its use case's span under it and SQL statements' spans under that, and every request line carries the
// trace and span ids of its request's span (those of the exported span); a server without the endpoint logs neither.
import { describe, expect, it } from "@effect/vitest"
import { HttpApi } from "@effect/platform"
import { TesseraApi } from "@tessera/api"
import { formatToken } from "@tessera/domain"
import { publicKeys } from "@tessera/store-contract/fixtures"
import { freshDatabase } from "@tessera/store-pg/testing"
import { createHash, randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import { freePorts, request, serverProcess } from "./fixtures/servers.js"

const storeCases = [
  {
    name: "SQLite",
    open: Effect.sync(() => ({ TESSERA_STORE: "sqlite", TESSERA_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), "tessera-obs-")), "t.db") }))
  },
  {
    name: "PostgreSQL",
    open: Effect.map(freshDatabase, (url) => ({ TESSERA_STORE: "pg", DATABASE_URL: Redacted.value(url) }))
  }
] as const

interface ExportedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: Record<string, unknown> }>
}

/** An OTLP/HTTP receiver (JSON protocol) on a free port: keeps every span posted to /v1/traces. */
const otlpReceiver = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<{ readonly server: Server; readonly url: string; readonly spans: Array<ExportedSpan> }>((resolve) => {
      const spans: Array<ExportedSpan> = []
      const server = createServer((req, res) => {
        let body = ""
        req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk))
        req.on("end", () => {
          if (req.url === "/v1/traces" && req.method === "POST") {
            const data = JSON.parse(body) as any
            for (const resource of data.resourceSpans ?? []) {
              for (const scope of resource.scopeSpans ?? []) spans.push(...scope.spans)
            }
          }
          res.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans }))
    })
  ),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

const expectStatus = (reply: { status: number; body: any; method: string; path: string }, status: number) => {
  expect({ call: `${reply.method} ${reply.path}`, status: reply.status, body: reply.body }).toMatchObject({ status })
  return reply.body
}

/**
 * Calls every endpoint of the contract at least once: first a walk that makes real things (an invite and its
 * registration, a workspace, resources, an access, a share link used as a bearer, a grant invite redeemed, a check),
 * then every endpoint with those ids, so that the secrets are on the wire both ways.
 */
const exerciseEverything = async (base: string, adminKey: string) => {
  const secrets: Array<string> = [adminKey]
  const call = (method: string, path: string, key?: string, json?: unknown) =>
    request(base, method, path, { ...(key !== undefined ? { key } : {}), ...(json !== undefined ? { json } : {}) })
  const handle = `obs${Date.now().toString(36)}`
  const minted = expectStatus(await call("POST", "/v1/invites", adminKey, { kind: "registration", handle }), 201)
  secrets.push(minted.token)
  const keys = publicKeys()
  const registered = expectStatus(
    await call("POST", "/v1/register", undefined, { token: minted.token, sign_pub: keys.signPub, kex_pub: keys.kexPub }),
    201
  )
  const alice = { key: registered.api_key as string, id: registered.user.id as string }
  secrets.push(alice.key)
  const team = expectStatus(await call("POST", "/v1/workspaces", alice.key, { name: "observed" }), 201).id as string
  const root = expectStatus(await call("POST", `/v1/workspaces/${team}/resources`, alice.key, { title: "root" }), 201).id as string
  const doc = expectStatus(await call("POST", `/v1/workspaces/${team}/resources`, alice.key, { title: "doc", parent_id: root }), 201)
    .id as string
  const adminId = expectStatus(await call("GET", "/v1/me", adminKey), 200).user.id as string
  const access = expectStatus(await call("POST", `/v1/resources/${doc}/accesses`, alice.key, { user_id: adminId, role: "reader" }), 201)
  const accessId = access.id as string
  const link = expectStatus(await call("PUT", `/v1/resources/${doc}/share-link`, alice.key, { role: "reader" }), 201)
  secrets.push(link.token)
  expectStatus(await call("GET", `/v1/resources/${doc}`, link.token), 200)
  const grant = expectStatus(await call("POST", "/v1/invites", alice.key, { kind: "grant", workspace_id: team, workspace_role: "member" }), 201)
  secrets.push(grant.token)
  const bobInvite = expectStatus(await call("POST", "/v1/invites", adminKey, { kind: "registration", handle: `${handle}b` }), 201)
  secrets.push(bobInvite.token)
  const bobKeys = publicKeys()
  const bob = expectStatus(
    await call("POST", "/v1/register", undefined, { token: bobInvite.token, sign_pub: bobKeys.signPub, kex_pub: bobKeys.kexPub }),
    201
  )
  secrets.push(bob.api_key)
  expectStatus(await call("POST", "/v1/invites/redeem", bob.api_key, { token: grant.token }), 200)
  expectStatus(await call("POST", "/v1/check", adminKey, { checks: [{ user_id: alice.id, resource_id: doc, action: "read" }] }), 200)

  // every endpoint of the contract, with the ids made above (the answer may be anything but a 5xx)
  const ids: Record<string, string> = {
    id: doc,
    inviteId: grant.invite.id,
    userId: bob.user.id,
    workspaceId: team,
    memberId: bob.user.id,
    resourceId: doc,
    accessId
  }
  const endpoints: Array<{ method: string; path: string }> = []
  HttpApi.reflect(TesseraApi, { onGroup: () => {}, onEndpoint: ({ endpoint }) => endpoints.push({ method: endpoint.method, path: endpoint.path }) })
  const order = (m: string) => (m === "DELETE" ? 2 : m === "GET" ? 0 : 1)
  endpoints.sort((a, b) => order(a.method) - order(b.method))
  for (const endpoint of endpoints) {
    if (endpoint.path === "/v1/events/stream") continue // held open; its refusal is enough here
    const path = endpoint.path.replace(/:([A-Za-z]+)/g, (_, name: string) => ids[name] ?? doc)
    const key = endpoint.path.startsWith("/v1/users/") && endpoint.method !== "GET" ? adminKey : alice.key
    const json = endpoint.method === "GET" || endpoint.method === "DELETE" ? undefined : { token: grant.token, role: "reader" }
    const reply = await call(endpoint.method, path, key, json)
    expect({ call: `${endpoint.method} ${path}`, status: reply.status }).toMatchObject({ status: expect.any(Number) })
    expect(reply.status, `${endpoint.method} ${path}`).toBeLessThan(500)
  }
  const stream = await fetch(`${base}/v1/events/stream`, { headers: { authorization: `Bearer ${link.token}` } })
  expect(stream.status).toBe(401)
  await stream.body?.cancel()
  for (const extra of ["/openapi.json", "/metrics", "/no/such/path/tsk_notakey"]) await call("GET", extra, adminKey)
  return secrets
}

describe("logs, traces and metrics of the server process", () => {
  for (const store of storeCases) {
    it.live(`${store.name}: every endpoint called; the JSON log holds no secret, every line parses; the trace nests`, () =>
      Effect.scoped(Effect.gen(function*() {
        const env = yield* store.open
        const receiver = yield* otlpReceiver
        const adminKey = formatToken("tsk", randomBytes(32))
        const [port, untracedPort] = yield* freePorts(2)
        const server = yield* serverProcess(port!, {
          ...env,
          TESSERA_BOOTSTRAP_TOKEN: adminKey,
          TESSERA_LOG_FORMAT: "json",
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_SERVICE_NAME: "tessera-test"
        })
        const secrets = yield* Effect.promise(() => exerciseEverything(server.baseUrl, adminKey))

        // the request id: a plain one is echoed, a missing or secret-like one replaced
        const echoed = yield* Effect.promise(() => fetch(`${server.baseUrl}/healthz`, { headers: { "x-request-id": "req-42" } }))
        expect(echoed.headers.get("x-request-id")).toBe("req-42")
        const generated = yield* Effect.promise(() => fetch(`${server.baseUrl}/healthz`))
        expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/)
        const refused = yield* Effect.promise(() => fetch(`${server.baseUrl}/healthz`, { headers: { "x-request-id": adminKey } }))
        expect(refused.headers.get("x-request-id")).not.toContain("tsk_")

        // one traced request: the request span, the use case under it, SQL statements under that
        const traced = yield* Effect.promise(() =>
          fetch(`${server.baseUrl}/v1/workspaces`, { headers: { authorization: `Bearer ${adminKey}`, "x-request-id": "traced-1" } })
        )
        expect(traced.status).toBe(200)
        const metrics = yield* Effect.promise(() => fetch(`${server.baseUrl}/metrics`).then((r) => r.text()))
        expect(metrics).toMatch(/^tessera_http_requests_total\{method="GET",route="\/v1\/workspaces",status="200"\} [1-9]/m)
        expect(metrics).toMatch(/^tessera_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/check",status="200",le="\+Inf"\} 1$/m)
        expect(metrics).toMatch(/^tessera_check_requests_total\{status="200"\} 1$/m)
        expect(metrics).toMatch(/^tessera_invite_redemptions_total\{status="200"\} 1$/m)
        expect(metrics).toMatch(/^tessera_pool_connections\{state="in_use"\} \d+$/m)

        const deadline = Date.now() + 30_000
        const nested = () => {
          const byId = new Map(receiver.spans.map((s) => [s.spanId, s]))
          const under = (span: ExportedSpan, ancestor: ExportedSpan) => {
            for (let at = span; at.parentSpanId !== undefined && at.parentSpanId !== "";) {
              const parent = byId.get(at.parentSpanId)
              if (parent === undefined) return false
              if (parent.spanId === ancestor.spanId) return true
              at = parent
            }
            return false
          }
          const requestSpan = receiver.spans.find((s) =>
            s.attributes.some((a) => a.key === "http.request_id" && a.value["stringValue"] === "traced-1")
          )
          if (requestSpan === undefined) return undefined
          const useCase = receiver.spans.find((s) => s.name.startsWith("listWorkspaces") && under(s, requestSpan))
          if (useCase === undefined) return undefined
          const statement = receiver.spans.find((s) => s.name === "sql.execute" && under(s, useCase))
          return statement === undefined ? undefined : { requestSpan, useCase, statement }
        }
        while (nested() === undefined && Date.now() < deadline) yield* Effect.sleep("200 millis")
        const found = nested()
        expect(found, `spans received: ${receiver.spans.map((s) => s.name).join(", ")}`).toBeDefined()
        expect(found!.requestSpan.traceId).toBe(found!.statement.traceId)

        // the log: wait for the last request's line, then judge every line
        while (!server.output().includes("traced-1") && Date.now() < deadline) yield* Effect.sleep("100 millis")
        const lines = server.output().split("\n").filter((line) => line.length > 0)
        const entries = lines.map((line) => {
          expect(() => JSON.parse(line), line).not.toThrow()
          return JSON.parse(line) as Record<string, unknown>
        })
        const log = server.output()
        for (const marker of ["tsk_", "tsi_", "tsl_"]) expect(log).not.toContain(marker)
        for (const secret of secrets) {
          expect(log).not.toContain(secret)
          expect(log).not.toContain(createHash("sha256").update(secret).digest("hex"))
          expect(log).not.toContain(createHash("sha256").update(secret).digest("base64url"))
        }
        expect(log).not.toMatch(/[0-9a-f]{64}/)
        const requests = entries.filter((e) => e["message"] === "request")
        expect(requests.length).toBeGreaterThan(45)
        for (const line of requests) {
          expect(line).toMatchObject({
            method: expect.any(String),
            route: expect.any(String),
            status: expect.any(Number),
            ms: expect.any(Number),
            request_id: expect.any(String)
          })
        }
        expect(requests.find((e) => e["request_id"] === "traced-1")).toMatchObject({
          method: "GET",
          route: "/v1/workspaces",
          status: 200,
          principal: expect.stringMatching(/^usr_/),
          // the line leads to its trace: the ids of the request span the receiver got
          trace_id: found!.requestSpan.traceId,
          span_id: found!.requestSpan.spanId
        })
        for (const line of requests) {
          expect(line).toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/), span_id: expect.stringMatching(/^[0-9a-f]{16}$/) })
        }
        expect(requests.some((e) => typeof e["principal"] === "string" && (e["principal"] as string).startsWith("share_link:"))).toBe(true)
        expect(requests.some((e) => e["route"] === "/v1/resources/:id")).toBe(true)

        // without OTEL_EXPORTER_OTLP_ENDPOINT no span is built, and the request line names none
        const untraced = yield* serverProcess(untracedPort!, { ...env, TESSERA_BOOTSTRAP_TOKEN: adminKey, TESSERA_LOG_FORMAT: "json" })
        const plain = yield* Effect.promise(() =>
          fetch(`${untraced.baseUrl}/v1/workspaces`, { headers: { authorization: `Bearer ${adminKey}`, "x-request-id": "untraced-1" } })
        )
        expect(plain.status).toBe(200)
        while (!untraced.output().includes("untraced-1") && Date.now() < deadline + 30_000) yield* Effect.sleep("100 millis")
        const untracedLines = untraced.output().split("\n").filter((line) => line.includes('"message":"request"')).map((line) => JSON.parse(line))
        expect(untracedLines.find((e) => e["request_id"] === "untraced-1")).toMatchObject({ route: "/v1/workspaces", status: 200 })
        for (const line of untracedLines) {
          expect(line).not.toHaveProperty("trace_id")
          expect(line).not.toHaveProperty("span_id")
        }
      })), { timeout: 300_000 })
  }
})
