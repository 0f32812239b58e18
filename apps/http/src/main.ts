/**
 * Composition root of the HTTP service (`pnpm start`): reads configuration,
 * migrates the configured store, creates the first system admin on an empty
 * store (SPEC §2), then serves the API. Invalid configuration stops it with
 * one line naming the variable.
 */
import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { bootstrapAdmin, type Handle, parseToken, UserStore } from "@tessera/domain"
import { StoreLive, up } from "@tessera/migrator"
import { describeCause } from "@tessera/migrator/run"
import { createServer } from "node:http"
import { Cause, Config, Console, Effect, Layer, Option, Redacted } from "effect"
import { HttpAppLive } from "./server.js"

const BootstrapToken = Config.option(
  Config.redacted("TESSERA_BOOTSTRAP_TOKEN").pipe(
    Config.validate({
      message: "TESSERA_BOOTSTRAP_TOKEN must be a well-formed tsk_ API key",
      validation: (token) => Option.isSome(parseToken("tsk", Redacted.value(token)))
    })
  )
)

const Listen = Config.all({
  port: Config.port("PORT").pipe(Config.withDefault(8787)),
  host: Config.string("HOST").pipe(Config.withDefault("127.0.0.1"))
})

/**
 * Migrates, then bootstraps the first admin when the store has no user yet.
 * A replica that loses the bootstrap race to another one just serves.
 */
const prepare = Effect.gen(function*() {
  const token = yield* BootstrapToken
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

const ServerLive = HttpApiBuilder.serve(HttpMiddleware.logger).pipe(
  Layer.provide(HttpAppLive),
  HttpServer.withLogAddress,
  Layer.provide(NodeHttpServer.layerConfig(createServer, Listen))
)

Effect.zipRight(prepare, Layer.launch(ServerLive)).pipe(
  Effect.provide(StoreLive),
  Effect.tapErrorCause((cause) =>
    Cause.isInterruptedOnly(cause) ? Effect.void : Effect.sync(() => console.error(`tessera: ${describeCause(cause)}`))
  ),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
