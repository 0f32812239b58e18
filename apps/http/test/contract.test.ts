// The HTTP contract as its users meet it (docs/http.md): the OpenAPI document
// passes Redocly's recommended rules, summarises and describes every
// operation, types paging parameters as integers and documents the 400 as it
// is sent; every failure driven here answers a status its operation declares;
// a wrong method on a known path is 405 with `Allow`; and the small lies are
// gone (a redeemed invite's cancellation, a refused creation's workspace id,
// a missing Authorization header, a dry-run move's `updated_at`, one issue
// for one bad query parameter).
import { describe, expect, it, layer } from "@effect/vitest"
import { HttpApi, OpenApi } from "@effect/platform"
import { TesseraApi } from "@tessera/api"
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { Effect, Either, Option, Schema } from "effect"
import { createResource, people, registered } from "./fixtures/people.js"
import { as, asAdmin, byAdmin, http, type Reply, send, Served, served, storeOf, type StoreName } from "./harness.js"

const spec = OpenApi.fromApi(TesseraApi) as any

type Method = "get" | "post" | "put" | "patch" | "delete"
const METHODS: ReadonlyArray<Method> = ["get", "post", "put", "patch", "delete"]

/** The operation of the OpenAPI document serving `method` on a concrete `path`. */
const operationOf = (method: string, path: string) => {
  const segments = path.split("?")[0]!.split("/")
  for (const [template, item] of Object.entries<any>(spec.paths)) {
    const parts = template.split("/")
    if (parts.length !== segments.length) continue
    if (parts.every((part, i) => part.startsWith("{") || part === segments[i])) {
      const operation = item[method.toLowerCase()]
      if (operation !== undefined) return { template, operation }
    }
  }
  throw new Error(`no operation for ${method} ${path}`)
}

/** The reply's status is one its operation declares. */
const expectDeclared = (method: string, path: string, reply: Reply) => {
  const { operation, template } = operationOf(method, path)
  expect({ operation: `${method} ${template}`, status: reply.status, declared: Object.keys(operation.responses) }).toEqual({
    operation: `${method} ${template}`,
    status: reply.status,
    declared: expect.arrayContaining([String(reply.status)])
  })
  return reply
}

/** The wire code of a component schema (`{ error: "<code>", … }`). */
const codeOf = (ref: string): string => {
  const schema = spec.components.schemas[ref.replace("#/components/schemas/", "")]
  return schema.properties.error.enum[0]
}

/**
 * The error vocabulary per operation as docs/http.md lists it: one row per
 * operation, each error status with its codes (500 `internal_error`, which
 * every operation can answer, left out).
 */
const errorTable = () => {
  const rows = ["| Operation | Errors |", "| --- | --- |"]
  for (const [path, item] of Object.entries<any>(spec.paths)) {
    for (const method of METHODS) {
      const op = item[method]
      if (op === undefined) continue
      const errors = Object.entries<any>(op.responses)
        .filter(([status]) => Number(status) >= 400 && status !== "500")
        .map(([status, response]) => {
          const schema = response.content["application/json"].schema
          const refs: ReadonlyArray<string> = schema.anyOf ? schema.anyOf.map((s: any) => s.$ref) : [schema.$ref]
          return `${status} ${refs.map((ref) => `\`${codeOf(ref)}\``).join(", ")}`
        })
      rows.push(`| \`${method.toUpperCase()} ${path}\` | ${errors.length === 0 ? "—" : errors.join("; ")} |`)
    }
  }
  return rows.join("\n")
}

const here = dirname(fileURLToPath(import.meta.url))

const redocly = join(here, "..", "node_modules", ".bin", "redocly")

describe("the OpenAPI document", () => {
  it("passes Redocly's recommended rules with no error", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tessera-openapi-")), "openapi.json")
    writeFileSync(file, JSON.stringify(OpenApi.fromApi(TesseraApi)))
    // Redocly CLI has no Node API of its own; it runs as a child process, never blocking the test's event loop.
    const { stdout } = await promisify(execFile)(redocly, ["lint", file, "--format=json"], { maxBuffer: 16 * 1024 * 1024 })
      .catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }))
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number }
      problems: ReadonlyArray<{ ruleId: string; severity: string; message: string }>
    }
    const located = (p: (typeof report.problems)[number] & { location?: ReadonlyArray<{ pointer: string }> }) =>
      `${p.ruleId} at ${p.location?.[0]?.pointer}: ${p.message}`
    expect(report.problems.filter((p) => p.severity === "error").map(located)).toEqual([])
    expect(report.totals.errors).toBe(0)
  }, 60_000)

  it("summarises and describes every operation and group", () => {
    for (const [path, item] of Object.entries<any>(spec.paths)) {
      for (const method of METHODS) {
        const op = item[method]
        if (op === undefined) continue
        expect({ at: `${method} ${path}`, summary: typeof op.summary, description: typeof op.description }).toEqual({
          at: `${method} ${path}`,
          summary: "string",
          description: "string"
        })
      }
    }
    for (const tag of spec.tags) expect({ tag: tag.name, description: typeof tag.description }).toEqual({ tag: tag.name, description: "string" })
  })

  it("gives every request body an example that its own schema accepts", () => {
    let bodies = 0
    HttpApi.reflect(TesseraApi, {
      onGroup: () => {},
      onEndpoint: ({ endpoint }) => {
        if (Option.isNone(endpoint.payloadSchema)) return
        bodies++
        const path = endpoint.path.replace(/:(\w+)/g, "{$1}")
        const schema = spec.paths[path][endpoint.method.toLowerCase()].requestBody.content["application/json"].schema
        expect({ at: `${endpoint.method} ${path}`, examples: Array.isArray(schema.examples) && schema.examples.length > 0 }).toEqual({
          at: `${endpoint.method} ${path}`,
          examples: true
        })
        for (const example of schema.examples) {
          const decoded = Schema.decodeUnknownEither(endpoint.payloadSchema.value as unknown as Schema.Schema<unknown, unknown>)(example)
          expect({ at: `${endpoint.method} ${path}`, example, ok: Either.isRight(decoded) }).toEqual({ at: `${endpoint.method} ${path}`, example, ok: true })
        }
      }
    })
    expect(bodies).toBeGreaterThan(10)
  })

  it("is what docs/http.md lists as each operation's errors", () => {
    const doc = readFileSync(join(here, "..", "..", "..", "docs", "http.md"), "utf8")
    const listed = doc.slice(doc.indexOf("<!-- errors:begin -->") + "<!-- errors:begin -->".length, doc.indexOf("<!-- errors:end -->"))
    expect(listed.trim(), "docs/http.md's table of errors differs from the contract's: replace it with the expected one").toBe(errorTable())
  })

  it("types the paging parameters as integers", () => {
    const params = spec.paths["/v1/events"].get.parameters
    const of = (name: string) => params.find((p: any) => p.name === name).schema
    expect(of("after")).toMatchObject({ type: "integer", minimum: 0 })
    expect(of("limit")).toMatchObject({ type: "integer", minimum: 1, maximum: 1000 })
  })

  it("documents the 400 as it is sent, and no error an operation cannot return", () => {
    expect(Object.keys(spec.components.schemas)).not.toContain("HttpApiDecodeError")
    const invalid = spec.components.schemas.InvalidRequest
    expect(Object.keys(invalid.properties).sort()).toEqual(["error", "issues", "message"])
    // nothing to decode, no 400; no key, no 401
    expect(Object.keys(spec.paths["/healthz"].get.responses).sort()).toEqual(["200", "500"])
    expect(Object.keys(spec.paths["/readyz"].get.responses).sort()).toEqual(["200", "500", "503"])
    expect(Object.keys(spec.paths["/v1/me"].get.responses).sort()).toEqual(["200", "401", "500"])
    // a body can be too large or not JSON; registration needs no key
    expect(Object.keys(spec.paths["/v1/register"].post.responses).sort()).toEqual(["201", "400", "404", "409", "410", "413", "415", "422", "500"])
    // 409s name their codes
    const conflicts = JSON.stringify(spec.paths["/v1/invites/{id}"].delete.responses["409"])
    expect(conflicts).toContain("InviteAlreadyRedeemed")
    expect(conflicts).not.toContain("LastAdmin")
  })
})

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(storeOf(store)), { timeout: "120 seconds", excludeTestServices: true })(`the contract over HTTP (${store})`, (it) => {
    it.effect("/openapi.json is the contract's document and /docs shows its summaries", () =>
      Effect.gen(function*() {
        const document = yield* http("GET", "/openapi.json")
        expect(document.status).toBe(200)
        expect(document.body).toEqual(JSON.parse(JSON.stringify(spec)))
        const docs = yield* http("GET", "/docs")
        expect(docs.status).toBe(200)
        expect(docs.text).toContain(spec.paths["/v1/invites/{id}"].delete.summary)
      }))

    it.effect("cancelling a redeemed invite is 409 invite_already_redeemed", () =>
      Effect.gen(function*() {
        const user = yield* registered
        const { invites } = yield* byAdmin((admin) => admin.GET("/v1/invites", { params: { query: { status: "redeemed" } } }))
        const redeemed = invites.find((invite) => invite.redeemed_by === user.id)!
        expect(redeemed).toBeDefined()
        const reply = expectDeclared("DELETE", `/v1/invites/${redeemed.id}`, yield* asAdmin("DELETE", `/v1/invites/${redeemed.id}`))
        expect({ status: reply.status, body: reply.body }).toEqual({
          status: 409,
          body: { error: "invite_already_redeemed", message: expect.stringContaining(redeemed.id) }
        })
      }))

    it.effect("a refused workspace creation's 422 carries workspace_id: null", () =>
      Effect.gen(function*() {
        const user = yield* registered
        const reply = expectDeclared("POST", "/v1/workspaces", yield* as(user.key, "POST", "/v1/workspaces", { name: "mine", is_personal: true }))
        expect({ status: reply.status, body: reply.body }).toEqual({
          status: 422,
          body: { error: "personal_workspace_invariant", message: expect.any(String), workspace_id: null, reason: "is_personal_frozen" }
        })
      }))

    it.effect("a request without an Authorization header is told so", () =>
      Effect.gen(function*() {
        for (const path of ["/v1/me", "/v1/resources/res_" + "0".repeat(32)]) {
          const reply = expectDeclared("GET", path, yield* http("GET", path))
          expect({ status: reply.status, body: reply.body }).toEqual({
            status: 401,
            body: { error: "unauthenticated", message: expect.stringMatching(/no Authorization header/) }
          })
        }
        const basic = yield* send("GET", "/v1/me", { headers: { authorization: "Basic dXNlcjpwYXNz" } })
        expect({ status: basic.status, body: basic.body }).toEqual({
          status: 401,
          body: { error: "unauthenticated", message: expect.stringMatching(/Bearer/) }
        })
        // a key that is there but malformed is still called malformed
        const malformed = yield* as("tsk_nonsense", "GET", "/v1/me")
        expect({ status: malformed.status, body: malformed.body }).toEqual({
          status: 401,
          body: { error: "unauthenticated", message: "malformed API key" }
        })
      }))

    it.effect("a dry-run move reports the resource with its stored updated_at", () =>
      Effect.gen(function*() {
        const [owner] = yield* people(1)
        const a = yield* createResource(owner, owner.personal, "a")
        const b = yield* createResource(owner, owner.personal, "b")
        yield* Effect.sleep("20 millis")
        const path = `/v1/resources/${a.id}/move`
        const dry = expectDeclared("POST", path, yield* as(owner.key, "POST", path, { target_id: b.id, dry_run: true }))
        expect(dry.status).toBe(200)
        expect(dry.body.resource.updated_at).toBe(a.updated_at)
        const stored = yield* as(owner.key, "GET", `/v1/resources/${a.id}`)
        expect(stored.body.updated_at).toBe(a.updated_at)
      }))

    it.effect("one bad value is one issue", () =>
      Effect.gen(function*() {
        for (const [query, path] of [["limit=abc", "limit"], ["limit=0", "limit"], ["limit=1.5", "limit"], ["after=-1", "after"], ["after=x", "after"]]) {
          const reply = expectDeclared("GET", "/v1/events", yield* asAdmin("GET", `/v1/events?${query}`))
          expect({ query, status: reply.status, error: reply.body.error, paths: reply.body.issues.map((i: any) => i.path) }).toEqual({
            query,
            status: 400,
            error: "invalid_request",
            paths: [path]
          })
        }
        const abc = yield* asAdmin("GET", "/v1/events?limit=abc")
        expect(abc.body).toEqual({
          error: "invalid_request",
          message: "the request does not match its schema",
          issues: [{ path: "limit", message: "must be an integer from 1 to 1000" }]
        })
        const two = yield* asAdmin("GET", "/v1/events?limit=abc&after=x")
        expect(two.body.issues.map((i: any) => i.path).sort()).toEqual(["after", "limit"])
        expect((yield* asAdmin("GET", "/v1/events?limit=2&after=0")).status).toBe(200)
        // the same for a body: a value that misses a union, in a field that may be left out, is one issue
        const role = yield* asAdmin("POST", "/v1/invites", { kind: "registration", handle: "someone", role: "root" })
        expect({ status: role.status, issues: role.body.issues }).toEqual({
          status: 400,
          issues: [{ path: "role", message: "Expected \"admin\" | \"member\", actual \"root\"" }]
        })
      }))

    it.effect("a wrong method on a known path is 405 with Allow; an unknown path stays 404", () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [string, string, string]> = [
          ["PUT", "/v1/me", "GET, HEAD"],
          ["DELETE", "/healthz", "GET, HEAD"],
          ["GET", "/v1/register", "POST"],
          ["PUT", "/v1/resources/res_" + "0".repeat(32), "DELETE, GET, HEAD, PATCH"],
          ["POST", "/v1/workspaces/ws_x/members/usr_y", "DELETE, PATCH"],
          ["DELETE", "/v1/invites", "GET, HEAD, POST"],
          ["POST", "/openapi.json", "GET, HEAD"],
          ["PATCH", "/docs", "GET, HEAD"]
        ]
        for (const [method, path, allow] of cases) {
          const reply = yield* http(method, path)
          expect({ method, path, status: reply.status, allow: reply.headers.get("allow"), body: reply.body }).toEqual({
            method,
            path,
            status: 405,
            allow,
            body: { error: "method_not_allowed", message: expect.stringContaining(method) }
          })
        }
        // HEAD is answered wherever GET is
        expect((yield* http("HEAD", "/healthz")).status).toBe(200)
        const unknown = yield* http("PUT", "/v1/nothing-here")
        expect({ status: unknown.status, allow: unknown.headers.get("allow"), error: unknown.body.error }).toEqual({
          status: 404,
          allow: null,
          error: "not_found"
        })
      }))

    it.effect("every operation, asked without a key, with a bad path, a bad body or unknown ids, answers what it declares", () =>
      Effect.gen(function*() {
        const { adminKey } = yield* Served
        const unknownId: Record<string, string> = {
          users: "usr_", workspaces: "ws_", resources: "res_", invites: "inv_", accesses: "acc_", members: "usr_"
        }
        // `{param}` filled with an id of the right shape that names nothing, or with nonsense
        const fill = (template: string, nonsense: boolean) =>
          template.split("/").map((part, i, parts) =>
            part.startsWith("{") ? (nonsense ? "nonsense" : `${unknownId[parts[i - 1]!]}${"0".repeat(32)}`) : part
          ).join("/")
        let asked = 0
        for (const [template, item] of Object.entries<any>(spec.paths)) {
          for (const method of METHODS) {
            const op = item[method]
            // a stream never ends: its failures are driven where it is tested
            if (op === undefined || op.responses["200"]?.content?.["text/event-stream"] !== undefined) continue
            const verb = method.toUpperCase()
            const example = op.requestBody?.content["application/json"].schema.examples[0]
            const json = example === undefined ? {} : { json: example }
            const path = fill(template, false)
            const attempts: Array<readonly [string, Reply]> = [
              ["no key", yield* http(verb, path, json)],
              ["unknown ids", yield* http(verb, path, { key: adminKey, ...json })]
            ]
            if (template.includes("{")) {
              attempts.push(["a malformed id", yield* http(verb, fill(template, true), { key: adminKey, ...json })])
            }
            if (example !== undefined) {
              attempts.push(["a body that is not JSON", yield* http(verb, path, { key: adminKey, raw: "{" })])
              attempts.push(["an unknown field", yield* http(verb, path, { key: adminKey, json: { ...example, nonsense: 1 } })])
              attempts.push(["a body not declared JSON", yield* send(verb, path, { key: adminKey, headers: { "content-type": "text/plain" }, body: "x" })])
              attempts.push(["a body over the limit", yield* send(verb, path, {
                key: adminKey,
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ ...example, padding: "x".repeat(1024 * 1024) })
              })])
            }
            for (const [what, reply] of attempts) {
              asked++
              const declared = Object.keys(op.responses)
              expect({ at: `${verb} ${template}`, what, status: reply.status, declared }).toEqual({
                at: `${verb} ${template}`,
                what,
                status: reply.status,
                declared: expect.arrayContaining([String(reply.status)])
              })
            }
          }
        }
        expect(asked).toBeGreaterThan(100)
      }))

    it.effect("failures driven on each area answer statuses their operations declare", () =>
      Effect.gen(function*() {
        const [owner, other] = yield* people(2)
        const a = yield* createResource(owner, owner.personal, "a")
        const noResource = "res_" + "0".repeat(32)
        const noWorkspace = "ws_" + "0".repeat(32)
        const noUser = "usr_" + "0".repeat(32)
        const cases: ReadonlyArray<readonly [string | undefined, string, string, unknown?]> = [
          [undefined, "GET", "/v1/users"],
          [owner.key, "GET", "/v1/users"],
          [owner.key, "GET", `/v1/users/${noUser}`],
          [owner.key, "GET", "/v1/users/nonsense"],
          [owner.key, "POST", `/v1/users/${other.id}/revoke`],
          [owner.key, "DELETE", `/v1/users/${other.id}`],
          [owner.key, "GET", `/v1/workspaces/${noWorkspace}`],
          [owner.key, "PATCH", `/v1/workspaces/${owner.personal}`, { is_personal: false }],
          [owner.key, "DELETE", `/v1/workspaces/${owner.personal}`],
          [owner.key, "POST", `/v1/workspaces/${owner.personal}/members`, { user_id: other.id, role: "member" }],
          [owner.key, "POST", "/v1/workspaces", { name: 1 }],
          [other.key, "GET", `/v1/resources/${a.id}`],
          [owner.key, "GET", `/v1/resources/${noResource}`],
          [owner.key, "POST", `/v1/resources/${a.id}/move`, { target_id: a.id }],
          [owner.key, "POST", `/v1/resources/${a.id}/accesses`, { user_id: noUser, role: "reader" }],
          [owner.key, "GET", `/v1/resources/${a.id}/share-link`],
          [owner.key, "POST", "/v1/invites/redeem", { token: "tsi_nonsense" }],
          [owner.key, "POST", "/v1/invites", { kind: "registration" }],
          [owner.key, "GET", "/v1/events"],
          [undefined, "POST", "/v1/register", { token: "tsi_nonsense", sign_pub: "x", kex_pub: "y" }],
          [owner.key, "POST", "/v1/check", { checks: [{ user_id: owner.id, resource_id: a.id, action: "fly" }] }]
        ]
        for (const [key, method, path, body] of cases) {
          const reply = yield* http(method, path, { ...(key !== undefined ? { key } : {}), ...(body !== undefined ? { json: body } : {}) })
          expect(reply.status).toBeGreaterThanOrEqual(400)
          expectDeclared(method, path, reply)
        }
        // the 400 of docs/http.md, as sent
        const fly = yield* as(owner.key, "POST", "/v1/check", { checks: [{ user_id: owner.id, resource_id: a.id, action: "fly" }] })
        expect(fly.body).toEqual({
          error: "invalid_request",
          message: "the request does not match its schema",
          issues: [{ path: "checks.0.action", message: "Expected \"read\" | \"comment\" | \"edit\" | \"administer\" | \"own\", actual \"fly\"" }]
        })
        // a body that is not JSON
        const raw = yield* http("POST", "/v1/workspaces", { key: owner.key, raw: "{" })
        expectDeclared("POST", "/v1/workspaces", raw)
      }))
  })
}
