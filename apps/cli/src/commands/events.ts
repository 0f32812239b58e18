/**
 * `tessera events tail`: one page of the audit log in `seq` order, read as
 * the system. Events never hold a secret, and this command only reads.
 */
import { Command, Options } from "@effect/cli"
import { EventsCursor } from "@tessera/api"
import { Event, listEvents, SystemActor } from "@tessera/domain"
import { Effect, Option, Schema } from "effect"
import { table } from "./output.js"
import { cursor, decodeCursor, json, limit, present } from "./shared.js"

const encodeEvent = (event: Event) => Schema.encodeSync(Event)(event)

const after = Options.integer("after").pipe(
  Options.withSchema(Schema.NonNegativeInt),
  Options.withDefault(0),
  Options.withDescription("only events with a seq greater than this")
)

const workspaceId = Options.text("workspace-id").pipe(Options.optional, Options.withDescription("only this workspace's events"))

const tail = Command.make("tail", { after, limit, cursor, workspaceId, json }, (query) =>
  Effect.gen(function*() {
    const { events, more, nextAfter } = yield* listEvents(SystemActor, {
      after: (yield* decodeCursor(EventsCursor, query.cursor)) ?? query.after,
      limit: query.limit,
      workspaceId: Option.getOrUndefined(query.workspaceId)
    })
    yield* present(query.json, {
      data: () => ({
        events: events.map(encodeEvent),
        next_after: nextAfter,
        ...(more ? { next_cursor: Schema.encodeSync(EventsCursor)(nextAfter) } : {})
      }),
      human: () =>
        table(
          ["SEQ", "AT", "TYPE", "ACTOR", "WORKSPACE", "RESOURCE", "DATA"],
          events.map((e) => [e.seq, e.at, e.type, e.actor, e.workspace_id, e.resource_id, e.data]),
          `no events after ${query.after}`
        ) + (events.length > 0 ? `\nnext page: --after ${nextAfter}` : "")
    })
  })).pipe(Command.withDescription("print a page of events after --after (or after the page that printed --cursor's next_cursor), oldest first"))

export const events = Command.make("events").pipe(
  Command.withDescription("read the audit log"),
  Command.withSubcommands([tail])
)
