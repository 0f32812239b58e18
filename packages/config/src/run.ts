/**
 * Running an entry point against the configured store: the whole
 * configuration is read first, and only then is the store opened and the
 * program run, so that a bad value has no side effect. Any failure
 * (configuration, store, domain) is one line on stderr — `tessera: …`, or a
 * JSON object under `--json` — and exit status 1. It must never print a
 * secret: messages come from this package's configuration and store errors,
 * or from tagged errors that carry none.
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, ConfigError, Console, Context, Effect, Layer } from "effect"
import { describeConfigError, TesseraConfig, type TesseraSettings } from "./settings.js"
import { type ConfiguredStore, SchemaNotCurrent, storeLayer, StoreUnavailable } from "./store.js"

/** The configuration the entry point was started with, already validated whole. */
export class Settings extends Context.Tag("Tessera/Settings")<Settings, TesseraSettings>() {}

/**
 * A failure as its reader gets it: a code from the HTTP API's vocabulary
 * (docs/http.md) or one of the entry points' own (`invalid_configuration`,
 * `store_unavailable`, `schema_not_current`, `internal_error`, …), one
 * human sentence, and the details a script needs. Never an internal name.
 */
export interface FailureReport {
  readonly error: string
  readonly message: string
  readonly [detail: string]: unknown
}

/** `SomeFailure` → `some_failure`: the code of a tagged failure no one gave a code. */
const snake = (tag: string) => tag.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim()

/** The report of an expected failure the app did not describe: this package's own, or any tagged error with a message. */
const reportOfFailure = (error: unknown): FailureReport => {
  if (ConfigError.isConfigError(error)) return { error: "invalid_configuration", message: describeConfigError(error) }
  if (error instanceof StoreUnavailable) return { error: "store_unavailable", message: error.message }
  if (error instanceof SchemaNotCurrent) return { error: "schema_not_current", message: error.message }
  if (typeof error === "object" && error !== null && "_tag" in error) {
    // Effect gives tagged errors a generated `message` on the prototype: only an own one is worth printing.
    const own = Object.hasOwn(error, "message") ? (error as { message?: unknown }).message : undefined
    const { _tag, message: _message, ...details } = { ...(error as Record<string, unknown>) }
    const code = snake(String(_tag))
    return { ...details, error: code, message: typeof own === "string" && own.length > 0 ? own : code.replace(/_/g, " ") }
  }
  return { error: "internal_error", message: String(error) }
}

/**
 * What stopped a program, as a report: `describe` (the app's own vocabulary,
 * e.g. its domain failures' wire errors) first, then this package's; a
 * defect is `internal_error` with the first line of its cause.
 */
export const reportOf = (
  cause: Cause.Cause<unknown>,
  describe: (error: unknown) => FailureReport | undefined = () => undefined
): FailureReport => {
  if (Cause.failureOption(cause)._tag === "Some") {
    const error = Cause.squash(cause)
    const report = describe(error) ?? reportOfFailure(error)
    return { ...report, message: oneLine(report.message) }
  }
  return { error: "internal_error", message: oneLine(Cause.pretty(cause).split("\n")[0] ?? "unexpected failure") }
}

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

/** `--json` on the command line: failures are then one JSON object. */
const jsonRequested = () => process.argv.slice(2).includes("--json")

/**
 * Runs an entry point with Node's platform services. Any failure is one line
 * on stderr and exit status 1: `tessera: <message>`, or under `--json` the
 * report itself as one JSON object (`{ "error", "message", …details }`).
 * `describe` gives the app's own failures their code. Colour only on a
 * terminal.
 */
export const runMain = <E>(
  program: Effect.Effect<void, E, NodeContext.NodeContext>,
  options: { readonly describe?: (error: unknown) => FailureReport | undefined } = {}
) =>
  program.pipe(
    inColourOnlyOnATerminal,
    Effect.provide(NodeContext.layer),
    Effect.tapErrorCause((cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.void
      const report = reportOf(cause, options.describe)
      return Effect.sync(() => console.error(jsonRequested() ? JSON.stringify(report) : `tessera: ${report.message}`))
    }),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )

/** `runMain` of a program that needs the configured store from the start (the server). */
export const runWithStore = <E>(
  program: Effect.Effect<void, E, Settings | ConfiguredStore | NodeContext.NodeContext>
) => runMain(Effect.provide(program, ConfiguredStoreLive))
