// Hostile requests over HTTP, on both stores: bodies that are not JSON,
// nested without end, too large (declared or streamed), empty, not UTF-8 or
// of the wrong shape; NUL and control characters in ids, filters and text;
// huge bad values. Each gets a clear 4xx in the wire format, changes
// nothing, and leaves no error in the server log; TESSERA_MAX_BODY_BYTES
// moves the size limit.
import { expect, layer } from "@effect/vitest"
import { publicKeys } from "@tessera/store-contract"
import { ConfigProvider, Effect, Layer, List, Logger, LogLevel } from "effect"
import { asAdmin, byAdmin, eventsSince, type Reply, send, served, Served, storeOf, type StoreName } from "./harness.js"

const MiB = 1024 * 1024

/** Every log line at Error level or above, and every line carrying a cause, while a suite runs. */
const errorLogs: Array<string> = []
const capturedLogs = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ cause, logLevel, message }) => {
    if (LogLevel.greaterThanEqual(logLevel, LogLevel.Error) || cause._tag !== "Empty") {
      errorLogs.push(`${logLevel.label} ${String(List.isList(message) ? List.toArray(message) : message)}`)
    }
  })
)

let counter = 0
const handle = () => `h${Date.now().toString(36)}${(counter++).toString(36)}`

/** Everything a refused request could have changed: the event log, the users and the admin's workspaces. */
const snapshot = Effect.gen(function*() {
  const events = yield* eventsSince(0)
  const users = yield* byAdmin((admin) => admin.GET("/v1/users"))
  const workspaces = yield* byAdmin((admin) => admin.GET("/v1/workspaces"))
  return JSON.stringify({ events, users, workspaces })
})

/** Runs `request` and checks that it answered `status` with `error`, changed nothing and logged no error. */
const refused = (status: number, error: string, request: Effect.Effect<Reply, never, Served>) =>
  Effect.gen(function*() {
    const before = yield* snapshot
    const logged = errorLogs.length
    const reply = yield* request
    expect([reply.status, reply.body?.error], reply.text.slice(0, 500)).toEqual([status, error])
    expect(reply.body).toMatchObject({ message: expect.any(String) })
    expect(errorLogs.slice(logged)).toEqual([])
    expect(yield* snapshot).toBe(before)
    return reply
  })

const adminKey = Effect.map(Served, (s) => s.adminKey)

/** A body of `bytes` bytes, sent chunked (no Content-Length) in 64 KiB pieces; `sent()` says how much was pulled. */
const streamed = (bytes: number, prefix = "{\"name\":\"") => {
  const chunk = new Uint8Array(64 * 1024).fill(0x61)
  let sent = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) {
        const head = new TextEncoder().encode(prefix)
        sent += head.length
        controller.enqueue(head)
      } else if (sent >= bytes) {
        controller.close()
      } else {
        sent += chunk.length
        controller.enqueue(chunk)
      }
    }
  })
  return { stream, sent: () => sent }
}

const nested = (depth: number, open = "[", close = "]") => open.repeat(depth) + close.repeat(depth)

const json = { "content-type": "application/json" }

/** A registration invite and fresh public keys: a request that would succeed if sent as JSON. */
const registration = Effect.gen(function*() {
  const minted = yield* byAdmin((admin) => admin.POST("/v1/invites", { body: { kind: "registration", handle: handle() } }))
  const keys = publicKeys()
  return { token: minted.token, sign_pub: keys.signPub, kex_pub: keys.kexPub }
})

/** A team workspace of the admin's, through the SDK; its id. */
const adminTeam = (name: string) => Effect.map(byAdmin((admin) => admin.POST("/v1/workspaces", { body: { name } })), (w) => w.id)

/** A root resource in one of the admin's workspaces, through the SDK; its id. */
const adminResource = (workspaceId: string, title: string) =>
  Effect.map(
    byAdmin((admin) => admin.POST("/v1/workspaces/{id}/resources", { params: { path: { id: workspaceId } }, body: { title } })),
    (r) => r.id
  )

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(storeOf(store)).pipe(Layer.provide(capturedLogs)), { timeout: "180 seconds", excludeTestServices: true })(
    `hostile requests (${store})`,
    (it) => {
      it.effect("a body that is not application/json is 415 on every body endpoint, registration included", () =>
        Effect.gen(function*() {
          const key = yield* adminKey
          const fields = yield* registration
          const form = new FormData()
          for (const [k, v] of Object.entries(fields)) form.append(k, v)
          yield* refused(415, "unsupported_media_type", send("POST", "/v1/register", { body: form }))
          yield* refused(415, "unsupported_media_type", send("POST", "/v1/register", { body: new URLSearchParams(fields) }))
          yield* refused(
            415,
            "unsupported_media_type",
            send("POST", "/v1/register", { headers: { "content-type": "text/plain" }, body: JSON.stringify(fields) })
          )
          // No content type at all is not JSON either.
          yield* refused(415, "unsupported_media_type", send("POST", "/v1/register", { body: new TextEncoder().encode(JSON.stringify(fields)) }))
          yield* refused(
            415,
            "unsupported_media_type",
            send("POST", "/v1/register", { headers: { "content-type": "application/json-patch+json" }, body: JSON.stringify(fields) })
          )

          const workspaceForm = new FormData()
          workspaceForm.append("name", "form")
          yield* refused(415, "unsupported_media_type", send("POST", "/v1/workspaces", { key, body: workspaceForm }))
          yield* refused(415, "unsupported_media_type", send("POST", "/v1/workspaces", { key, body: new URLSearchParams({ name: "form" }) }))
          const team = yield* adminTeam("media")
          yield* refused(415, "unsupported_media_type", send("PATCH", `/v1/workspaces/${team}`, { key, body: new URLSearchParams({ name: "renamed" }) }))
          yield* refused(415, "unsupported_media_type", send("POST", `/v1/workspaces/${team}/resources`, { key, body: workspaceForm }))

          // The same registration as JSON, with a charset parameter and odd case, still works: nothing above spent the invite.
          const ok = yield* send("POST", "/v1/register", { headers: { "content-type": "Application/JSON; charset=utf-8" }, body: JSON.stringify(fields) })
          expect(ok.status, ok.text).toBe(201)
        }))

      it.effect("deeply nested JSON is 400 invalid_request, never a stack overflow", () =>
        Effect.gen(function*() {
          const key = yield* adminKey
          const fields = yield* registration
          for (const depth of [5_000, 20_000]) {
            yield* refused(400, "invalid_request", send("POST", "/v1/register", { headers: json, body: nested(depth) }))
            yield* refused(
              400,
              "invalid_request",
              send("POST", "/v1/register", { headers: json, body: JSON.stringify(fields).replace(/}$/, `,"x":${nested(depth)}}`) })
            )
            yield* refused(
              400,
              "invalid_request",
              send("POST", "/v1/workspaces", { key, headers: json, body: `{"name":"x","bundles":${nested(depth)}}` })
            )
            yield* refused(400, "invalid_request", send("POST", "/v1/workspaces", { key, headers: json, body: nested(depth, "{\"a\":", "}").replace(/}+$/, "1$&") }))
          }
          // Brackets inside strings are text, not nesting.
          const bracketed = yield* send("POST", "/v1/workspaces", { key, headers: json, body: JSON.stringify({ name: "[".repeat(150) }) })
          expect(bracketed.status, bracketed.text).toBe(201)
          // A modest depth is still judged by the schema, not by the guard.
          const shallow = yield* send("POST", "/v1/workspaces", { key, headers: json, body: `{"name":"x","bundles":${nested(10)}}` })
          expect([shallow.status, shallow.body.error]).toEqual([400, "invalid_request"])
          expect(shallow.body.issues.length).toBeGreaterThan(0)
        }))

      it.effect("an array of more items than any list may hold is 400 before it is decoded", () =>
        Effect.gen(function*() {
          const key = yield* adminKey
          const huge = `{"checks":[${Array.from({ length: 200_000 }, () => "0").join(",")}]}`
          const reply = yield* refused(400, "invalid_request", send("POST", "/v1/check", { key, headers: json, body: huge }))
          expect(reply.text.length).toBeLessThan(4096)
        }))

      it.effect("a body over the limit is 413 before parsing, by Content-Length", () =>
        Effect.gen(function*() {
          const key = yield* adminKey
          const fields = yield* registration
          const big = JSON.stringify({ ...fields, pad: "a".repeat(2 * MiB) })
          const declared = yield* refused(413, "payload_too_large", send("POST", "/v1/register", { headers: json, body: big }))
          expect(declared.body.max_bytes).toBe(MiB)
          // The body was not read, so the connection is not kept for another request.
          expect(declared.headers.get("connection")).toBe("close")
          yield* refused(413, "payload_too_large", send("POST", "/v1/workspaces", { key, headers: json, body: JSON.stringify({ name: "a".repeat(2 * MiB) }) }))
          // Not JSON and too large: whichever is answered, it is a 4xx and nothing is read.
          const both = yield* send("POST", "/v1/workspaces", { key, body: new URLSearchParams({ name: "a".repeat(2 * MiB) }) })
          expect([413, 415]).toContain(both.status)
          // Just under the limit (whitespace is JSON) is read and judged.
          const padded = JSON.stringify({ name: "under the limit" }) + " ".repeat(MiB - 100)
          const under = yield* send("POST", "/v1/workspaces", { key, headers: json, body: padded })
          expect(under.status, under.text).toBe(201)
        }))

      it.effect("a chunked body over the limit is 413; the server stops reading it", () =>
        Effect.gen(function*() {
          const key = yield* adminKey
          const first = streamed(2 * MiB)
          const cut = yield* refused(413, "payload_too_large", send("POST", "/v1/register", { headers: json, body: first.stream }))
          expect(cut.headers.get("connection")).toBe("close")
          const second = streamed(2 * MiB)
          yield* refused(413, "payload_too_large", send("POST", "/v1/workspaces", { key, headers: json, body: second.stream }))
          // A client streaming 256 MiB is cut off: it cannot push much past the limit and the socket buffers.
          const endless = streamed(256 * MiB)
          const reply = yield* send("POST", "/v1/workspaces", { key, headers: json, body: endless.stream })
          expect(reply.status).toBe(413)
          expect(endless.sent()).toBeLessThan(64 * MiB)
          // Nor is a body read for a caller who is not authenticated.
          const stranger = streamed(256 * MiB)
          const unauthenticated = yield* send("POST", "/v1/workspaces", { key: "tsk_nobody", headers: json, body: stranger.stream })
          expect([unauthenticated.status, unauthenticated.headers.get("connection")]).toEqual([401, "close"])
          expect(stranger.sent()).toBeLessThan(64 * MiB)
          // A chunked body under the limit is read and judged.
          const small = streamed(1000, "{\"name\":\"chunked\"}" + " ".repeat(100))
          const ok = yield* send("POST", "/v1/workspaces", { key, headers: json, body: small.stream })
          expect([ok.status, ok.body?.error]).toEqual([400, "invalid_request"])
        }))

      it.effect("empty, non-UTF-8, null, scalar and wrongly shaped JSON bodies are 400", () =>
        Effect.gen(function*() {
          const key = yield* adminKey
          const bodies: ReadonlyArray<string | Uint8Array> = [
            "",
            "   ",
            "null",
            "[]",
            "[{\"name\":\"x\"}]",
            "\"x\"",
            "42",
            "true",
            "{\"name\":",
            "{\"name\":\"x\"} {}",
            "\uFEFF{\"name\":\"x\"}",
            new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"name":"\xff\xfe"}
            new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]) // a lone surrogate, UTF-8 encoded
          ]
          for (const body of bodies) {
            yield* refused(400, "invalid_request", send("POST", "/v1/workspaces", { key, headers: json, body }))
            yield* refused(400, "invalid_request", send("POST", "/v1/register", { headers: json, body }))
          }
          const team = yield* adminTeam("shapes")
          for (const body of ["", "null", "[]", "[1]"]) {
            yield* refused(400, "invalid_request", send("PATCH", `/v1/workspaces/${team}`, { key, headers: json, body }))
          }
        }))

      it.effect("NUL and control characters in path ids and query filters are 400", () =>
        Effect.gen(function*() {
          const key = yield* adminKey
          const team = yield* adminTeam("ids")
          const resource = yield* adminResource(team, "doc")
          for (const bad of ["a%00b", "acc_%00", "acc_0%01", `acc_${"0".repeat(31)}%00`, "%7F", "a%0Ab"]) {
            yield* refused(400, "invalid_request", send("DELETE", `/v1/resources/${resource}/accesses/${bad}`, { key }))
            yield* refused(
              400,
              "invalid_request",
              send("PATCH", `/v1/resources/${resource}/accesses/${bad}`, { key, headers: json, body: "{\"role\":\"reader\"}" })
            )
          }
          for (const path of [
            "/v1/invites?workspace_id=a%00b",
            "/v1/invites?resource_id=a%00b",
            `/v1/invites?workspace_id=${team}%00`,
            "/v1/invites?status=pending%00",
            "/v1/events?workspace_id=a%00b",
            `/v1/events?workspace_id=${team}%01`,
            "/v1/workspaces/ws_%00",
            `/v1/resources/${resource}%00`,
            "/v1/users/usr_%00",
            "/v1/invites/inv_%00"
          ]) {
            yield* refused(400, "invalid_request", send("GET", path, { key }))
          }
          // Well-formed ids still pass: an unknown access is not found, a known filter lists.
          const unknown = yield* send("DELETE", `/v1/resources/${resource}/accesses/acc_${"0".repeat(32)}`, { key })
          expect([unknown.status, unknown.body.error]).toEqual([404, "not_found"])
          expect((yield* asAdmin("GET", `/v1/invites?workspace_id=${team}`)).status).toBe(200)
          expect((yield* asAdmin("GET", `/v1/invites?resource_id=${resource}`)).status).toBe(200)
          expect((yield* asAdmin("GET", `/v1/events?workspace_id=${team}`)).status).toBe(200)
        }))

      it.effect("NUL in body text (names, titles, about, keys, list items) is 400 and nothing is stored", () =>
        Effect.gen(function*() {
          const key = yield* adminKey
          const team = yield* adminTeam("text")
          const resource = yield* adminResource(team, "doc")
          for (
            const [method, path, body, at] of [
              ["POST", "/v1/workspaces", { name: "a\u0000b" }, "name"],
              ["POST", "/v1/workspaces", { name: "x", bundles: ["ok", "a\u0000b"] }, "bundles.1"],
              ["POST", "/v1/workspaces", { name: "x", "a\u0000b": 1 }, "a\u0000b"],
              ["POST", `/v1/workspaces/${team}/resources`, { title: "a\u0000b" }, "title"],
              ["PATCH", `/v1/workspaces/${team}`, { about: "a\u0000b" }, "about"],
              ["PATCH", `/v1/resources/${resource}`, { title: "a\u0000b" }, "title"],
              ["POST", "/v1/invites", { kind: "registration", handle: "a\u0000b" }, "handle"]
            ] as const
          ) {
            const reply = yield* refused(400, "invalid_request", send(method, path, { key, headers: json, body: JSON.stringify(body) }))
            expect(reply.body.issues).toContainEqual({ path: at, message: expect.any(String) })
          }
        }))

      // The kernel's text schemas refuse the other control characters; these hold once they do.
      it.effect("other control characters in names, titles and about are 400 and nothing is stored", () =>
        Effect.gen(function*() {
          const key = yield* adminKey
          const team = yield* adminTeam("control")
          const resource = yield* adminResource(team, "doc")
          for (const bad of ["a\u0001b", "a\u001bb", "a\u007fb"]) {
            yield* refused(400, "invalid_request", send("POST", "/v1/workspaces", { key, headers: json, body: JSON.stringify({ name: bad }) }))
            yield* refused(400, "invalid_request", send("POST", `/v1/workspaces/${team}/resources`, { key, headers: json, body: JSON.stringify({ title: bad }) }))
            yield* refused(400, "invalid_request", send("PATCH", `/v1/workspaces/${team}`, { key, headers: json, body: JSON.stringify({ about: bad }) }))
            yield* refused(400, "invalid_request", send("PATCH", `/v1/resources/${resource}`, { key, headers: json, body: JSON.stringify({ title: bad }) }))
          }
        }))

      it.effect("a validation message quotes only a short prefix of the bad value", () =>
        Effect.gen(function*() {
          const key = yield* adminKey
          const long = "x".repeat(500_000)
          for (
            const reply of [
              yield* refused(400, "invalid_request", send("POST", "/v1/workspaces", { key, headers: json, body: JSON.stringify({ name: long }) })),
              yield* refused(400, "invalid_request", send("POST", "/v1/workspaces", { key, headers: json, body: JSON.stringify({ name: 1, [long]: 1 }) })),
              yield* refused(400, "invalid_request", send("POST", "/v1/workspaces", { key, headers: json, body: JSON.stringify({ name: [long, long] }) })),
              yield* refused(400, "invalid_request", send("POST", "/v1/check", { key, headers: json, body: JSON.stringify({ checks: [{ user_id: long }] }) })),
              yield* refused(400, "invalid_request", send("GET", `/v1/events?workspace_id=ws_${"z".repeat(8000)}`, { key }))
            ]
          ) {
            expect(reply.body.issues.length).toBeGreaterThan(0)
            expect(reply.text.length).toBeLessThan(4096)
            for (const issue of reply.body.issues) {
              expect(issue.message).not.toMatch(/x{65}|z{65}/)
              expect(issue.path).not.toMatch(/x{65}/)
            }
          }
        }))
    }
  )
}

layer(
  served(storeOf("sqlite")).pipe(
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["TESSERA_MAX_BODY_BYTES", "4096"]]))))
  ),
  { timeout: "120 seconds", excludeTestServices: true }
)("TESSERA_MAX_BODY_BYTES", (it) => {
  it.effect("sets the limit, declared or streamed", () =>
    Effect.gen(function*() {
      const key = yield* adminKey
      const over = JSON.stringify({ name: "over" }) + " ".repeat(4096)
      const declared = yield* refused(413, "payload_too_large", send("POST", "/v1/workspaces", { key, headers: json, body: over }))
      expect(declared.body.max_bytes).toBe(4096)
      yield* refused(413, "payload_too_large", send("POST", "/v1/workspaces", { key, headers: json, body: streamed(5000).stream }))
      const under = yield* send("POST", "/v1/workspaces", { key, headers: json, body: JSON.stringify({ name: "under" }) + " ".repeat(4000) })
      expect(under.status, under.text).toBe(201)
    }))
})
