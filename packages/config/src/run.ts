/**
 * Running an entry point against the configured store: the whole
 * configuration is read first, and only then is the store opened and the
 * program run, so that a bad value has no side effect. Any failure
 * (configuration, store, domain) is one `tessera: …` line on stderr and exit
 * status 1. It must never print a secret: messages come from this package's
 * configuration and store errors, or from tagged errors that carry none.
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, ConfigError, Console, Context, Effect, Layer } from "effect"
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
 * The settings and the store they configure, as one layer: `TesseraConfig`
 * is read whole before the store is opened. A command line provides it to
 * its commands (`Command.provide`), so it is built only when a command runs:
 * `--help` and `--version` need neither configuration nor store.
 */
export const ConfiguredStoreLive = Layer.unwrapEffect(
  Effect.map(TesseraConfig, (settings) => Layer.merge(Layer.succeed(Settings, settings), storeLayer(settings.store)))
)

const ansi = /\u001b\[[0-9;]*m/g

/** Colour only on a terminal, and never when `NO_COLOR` is set (https://no-color.org). */
const colour = process.stdout.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""

const plain = (args: ReadonlyArray<unknown>) => args.map((arg) => (typeof arg === "string" ? arg.replace(ansi, "") : arg))

/** What a program prints, without colour codes unless stdout is a terminal. */
const inColourOnlyOnATerminal = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  colour ? program : Console.consoleWith((console) =>
    Effect.withConsole(program, {
      ...console,
      log: (...args) => console.log(...plain(args)),
      error: (...args) => console.error(...plain(args))
    }))

/**
 * Runs an entry point with Node's platform services: any failure is one
 * `tessera: …` line on stderr and exit status 1; colour only on a terminal.
 */
export const runMain = <E>(program: Effect.Effect<void, E, NodeContext.NodeContext>) =>
  program.pipe(
    inColourOnlyOnATerminal,
    Effect.provide(NodeContext.layer),
    Effect.tapErrorCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Effect.sync(() => console.error(`tessera: ${describeCause(cause)}`))
    ),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )

/** `runMain` of a program that needs the configured store from the start (the server). */
export const runWithStore = <E>(
  program: Effect.Effect<void, E, Settings | ConfiguredStore | NodeContext.NodeContext>
) => runMain(Effect.provide(program, ConfiguredStoreLive))
