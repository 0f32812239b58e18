/**
 * `pnpm migrate <up|status|verify> [--json]`: applies, lists or verifies the
 * configured store's migrations. `verify` exits non-zero when an applied
 * file was changed or is missing. Like every entry point it reads the whole
 * configuration before it opens the store.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { ConfiguredStoreLive, runMain, status, up, verify } from "@tessera/config"

const json = Options.boolean("json").pipe(Options.withDescription("print JSON"))

const upCommand = Command.make("up", { json }, ({ json }) =>
  Effect.gen(function*() {
    const applied = yield* up
    yield* Console.log(json ? JSON.stringify({ applied }) : applied.length === 0 ? "up to date" : `applied ${applied.join(", ")}`)
  })).pipe(Command.withDescription("apply pending migrations in order"))

const statusCommand = Command.make("status", { json }, ({ json }) =>
  Effect.gen(function*() {
    const rows = yield* status
    if (json) return yield* Console.log(JSON.stringify({ migrations: rows }))
    for (const row of rows) {
      yield* Console.log(`${String(row.version).padStart(4, "0")}  ${row.name.padEnd(32)} ${row.state.padEnd(12)} ${row.applied_at ?? ""}`)
    }
  })).pipe(Command.withDescription("list every migration and its state"))

const verifyCommand = Command.make("verify", { json }, ({ json }) =>
  Effect.gen(function*() {
    const rows = yield* verify
    yield* Console.log(json ? JSON.stringify({ ok: true, migrations: rows }) : `ok: ${rows.length} migrations verified`)
  })).pipe(Command.withDescription("fail if an applied migration file changed or is missing"))

const root = Command.make("tessera-migrate").pipe(
  Command.withSubcommands([upCommand, statusCommand, verifyCommand]),
  // Configuration and store are read when a command runs: `--help` and `--version` need neither.
  Command.provide(ConfiguredStoreLive)
)

runMain(Command.run(root, { name: "tessera-migrate", version: "0.1.0" })(process.argv))
