/**
 * `tessera admin bootstrap`: creates the first system admin of an empty
 * store and prints its API key, the only time it is ever shown. A store that
 * already has a user is left exactly as it was and the command fails.
 * When `TESSERA_BOOTSTRAP_TOKEN` supplies the key, the operator already holds
 * it, so it is not echoed (`api_key` is `null` under `--json`); it was
 * validated with the rest of the configuration before the store was opened.
 */
import { Command, Options } from "@effect/cli"
import { bootstrapAdmin, Handle, User } from "@tessera/domain"
import { Settings, up } from "@tessera/config"
import { Effect, Option, Redacted, Schema } from "effect"
import { fields } from "./output.js"
import { InvalidArguments, json, present } from "./shared.js"

const handle = Options.text("handle").pipe(
  Options.withSchema(Handle),
  Options.withDefault(Handle.make("admin")),
  Options.withDescription("handle of the first system admin")
)

const bootstrap = Command.make("bootstrap", { handle, json }, ({ handle, json }) =>
  Effect.gen(function*() {
    yield* up // the first command on a new store: it brings the schema up to date
    const configured = (yield* Settings).bootstrapToken
    const { apiKey, user } = yield* bootstrapAdmin({ handle, apiKey: configured }).pipe(
      Effect.catchTag("MalformedToken", () =>
        new InvalidArguments({ message: "TESSERA_BOOTSTRAP_TOKEN must be a well-formed tsk_ API key" }))
    )
    const printedKey = Option.isSome(configured) ? null : Redacted.value(apiKey)
    yield* present(json, {
      data: () => ({ user: Schema.encodeSync(User)(user), api_key: printedKey }),
      human: () =>
        [
          `created system admin ${user.handle}`,
          fields(Schema.encodeSync(User)(user)),
          "",
          printedKey === null
            ? "API key: the value of TESSERA_BOOTSTRAP_TOKEN"
            : `API key (shown only now, store it safely): ${printedKey}`
        ].join("\n")
    })
  })).pipe(Command.withDescription("create the first system admin of an empty store and print its API key once"))

export const admin = Command.make("admin").pipe(
  Command.withDescription("set up a store"),
  Command.withSubcommands([bootstrap])
)
