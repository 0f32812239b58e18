/**
 * Composition root of the HTTP service (`pnpm start`): reads the whole
 * configuration, then migrates the configured store, creates the first
 * system admin on an empty store (docs/operations.md), and serves the API. Nothing is
 * opened, migrated or printed before every variable has been validated:
 * invalid configuration stops it with one line naming the variable.
 *
 * On a request's path: the router, the body guard (`limits.ts`), the wire
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
import { createServer } from "node:http"
import { Console, Effect, Layer, Option, Redacted } from "effect"
import { JsonLogLive, requestLog } from "./log.js"
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

const serve = (listen: { readonly port: number; readonly host: string }) =>
  HttpApiBuilder.serve(requestLog).pipe(
    HttpMiddleware.withTracerDisabledWhen(() => true),
    Layer.provide(HttpAppLive),
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(createServer, listen))
  )

runWithStore(
  Effect.gen(function*() {
    const settings = yield* Settings
    yield* prepare(settings.bootstrapToken)
    return yield* Layer.launch(serve(settings.listen))
  }).pipe(Effect.withTracerEnabled(false), Effect.provide(JsonLogLive))
)
