/**
 * SQL implementation of the event log. `seq` comes from a one-row counter
 * updated inside the writer's transaction: the row lock it takes is held to
 * commit, so sequence order is commit order and a reader paging by `seq`
 * never skips an event that commits later with a smaller number. Many
 * events are inserted a bounded batch per statement. On PostgreSQL the
 * append also queues a `NOTIFY` on `EVENTS_CHANNEL`, which the server
 * delivers at commit (and never for a rollback): live readers in every
 * process wake on it (`wakeups.ts`).
 */
import { SqlClient } from "@effect/sql"
import { Event, EventLog, writing } from "@tessera/domain"
import { Effect, Layer, Schema } from "effect"
import { DbInt } from "./rows.js"
import { EVENTS_CHANNEL } from "./wakeups.js"

const EventRow = Schema.Struct({
  ...Event.fields,
  seq: DbInt,
  data: Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})
const decodeRows = Schema.decodeUnknown(Schema.Array(EventRow))
const SeqRow = Schema.Struct({ last_seq: DbInt })

/** Events per `INSERT`: seven parameters each, so a statement binds at most 700 however many a writer appends. */
export const EVENTS_PER_INSERT = 100

export const EventLogLive = Layer.effect(EventLog, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return EventLog.of({
    append: (at, events) =>
      writing(Effect.gen(function*() {
        if (events.length === 0) return
        const [counter] = yield* sql`UPDATE event_counter SET last_seq = last_seq + ${events.length} WHERE id = 1 RETURNING last_seq`
        const last = (yield* Schema.decodeUnknown(SeqRow)(counter)).last_seq
        const first = last - events.length + 1
        const rows = events.map((event, i) => ({
          seq: first + i,
          type: event.type,
          at,
          actor: event.actor,
          workspace_id: event.workspace_id ?? null,
          resource_id: event.resource_id ?? null,
          data: JSON.stringify(event.data)
        }))
        for (let from = 0; from < rows.length; from += EVENTS_PER_INSERT) {
          yield* sql`INSERT INTO events ${sql.insert(rows.slice(from, from + EVENTS_PER_INSERT))}`
        }
        yield* sql.onDialectOrElse({
          pg: () => sql`SELECT pg_notify(${EVENTS_CHANNEL}, ${String(last)})`,
          orElse: () => Effect.void
        })
      }).pipe(Effect.orDie)),
    list: ({ after, limit, type, workspaceId }) =>
      sql`SELECT seq, type, at, actor, workspace_id, resource_id, data FROM events
          WHERE seq > ${after} ${workspaceId !== undefined ? sql`AND workspace_id = ${workspaceId}` : sql``}
          ${type !== undefined ? sql`AND type = ${type}` : sql``}
          ORDER BY seq LIMIT ${limit}`.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((rows) => rows.map((row) => new Event(row))),
        Effect.orDie
      )
  })
}))
