/**
 * `tessera` (docs/configuration.md, docs/domain.md#maintenance): the composition root of the operator's command
 * line. One root command with a subcommand per area; every command first
 * checks that the configured store's schema is current (only `admin
 * bootstrap`, the first command on a new store, migrates), then acts as the
 * system.
 * The whole configuration is read before the store is opened, and only when
 * a command runs: `--help` and `--version` need neither. Any failure
 * (configuration, usage, domain or store) is one `tessera: …` line on
 * stderr and exit status 1; `doctor` exits 2 when it found violations.
 */
import { Command, HelpDoc, ValidationError } from "@effect/cli"
import { type DomainError, toWire } from "@tessera/api"
import { ConfiguredStoreLive, type FailureReport, requireCurrentSchema, runMain } from "@tessera/config"
import { Console, Effect } from "effect"
import { explainCommand } from "./commands/access.js"
import { admin } from "./commands/admin.js"
import { doctor } from "./commands/doctor.js"
import { events } from "./commands/events.js"
import { invites } from "./commands/invites.js"
import { InvalidArguments } from "./commands/shared.js"
import { users } from "./commands/users.js"
import { checkCommand, resources } from "./commands/resources.js"
import { cleanup, workspaces } from "./commands/workspaces.js"

/**
 * No command runs against a schema other than the code's, and none but
 * `admin bootstrap` (the first command on a new store) migrates: on a store
 * that is behind, a command stops, writing nothing, and says to run the
 * migrator.
 */
const onCurrentSchema = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>) =>
  Command.transformHandler(command, (handler) => Effect.zipRight(requireCurrentSchema, handler))

const tessera = Command.make("tessera").pipe(
  Command.withDescription("operate a Tessera store: admin, users, invites, workspaces, resources, check, explain, events, cleanup, doctor (--json on any command for JSON)"),
  Command.withSubcommands([
    admin,
    onCurrentSchema(users),
    onCurrentSchema(invites),
    onCurrentSchema(workspaces),
    onCurrentSchema(resources),
    onCurrentSchema(checkCommand),
    onCurrentSchema(explainCommand),
    onCurrentSchema(events),
    onCurrentSchema(cleanup),
    onCurrentSchema(doctor)
  ]),
  Command.provide(ConfiguredStoreLive)
)

const ansi = /\u001b\[[0-9;]*m/g

const oneLine = (doc: HelpDoc.HelpDoc) => HelpDoc.toAnsiText(doc).replace(ansi, "").replace(/\s+/g, " ").trim()

/**
 * The argument parser prints its own multi-line report of a usage error on
 * stderr; it is silenced so that a usage error is reported like every other
 * failure, once, by `runMain`. Commands print on stdout only.
 */
const reportUsageErrorsOnce = <A, E, R>(program: Effect.Effect<A, E | ValidationError.ValidationError, R>) =>
  Console.consoleWith((console) =>
    program.pipe(
      Effect.withConsole({ ...console, error: () => Effect.void }),
      Effect.catchIf(ValidationError.isValidationError, (error) => new InvalidArguments({ message: oneLine(error.error) }))
    )
  )

/**
 * Failures in the HTTP API's vocabulary (docs/http.md): a domain failure as
 * the wire error it answers with there, a usage error as `invalid_request`.
 */
const describe = (error: unknown): FailureReport | undefined => {
  if (error instanceof InvalidArguments) return { error: "invalid_request", message: error.message }
  if (typeof error !== "object" || error === null || !("_tag" in error)) return undefined
  const wire: object | undefined = toWire(error as DomainError) // undefined for a tag that is not a domain failure
  return wire === undefined ? undefined : ({ ...wire } as FailureReport)
}

runMain(reportUsageErrorsOnce(Command.run(tessera, { name: "tessera", version: "0.1.0" })(process.argv)), { describe })
