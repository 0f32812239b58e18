/**
 * Running a command-line program against the configured store: one line on
 * stderr for any failure (configuration, domain or store), exit status 1.
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, ConfigError, Effect, Layer } from "effect"
import { type ConfiguredStore, describeConfigError, StoreLive } from "./store.js"

const describeFailure = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) return describeConfigError(error)
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

export const describeCause = (cause: Cause.Cause<unknown>): string =>
  Cause.isFailType(cause) || Cause.failureOption(cause)._tag === "Some"
    ? describeFailure(Cause.squash(cause))
    : Cause.pretty(cause).split("\n")[0] ?? "unexpected failure"

/** Runs `program` with the configured store and Node's platform services. */
export const runWithStore = <E>(program: Effect.Effect<void, E, ConfiguredStore | NodeContext.NodeContext>) =>
  program.pipe(
    Effect.provide(Layer.merge(StoreLive, NodeContext.layer)),
    Effect.tapErrorCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Effect.sync(() => console.error(`tessera: ${describeCause(cause)}`))
    ),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )
