/**
 * The HTTP server under the application: Node's server listening, with one
 * request listener that offers each request to the direct routes first
 * (`direct.ts`) and hands every other one to the application, exactly as
 * `NodeHttpServer.layer` would. With `direct` off every request goes to the
 * application (the server does so when tracing is on).
 */
import { FileSystem, HttpIncomingMessage, HttpServer, HttpServerError } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { MaxBodyBytes } from "@tessera/config"
import { Effect, Layer, Option } from "effect"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import type { ListenOptions } from "node:net"
import { type DirectRoutes, makeDirectRoutes } from "./direct.js"

const make = (evaluate: () => Server, options: ListenOptions, direct: Direct) =>
  Effect.gen(function*() {
    const server = yield* Effect.acquireRelease(Effect.sync(evaluate), (server) =>
      Effect.async<void>((resume) => {
        if (!server.listening) return resume(Effect.void)
        server.close((error) => resume(error === undefined ? Effect.void : Effect.die(error)))
      }))
    yield* Effect.async<void, HttpServerError.ServeError>((resume) => {
      const onError = (cause: unknown) => resume(Effect.fail(new HttpServerError.ServeError({ cause })))
      server.on("error", onError)
      server.listen(options, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })
    const address = server.address()!
    const routes: DirectRoutes | undefined = direct.routes ? yield* makeDirectRoutes(yield* MaxBodyBytes, direct.logged) : undefined
    return HttpServer.make({
      address: typeof address === "string"
        ? { _tag: "UnixAddress", path: address }
        : { _tag: "TcpAddress", hostname: address.address === "::" ? "0.0.0.0" : address.address, port: address.port },
      serve: (app, middleware) =>
        Effect.gen(function*() {
          const handler = yield* (middleware === undefined ? NodeHttpServer.makeHandler(app) : NodeHttpServer.makeHandler(app, middleware))
          const listener = routes === undefined ? handler : (incoming: IncomingMessage, response: ServerResponse) => {
            if (!routes(incoming, response)) handler(incoming, response)
          }
          yield* Effect.addFinalizer(() => Effect.sync(() => server.off("request", listener)))
          server.on("request", listener)
        })
    })
  })

/** Whether the direct routes answer, and whether they log their requests (as the application's `requestLog` does). */
export interface Direct {
  readonly routes: boolean
  readonly logged: boolean
}

/** `NodeHttpServer.layer`, with the direct routes in front of the application when `direct.routes` is on. */
export const layer = (evaluate: () => Server, options: ListenOptions, direct: Direct) =>
  Layer.merge(
    Layer.scoped(
      HttpServer.HttpServer,
      // the platform's own bound on a body read outside the guard (`limits.ts` reads every body the API decodes)
      Effect.provideService(make(evaluate, options, direct), HttpIncomingMessage.MaxBodySize, Option.some(FileSystem.Size(10 * 1024 * 1024)))
    ),
    NodeHttpServer.layerContext
  )
