/**
 * What the package adds to openapi-fetch, against a scripted `fetch`: the
 * bearer, `unwrap` and its `TesseraError`, `pages` following `next_cursor`,
 * and the error types narrowing by code. Against a live server the packed
 * package is exercised by `packed.test.ts`.
 */
import { describe, expect, expectTypeOf, it } from "vitest"
import { createClient, type ErrorCode, type ErrorOf, TesseraError, unwrap } from "../src/index.js"

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })

/** A `fetch` answering each request with the next reply, recording what was asked. */
const scripted = (...replies: ReadonlyArray<Response>) => {
  const requests: Array<Request> = []
  const fetch = async (request: Request) => {
    requests.push(request)
    const reply = replies[requests.length - 1]
    if (reply === undefined) throw new Error(`no reply scripted for request ${requests.length}: ${request.url}`)
    return reply
  }
  return { fetch, requests }
}

const resource = (n: number) => ({
  id: `res_${String(n).padStart(32, "0")}`,
  workspace_id: `ws_${"0".repeat(32)}`,
  kind: "document",
  title: `Paper ${n}`,
  parent_id: null,
  link_reach: "restricted",
  link_role: "reader",
  created_by: null,
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z"
})

describe("createClient", () => {
  it("sends the API key as the bearer, to the base URL without its trailing slash", async () => {
    const server = scripted(json(200, { user: { id: "usr_1" } }))
    const client = createClient({ baseUrl: "http://tessera.test/", apiKey: "tsk_abc", fetch: server.fetch })
    await client.GET("/v1/me")
    expect(server.requests[0]!.url).toBe("http://tessera.test/v1/me")
    expect(server.requests[0]!.headers.get("authorization")).toBe("Bearer tsk_abc")
  })

  it("sends no Authorization header without a key", async () => {
    const server = scripted(json(200, { status: "ok" }))
    await createClient({ baseUrl: "http://tessera.test", fetch: server.fetch }).GET("/healthz")
    expect(server.requests[0]!.headers.has("authorization")).toBe(false)
  })
})

describe("errors", () => {
  it("an error reply resolves to { error } whose code narrows it to its body", async () => {
    const body = { error: "last_admin", message: "no admin would be left", workspace_ids: ["ws_1"] }
    const server = scripted(json(409, body))
    const client = createClient({ baseUrl: "http://tessera.test", apiKey: "tsk_abc", fetch: server.fetch })
    const { data, error } = await client.PATCH("/v1/workspaces/{id}/members/{user_id}", {
      params: { path: { id: "ws_1", user_id: "usr_1" } },
      body: { role: "member" }
    })
    expect(data).toBeUndefined()
    expect(error).toEqual(body)
    if (error?.error === "last_admin") expectTypeOf(error.workspace_ids).toEqualTypeOf<Array<string>>()
    // The codes this operation declares, and no others.
    type Code = NonNullable<typeof error>["error"]
    expectTypeOf<"last_admin" | "forbidden" | "unauthenticated" | "internal_error">().toMatchTypeOf<Code>()
    expectTypeOf<"invite_expired">().not.toMatchTypeOf<Code>()
    expectTypeOf<string>().not.toMatchTypeOf<Code>()
  })

  it("unwrap returns the data of a success", async () => {
    const server = scripted(json(200, { status: "ok" }))
    const client = createClient({ baseUrl: "http://tessera.test", fetch: server.fetch })
    const health = await unwrap(client.GET("/healthz"))
    expectTypeOf(health).toEqualTypeOf<{ status: "ok" }>()
    expect(health).toEqual({ status: "ok" })
  })

  it("unwrap throws a TesseraError with the status and the body, narrowed by is()", async () => {
    const body = { error: "last_admin", message: "no admin would be left", workspace_ids: ["ws_1"] }
    const client = createClient({ baseUrl: "http://tessera.test", fetch: scripted(json(409, body)).fetch })
    const thrown = await unwrap(client.DELETE("/v1/workspaces/{id}/members/{user_id}", {
      params: { path: { id: "ws_1", user_id: "usr_1" } }
    })).catch((e: unknown) => e)
    expect(thrown).toBeInstanceOf(TesseraError)
    const error = thrown as TesseraError
    expect(error.status).toBe(409)
    expect(error.body).toEqual(body)
    expect(error.message).toBe("409 last_admin: no admin would be left")
    expect(error.is("last_admin")).toBe(true)
    expect(error.is("not_found")).toBe(false)
    if (error.is("last_admin")) expectTypeOf(error.body).toEqualTypeOf<ErrorOf<"last_admin">>()
  })

  it("unwrap throws a plain Error for a reply that is not Tessera's own", async () => {
    const proxy = new Response("<html>Bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } })
    const client = createClient({ baseUrl: "http://tessera.test", fetch: scripted(proxy).fetch })
    const thrown = await unwrap(client.GET("/healthz")).catch((e: unknown) => e)
    expect(thrown).toBeInstanceOf(Error)
    expect(thrown).not.toBeInstanceOf(TesseraError)
    expect((thrown as Error).message).toMatch(/^502 /)
  })

  it("every code is a string literal, none is plain string", () => {
    expectTypeOf<"last_admin">().toMatchTypeOf<ErrorCode>()
    expectTypeOf<string>().not.toMatchTypeOf<ErrorCode>()
    expectTypeOf<ErrorOf<"last_admin">["workspace_ids"]>().toEqualTypeOf<Array<string>>()
  })
})

describe("pages", () => {
  it("asks for `limit` per page and follows next_cursor until a page comes without one", async () => {
    const server = scripted(
      json(200, { resources: [resource(1), resource(2)], next_cursor: "c1" }),
      json(200, { resources: [resource(3), resource(4)], next_cursor: "c2" }),
      json(200, { resources: [resource(5)] })
    )
    const client = createClient({ baseUrl: "http://tessera.test", apiKey: "tsk_abc", fetch: server.fetch })
    const titles: Array<string> = []
    for await (const page of client.pages("/v1/resources/{id}/children", { params: { path: { id: "res_1" } }, limit: 2 })) {
      titles.push(...page.resources.map((r) => r.title))
    }
    expect(titles).toEqual(["Paper 1", "Paper 2", "Paper 3", "Paper 4", "Paper 5"])
    expect(server.requests.map((r) => new URL(r.url).pathname + new URL(r.url).search)).toEqual([
      "/v1/resources/res_1/children?limit=2",
      "/v1/resources/res_1/children?limit=2&cursor=c1",
      "/v1/resources/res_1/children?limit=2&cursor=c2"
    ])
    expect(server.requests.every((r) => r.headers.get("authorization") === "Bearer tsk_abc")).toBe(true)
  })

  it("keeps the list's own query parameters on every page", async () => {
    const server = scripted(json(200, { invites: [], next_cursor: "c1" }), json(200, { invites: [] }))
    const client = createClient({ baseUrl: "http://tessera.test", fetch: server.fetch })
    const pages = []
    for await (const page of client.pages("/v1/invites", { params: { query: { status: "pending" } }, limit: 10 })) pages.push(page)
    expect(pages).toHaveLength(2)
    expect(server.requests.map((r) => new URL(r.url).search)).toEqual([
      "?status=pending&limit=10",
      "?status=pending&limit=10&cursor=c1"
    ])
  })

  it("a list that does not page yet comes whole, as one page", async () => {
    const server = scripted(json(200, { resources: [resource(1), resource(2), resource(3)] }))
    const client = createClient({ baseUrl: "http://tessera.test", fetch: server.fetch })
    const sizes: Array<number> = []
    for await (const page of client.pages("/v1/resources/{id}/children", { params: { path: { id: "res_1" } }, limit: 2 })) {
      sizes.push(page.resources.length)
    }
    expect(sizes).toEqual([3])
    expect(server.requests).toHaveLength(1)
  })

  it("a failed page throws TesseraError", async () => {
    const server = scripted(
      json(200, { resources: [resource(1)], next_cursor: "c1" }),
      json(410, { error: "resource_revoked", message: "revoked" })
    )
    const client = createClient({ baseUrl: "http://tessera.test", fetch: server.fetch })
    const seen: Array<number> = []
    const thrown = await (async () => {
      for await (const page of client.pages("/v1/resources/{id}/children", { params: { path: { id: "res_1" } } })) {
        seen.push(page.resources.length)
      }
    })().catch((e: unknown) => e)
    expect(seen).toEqual([1])
    expect(thrown).toBeInstanceOf(TesseraError)
    expect((thrown as TesseraError).body.error).toBe("resource_revoked")
  })

  it("only lists can be paged, and a path's parameters are required where it has them", () => {
    const client = createClient({ baseUrl: "http://tessera.test" })
    // @ts-expect-error: not a list
    void client.pages("/v1/me", {})
    // @ts-expect-error: the resource's id is missing
    void client.pages("/v1/resources/{id}/children", { limit: 10 })
  })
})
