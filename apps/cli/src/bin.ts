/**
 * `tessera` (docs/configuration.md, docs/domain.md#maintenance): the composition root of the operator's command
 * line. One root command with a subcommand per area; every command first
 * brings the configured store's schema up to date, then acts as the system.
 * The whole configuration is read before the store is opened. Any failure
 * (configuration, usage, domain or store) is one `tessera: …` line on
 * stderr and exit status 1; `doctor` exits 2 when it found violations.
 */
import { Command, HelpDoc, ValidationError } from "@effect/cli"
import { runWithStore, up } from "@tessera/config"
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

const tessera = Command.make("tessera").pipe(
  Command.withDescription("operate a Tessera store: admin, users, invites, workspaces, resources, check, explain, events, cleanup, doctor (--json on any command for JSON)"),
  Command.withSubcommands([admin, users, invites, workspaces, resources, checkCommand, explainCommand, events, cleanup, doctor]),
  // Migrating is idempotent and cheap when current, and it means no command
  // ever runs against a schema older than the code.
  Command.transformHandler((command) => Effect.zipRight(up, command))
)

const oneLine = (doc: HelpDoc.HelpDoc) =>
  HelpDoc.toAnsiText(doc).replace(/\u001b\[[0-9;]*m/g, "").replace(/\s+/g, " ").trim()

/**
 * The argument parser prints its own multi-line report of a usage error on
 * stderr; it is silenced so that a usage error is reported like every other
 * failure, once, by `runWithStore`. Commands print on stdout only.
 */
const reportUsageErrorsOnce = <A, E, R>(program: Effect.Effect<A, E | ValidationError.ValidationError, R>) =>
  Console.consoleWith((console) =>
    program.pipe(
      Effect.withConsole({ ...console, error: () => Effect.void }),
      Effect.catchIf(ValidationError.isValidationError, (error) => new InvalidArguments({ message: oneLine(error.error) }))
    )
  )

runWithStore(reportUsageErrorsOnce(Command.run(tessera, { name: "tessera", version: "0.1.0" })(process.argv)))
