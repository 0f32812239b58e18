/**
 * Composition root of the HTTP service (`pnpm start`): reads the whole
 * configuration, then migrates the configured store, creates the first
 * system admin on an empty store (SPEC §2), and serves the API. Nothing is
 * opened, migrated or printed before every variable has been validated:
 * invalid configuration stops it with one line naming the variable.
 *
 * On a request's path (`GET /healthz` excepted, which Node answers alone):
 * the router, the body guard (`limits.ts`), the wire
 * error format (`wire.ts`), authentication and the handler, and one request
 * line appended to an in-memory log buffer (`log.ts`). Not on it: tracing
 * spans (no tracer is configured, so the platform's per-request span and the
 * use cases' spans would be built only to be dropped), any write to stdout
 * (the buffer is written once per turn of the event loop), and a trip to the
 * thread pool for the key's digest (`crypto.ts`).
 */
import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { runWithStore, Settings, up } from "@tessera/config"
import { bootstrapAdmin, type Handle, UserStore } from "@tessera/domain"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { Console, Effect, Layer, Option, Redacted } from "effect"
import { JsonLogLive, logRequest, requestLog } from "./log.js"
import { HttpAppLive } from "./server.js"

/**
 * Migrates, then bootstraps the first admin when the store has no user yet.
 * A replica that loses the bootstrap race to another one just serves.
 */
const prepare = (token: Option.Option<Redacted.Redacted<string>>) =>
  Effect.gen(function*() {
    const applied = yield* up
    if (applied.length > 0) yield* Effect.logInfo(`applied migrations ${applied.join(", ")}`)
    if ((yield* Effect.flatMap(UserStore, (users) => users.count)) > 0) return
    const created = yield* bootstrapAdmin({ handle: "admin" as Handle, apiKey: token }).pipe(
      Effect.catchTag("AlreadyBootstrapped", () => Effect.succeed(undefined))
    )
    if (created === undefined) return
    const { apiKey, user } = created
    if (Option.isNone(token)) {
      yield* Console.log(`created system admin '${user.handle}'; its API key, shown only this once:\n${Redacted.value(apiKey)}`)
    } else {
      yield* Effect.logInfo(`created system admin '${user.handle}' with the key from TESSERA_BOOTSTRAP_TOKEN`)
    }
  })

const HEALTHY = JSON.stringify({ status: "ok" })

/**
 * The Node server, with `GET /healthz` answered by Node itself: liveness says
 * the process serves requests, which needs neither the router nor a fiber,
 * and a probe polled every few seconds should cost next to nothing. It
 * answers as the API's `healthz` endpoint does and is logged like any
 * request; every other request (`HEAD /healthz`, `/healthz?…` included) goes
 * to the application.
 */
const createLiveServer = (): Server => {
  const server = createServer()
  const emit = server.emit
  server.emit = function(this: Server, event: string, ...args: Array<unknown>) {
    if (event === "request") {
      const [request, response] = args as [IncomingMessage, ServerResponse]
      if (request.url === "/healthz" && request.method === "GET") {
        const started = performance.now()
        response.writeHead(200, { "content-type": "application/json", "content-length": HEALTHY.length })
        response.end(HEALTHY)
        logRequest("GET", "/healthz", 200, started)
        return true
      }
    }
    return (emit as (...a: Array<unknown>) => boolean).call(this, event, ...args)
  } as Server["emit"]
  return server
}

const serve = (listen: { readonly port: number; readonly host: string }) =>
  HttpApiBuilder.serve(requestLog).pipe(
    HttpMiddleware.withTracerDisabledWhen(() => true),
    Layer.provide(HttpAppLive),
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(createLiveServer, listen))
  )

runWithStore(
  Effect.gen(function*() {
    const settings = yield* Settings
    yield* prepare(settings.bootstrapToken)
    return yield* Layer.launch(serve(settings.listen))
  }).pipe(Effect.withTracerEnabled(false), Effect.provide(JsonLogLive))
)
