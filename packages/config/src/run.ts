/**
 * Running an entry point against the configured store: the whole
 * configuration is read first, and only then is the store opened and the
 * program run, so that a bad value has no side effect. Any failure
 * (configuration, store, domain) is one `tessera: …` line on stderr and exit
 * status 1. It must never print a secret: messages come from this package's
 * configuration and store errors, or from tagged errors that carry none.
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, ConfigError, Context, Effect, Layer } from "effect"
import { describeConfigError, TesseraConfig, type TesseraSettings } from "./settings.js"
import { type ConfiguredStore, storeLayer, StoreUnavailable } from "./store.js"

/** The configuration the entry point was started with, already validated whole. */
export class Settings extends Context.Tag("Tessera/Settings")<Settings, TesseraSettings>() {}

const describeFailure = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) return describeConfigError(error)
  if (error instanceof StoreUnavailable) return error.message
  if (typeof error === "object" && error !== null && "_tag" in error) {
    // Effect gives tagged errors a generated `message` on the prototype: only an own one is worth printing.
    const { _tag, message: _ignored, ...details } = { ...(error as Record<string, unknown>) }
    const message = Object.hasOwn(error, "message") ? (error as { message?: unknown }).message : undefined
    return [
      String(_tag),
      ...(typeof message === "string" && message.length > 0 ? [message] : []),
      ...Object.entries(details).map(([key, value]) => `${key}=${String(value)}`)
    ].join(": ")
  }
  return String(error)
}

/** One line for what stopped a program. */
export const describeCause = (cause: Cause.Cause<unknown>): string =>
  (Cause.isFailType(cause) || Cause.failureOption(cause)._tag === "Some"
    ? describeFailure(Cause.squash(cause))
    : Cause.pretty(cause).split("\n")[0] ?? "unexpected failure").replace(/\s+/g, " ").trim()

/**
 * Reads `TesseraConfig` whole, then runs `program` with the settings, the
 * store they configure and Node's platform services.
 */
export const runWithStore = <E>(
  program: Effect.Effect<void, E, Settings | ConfiguredStore | NodeContext.NodeContext>
) =>
  Effect.flatMap(TesseraConfig, (settings) =>
    program.pipe(
      Effect.provide(Layer.mergeAll(Layer.succeed(Settings, settings), storeLayer(settings.store), NodeContext.layer))
    )).pipe(
      Effect.tapErrorCause((cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.void : Effect.sync(() => console.error(`tessera: ${describeCause(cause)}`))
      ),
      NodeRuntime.runMain({ disableErrorReporting: true })
    )
