// The Effect client's failures are the contract's wire error classes, told
// apart with `Effect.catchTag` by their code (errors.ts): a small server in
// this process serves the contract's own workspace endpoints over a real
// socket and answers them with wire errors, and the client `makeClient`
// builds from the whole contract decodes them. What is under test is the
// client, so the server only refuses; the real server refusing a real
// `last_admin` is test/packed.test.ts.
import { FetchHttpClient, HttpApi, HttpApiBuilder, type HttpApiEndpoint, HttpApiGroup, HttpServer } from "@effect/platform"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { UserId, WorkspaceId } from "@tessera/domain"
import { Effect, Layer, Redacted, Schema } from "effect"
import { createServer, type Server } from "node:http"
import { ApiErrors, makeClient, type TesseraClient, WorkspacesGroup } from "../src/index.js"

/** One of the contract's workspace operations, exactly as the contract declares it. */
const operation = <const Name extends string>(name: Name) =>
  WorkspacesGroup.endpoints[name] as HttpApiEndpoint.HttpApiEndpoint.WithName<HttpApiGroup.HttpApiGroup.Endpoints<typeof WorkspacesGroup>, Name>

class Refusing extends HttpApi.make("refusing").add(
  HttpApiGroup.make("workspaces").add(operation("show")).add(operation("delete")).add(operation("setMemberRole"))
) {}

const RefusingLive = HttpApiBuilder.api(Refusing).pipe(Layer.provide(HttpApiBuilder.group(Refusing, "workspaces", (handlers) =>
  handlers
    .handle("show", ({ path }) => Effect.fail(new ApiErrors.NotFound({ message: `no workspace ${path.id}` })))
    .handle("delete", () => Effect.fail(new ApiErrors.Forbidden({ message: "administrators only" })))
    .handle("setMemberRole", ({ path }) =>
      Effect.fail(new ApiErrors.LastAdmin({ message: `this would leave ${path.id} without an admin`, workspace_ids: [path.id] })))
)))

const team = WorkspaceId.make("ws_3c4d5e6f708192a3b4c5d6e7f8091a2b")
const ada = UserId.make("usr_6f1c2a9d4b3e4f5a8c7d0e1f2a3b4c5d")

describe("the Effect client", () => {
  const web = HttpApiBuilder.toWebHandler(Layer.merge(RefusingLive, HttpServer.layerContext))
  let server: Server
  let baseUrl: string

  beforeAll(async () => {
    // node:http in front of the web handler: requests arrive over a socket, as from any client.
    server = createServer(async (req, res) => {
      const chunks: Array<Buffer> = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const response = await web.handler(new Request(`http://127.0.0.1${req.url}`, {
        method: req.method!,
        headers: Object.entries(req.headers).flatMap(([name, value]): Array<[string, string]> => (typeof value === "string" ? [[name, value]] : [])),
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {})
      }))
      response.headers.forEach((value, name) => res.setHeader(name, value))
      res.writeHead(response.status)
      res.end(Buffer.from(await response.arrayBuffer()))
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await web.dispose()
  })

  const client = () => makeClient(baseUrl, Redacted.make("tsk_unused"))

  it.effect("narrows last_admin with Effect.catchTag, to an ApiErrors.LastAdmin with its details", () =>
    Effect.gen(function*() {
      const tessera = yield* client()
      const refused = yield* tessera.workspaces.setMemberRole({ path: { id: team, user_id: ada }, payload: { role: "member" } }).pipe(
        Effect.as(undefined),
        Effect.catchTag("last_admin", (error) => Effect.succeed(error))
      )
      expect(refused).toBeInstanceOf(ApiErrors.LastAdmin)
      expect(refused?._tag).toBe("last_admin")
      expect(refused?.workspace_ids).toEqual([team])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.effect("narrows forbidden and not_found with Effect.catchTags, each to its own class", () =>
    Effect.gen(function*() {
      const tessera = yield* client()
      const forbidden = yield* tessera.workspaces.delete({ path: { id: team } }).pipe(
        Effect.as(undefined),
        Effect.catchTags({ forbidden: (error) => Effect.succeed(error), not_found: () => Effect.die("not this one") })
      )
      const notFound = yield* tessera.workspaces.show({ path: { id: team } }).pipe(
        Effect.as(undefined),
        Effect.catchTag("not_found", (error) => Effect.succeed(error))
      )
      expect(forbidden).toBeInstanceOf(ApiErrors.Forbidden)
      expect(notFound).toBeInstanceOf(ApiErrors.NotFound)
      expect([forbidden?._tag, notFound?.message]).toEqual(["forbidden", `no workspace ${team}`])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it("offers only the codes an operation declares (checked by tsc)", () => {
    const undeclared = (tessera: TesseraClient) =>
      // @ts-expect-error showing a workspace never answers last_admin
      Effect.catchTag(tessera.workspaces.show({ path: { id: team } }), "last_admin", () => Effect.void)
    expect(undeclared).toBeTypeOf("function")
  })

  it("keeps `_tag` off the wire: the body is the error format of docs/http.md, and encoding adds nothing", async () => {
    const reply = await fetch(`${baseUrl}/v1/workspaces/${team}/members/${ada}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ role: "member" })
    })
    expect(reply.status).toBe(409)
    expect(await reply.json()).toEqual({ error: "last_admin", message: `this would leave ${team} without an admin`, workspace_ids: [team] })
    const error = new ApiErrors.LastAdmin({ message: "m", workspace_ids: [team] })
    expect(Schema.encodeSync(ApiErrors.LastAdmin)(error)).toEqual({ error: "last_admin", message: "m", workspace_ids: [team] })
    expect(Object.keys(error)).not.toContain("_tag")
  })

  it("gives every wire error class a `_tag`: the code it answers with", () => {
    const classes = Object.entries(ApiErrors).filter(([name]) => name !== "Issue")
    expect(classes.length).toBeGreaterThan(20)
    for (const [name, Class] of classes) {
      const tag = Object.getOwnPropertyDescriptor(Class.prototype, "_tag")?.get
      expect(tag, `${name} has no _tag`).toBeTypeOf("function")
      expect(tag!.call({ error: "some_code" }), name).toBe("some_code")
    }
  })
})
