/**
 * The live event stream's contract (docs/events.md): `GET /v1/events/stream`
 * answers Server-Sent Events, one `text/event-stream` body that stays open.
 * The OpenAPI document describes its parameters, its errors and the frames
 * it sends; a generated client should not read it as one response (use an
 * `EventSource`, `curl -N`, or any SSE reader). Authentication (API keys) is
 * attached where the group joins the Api, in `api.ts`.
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { WorkspaceId } from "@tessera/domain"
import { Schema } from "effect"
import * as Errors from "./errors.js"

/** A `seq`: a whole number from 0, `integer` in the OpenAPI document, one issue when it is not one. */
const Seq = Schema.NumberFromString.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 0),
  Schema.annotations({
    message: () => ({ message: "must be an integer at least 0", override: true }),
    jsonSchema: { type: "integer", minimum: 0 }
  })
)

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** An event type as the log names it (`resource.revoked`), for the `type` filter. */
const EventType = Schema.String.pipe(
  Schema.pattern(/^[a-z_]+(\.[a-z_]+)+$/),
  Schema.maxLength(100),
  Schema.annotations({ message: () => ({ message: "must be an event type such as resource.revoked", override: true }) })
)

const frames = "Each event is one frame: `id: <seq>`, `event: <type>` and `data: <the event as JSON, as `GET /v1/events` " +
  "lists it>`. Comment lines (`: …`) keep the connection alive: one when the stream is ready, then a heartbeat every " +
  "15 seconds of silence. Should the caller lose the right to read (key revoked, no longer an admin of the " +
  "workspace), one `event: error` frame with `{ error, message }` is sent and the stream ends. When the server " +
  "shuts down, a `: shutdown` comment is sent and the stream ends: reconnect with `Last-Event-ID` and nothing is lost."

export class EventStreamGroup extends HttpApiGroup.make("eventStream")
  .add(
    HttpApiEndpoint.get("follow", "/v1/events/stream")
      .setUrlParams(Schema.Struct({
        after: optional(Seq),
        workspace_id: optional(WorkspaceId),
        type: optional(EventType)
      }).annotations({ parseOptions: { onExcessProperty: "error", errors: "all" } }))
      .setHeaders(Schema.Struct({ "last-event-id": optional(Seq) }))
      .addSuccess(HttpApiSchema.Text({ contentType: "text/event-stream" }).annotations({
        description: "Server-Sent Events. " + frames
      }))
      .addError(Errors.InvalidRequest)
      .addError(Errors.Forbidden)
      .annotateContext(OpenApi.annotations({
        summary: "Follow events live",
        description: "Every event committed after the starting point, in `seq` order, each once, then new events as " +
          "they commit in any server process, until the client disconnects. Start after `Last-Event-ID` (what an " +
          "EventSource resends on reconnecting), else after `after`, else from now. A system admin reads every " +
          "event; anyone else names with `workspace_id` a workspace they administer and reads its events. " +
          "`workspace_id` and `type` keep only matching events. " + frames
      }))
  )
  .annotateContext(OpenApi.annotations({
    title: "Event stream",
    description: "The event log as Server-Sent Events, resumable by `seq`, for services that react to changes."
  }))
{}
