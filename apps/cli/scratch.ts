import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { NodeContext, NodeRuntime } from "../migrator/node_modules/@effect/platform-node/src/index.js"
const json = Options.boolean("json")
const root = Command.make("tessera", { json })
const show = Command.make("show", { id: Args.text({ name: "id" }) }, (c) => Effect.flatMap(root, (r) => Console.log(JSON.stringify({ ...c, json: r.json }))))
const users = Command.make("users").pipe(Command.withSubcommands([show]))
const app = root.pipe(Command.withSubcommands([users]))
Command.run(app, { name: "tessera", version: "0" })(process.argv).pipe(Effect.provide(NodeContext.layer), Effect.tapErrorCause(c => Console.log("ERR", String(c))), NodeRuntime.runMain)
