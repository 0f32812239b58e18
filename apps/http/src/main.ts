/**
 * Composition root of the HTTP service (`pnpm start`): reads the whole
 * configuration, then migrates the configured store, creates the first
 * system admin on an empty store (docs/operations.md), and serves the API. Nothing is
 * opened, migrated or printed before every variable has been validated:
 * invalid configuration stops it with one line naming the variable.
 *
 * On a request's path: its request id (`lifecycle.ts`), then, unless it is
 * one of the direct routes' plain requests (`direct.ts`, answered by the
 * same schemas and use cases without the framework's request objects), the
 * router, the body guard (`limits.ts`), the wire error format (`wire.ts`),
 * authentication and the handler; either way its count for `/metrics` and
 * one request line appended to an in-memory log buffer (`log.ts`). Not on it: any write
 * to stdout (the buffer is written once per turn of the event loop), a trip
 * to the thread pool for the key's digest (`crypto.ts`), and, unless
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set, tracing spans (with no exporter the
 * platform's per-request span and the use cases' spans would be built only
 * to be dropped, so the tracer is off).
 *
 * On SIGTERM (docs/operations.md, "Shutdown") the server stops accepting,
 * ends its open event streams at once (`stream.ts`), lets the requests in
 * flight finish within `TESSERA_SHUTDOWN_TIMEOUT`, and only then is the
 * store closed; the process exits 0.
 */
import { OtlpSerialization, OtlpTracer } from "@effect/opentelemetry"
import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { runWithStore, Settings, type TracingSettings, up } from "@tessera/config"
import { bootstrapAdmin, type Handle, UserStore } from "@tessera/domain"
import { Console, Effect, Layer, Option, Redacted } from "effect"
import { PoolUsage } from "@tessera/store-sql"
import { makeServer } from "./lifecycle.js"
import { reportPoolUsage } from "./metrics.js"
import { routeOf } from "./routes.js"
import { requestLog, withLog } from "./log.js"
import { HttpAppLive } from "./server.js"
import { NodeCryptoLive } from "./crypto.js"
import * as Listener from "./listener.js"

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

const serve = (listen: { readonly port: number; readonly host: string }, server: ReturnType<typeof makeServer>, traced: boolean) =>
  HttpApiBuilder.serve(requestLog).pipe(
    HttpMiddleware.withTracerDisabledWhen(() => !traced),
    HttpMiddleware.withSpanNameGenerator((request) => `${request.method} ${routeOf(request.method, request.url.split("?")[0]!)}`),
    Layer.provide(HttpAppLive),
    HttpServer.withLogAddress,
    // the direct routes only when untraced: with tracing on every request has its span (docs/http.md)
    Layer.provide(Listener.layer(() => server.server, listen, { routes: !traced, logged: true })),
    Layer.provide(NodeCryptoLive)
  )

/** Spans exported as OTLP/HTTP JSON to the collector; its own requests are not traced. */
const tracerLayer = (tracing: TracingSettings) =>
  OtlpTracer.layer({
    url: `${tracing.endpoint}/v1/traces`,
    resource: { serviceName: tracing.serviceName },
    exportInterval: "1 second",
    shutdownTimeout: "3 seconds"
  }).pipe(Layer.provide([OtlpSerialization.layerJson, NodeHttpClient.layerUndici]))

/**
 * Serves until interrupted (SIGTERM, SIGINT); then drains before the
 * server's own finalizers run (finalizers run last-added first), and the
 * store closes after them.
 */
const serveUntilStopped = (settings: Settings["Type"]) =>
  Effect.scoped(Effect.gen(function*() {
    const server = makeServer()
    const pool = yield* Effect.serviceOption(PoolUsage)
    if (Option.isSome(pool)) reportPoolUsage(pool.value.read)
    yield* Layer.buildWithScope(serve(settings.listen, server, Option.isSome(settings.tracing)), yield* Effect.scope)
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Effect.logInfo("shutting down: no new connections, finishing the requests in flight")
        const finished = yield* server.drain(settings.shutdownTimeoutMs)
        const left = server.inFlight()
        yield* Effect.logInfo(
          left === 0
            ? `drained: ${finished} request${finished === 1 ? "" : "s"} finished`
            : `shutdown timeout: ${left} request${left === 1 ? "" : "s"} cut short`
        )
      })
    )
    return yield* Effect.never
  }))

runWithStore(
  Effect.gen(function*() {
    const settings = yield* Settings
    const program = Effect.zipRight(prepare(settings.bootstrapToken), serveUntilStopped(settings)).pipe(
      withLog(settings.logFormat)
    )
    return yield* Option.match(settings.tracing, {
      onNone: () => Effect.withTracerEnabled(program, false),
      onSome: (tracing) => Effect.provide(program, tracerLayer(tracing))
    })
  })
)
