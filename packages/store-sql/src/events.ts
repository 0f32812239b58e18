/**
 * SQL implementation of the event log (docs/events.md, "Ordering"): `seq`
 * order is the order events become visible, so a reader paging by `seq`
 * never skips an event that commits later with a smaller number.
 *
 * - PostgreSQL: an append queues its events unnumbered in `event_queue`,
 *   taking no lock another writer needs. `newestSeq` numbers what is queued
 *   and committed (`tessera_sequence_events`, migration 0006): the
 *   transactor after a transaction that appended, every reader before it
 *   reads. Numbering queues a `NOTIFY` on `EVENTS_CHANNEL`, delivered at its
 *   commit: live readers in every process wake on it (`wakeups.ts`).
 * - SQLite: writers are serialised by the database, so an append numbers
 *   its events from the one-row counter in its own transaction.
 *
 * Many events are inserted a bounded batch per statement.
 */
import { SqlClient } from "@effect/sql"
import { Event, EventLog, type NewEvent, type Timestamp, writing } from "@tessera/domain"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { DbInt } from "./rows.js"

const EventRow = Schema.Struct({
  ...Event.fields,
  seq: DbInt,
  data: Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})
const decodeRows = Schema.decodeUnknown(Schema.Array(EventRow))
const SeqRow = Schema.Struct({ last_seq: DbInt })

/**
 * The PostgreSQL notification channel on which `tessera_sequence_events`
 * announces the newest `seq` each time it numbers events (`wakeups.ts`).
 */
export const EVENTS_CHANNEL = "tessera_events"

/** PostgreSQL's numbering of the queue (`tessera_sequence_events`, migration 0006), answering the newest `seq`. */
export const NUMBERING_TEXT = "SELECT tessera_sequence_events() AS last_seq"

/**
 * The newest `seq` in the log. On PostgreSQL it first moves every committed
 * queued event into the log (`tessera_sequence_events`, migration 0006), so a
 * caller reads at least every event committed before it asked; nothing
 * queued costs one probe and no lock. SQLite numbers at append: the counter.
 */
export const newestSeq = (sql: SqlClient.SqlClient) =>
  sql.unsafe<Record<string, unknown>>(
    sql.onDialectOrElse({ pg: () => NUMBERING_TEXT, orElse: () => "SELECT last_seq FROM event_counter WHERE id = 1" })
  ).pipe(
    // after every PostgreSQL commit that appended: a constant text, sent without building a statement
    Effect.flatMap((rows) => Schema.decodeUnknown(SeqRow)(rows[0])),
    Effect.map((row) => row.last_seq)
  )

/**
 * Set by an append inside a transaction that `TransactorLive` runs: once that
 * transaction commits, the transactor numbers what it queued
 * (`newestSeq`), so the writer's events are in the log when its use case
 * answers, whoever reads next.
 */
export class EventsQueued extends Context.Tag("@tessera/store-sql/EventsQueued")<EventsQueued, { value: boolean }>() {}

/** Events per `INSERT`: seven parameters each, so a statement binds at most 700 however many a writer appends. */
export const EVENTS_PER_INSERT = 100

/** Appends of at most this many events use statements compiled once. */
const FEW_EVENTS = 4

/*
 * Most writes append one to a few events: their statements are compiled once per count (up to `FEW_EVENTS`), so
 * an append builds no statement; more go through `sql.insert` a batch at a time.
 */
const fewInserts = (sql: SqlClient.SqlClient, table: "events" | "event_queue", columns: string, width: number) => {
  const placeholders = (count: number) =>
    sql`${sql.literal("VALUES ")}${sql.csv(Array.from({ length: count }, () => sql`(${sql.csv(Array.from({ length: width }, () => sql`${""}`))})`))}`
  return Array.from({ length: FEW_EVENTS + 1 }, (_, count) =>
    count === 0 ? "" : sql`INSERT INTO ${sql.literal(table)} (${sql.literal(columns)}) ${placeholders(count)}`.compile()[0])
}

/**
 * SQLite's append of 1 to `FEW_EVENTS` events, compiled once: `counterText` moves the counter by the count
 * (`RETURNING last_seq`), `eventInserts[count]` inserts them numbered up to it, seven parameters each (seq, type,
 * at, actor, workspace_id, resource_id, data).
 */
export const numberedAppendTextsOf = (sql: SqlClient.SqlClient) => ({
  counterText: sql`UPDATE event_counter SET last_seq = last_seq + ${0} WHERE id = 1 RETURNING last_seq`.compile()[0],
  eventInserts: fewInserts(sql, "events", "seq, type, at, actor, workspace_id, resource_id, data", 7)
})

/**
 * PostgreSQL's append of 1 to `FEW_EVENTS` events, compiled once: `[count]` queues them unnumbered, six
 * parameters each (type, at, actor, workspace_id, resource_id, data).
 */
export const queuedAppendTextsOf = (sql: SqlClient.SqlClient) =>
  fewInserts(sql, "event_queue", "type, at, actor, workspace_id, resource_id, data", 6)

/** An event's row as its statements bind it. */
interface RowValues {
  readonly type: string
  readonly at: string
  readonly actor: string
  readonly workspace_id?: string | null | undefined
  readonly resource_id?: string | null | undefined
  readonly data: string
}

/** The parameters of `queuedAppendTextsOf(sql)[rows.length]`. */
export const queuedParamsOf = (rows: ReadonlyArray<RowValues>) =>
  rows.flatMap((row) => [row.type, row.at, row.actor, row.workspace_id, row.resource_id, row.data])

/** The parameters of `numberedAppendTextsOf(sql).eventInserts[rows.length]`, numbered from `first`. */
export const numberedParamsOf = (rows: ReadonlyArray<RowValues>, first: number) =>
  rows.flatMap((row, i) => [first + i, row.type, row.at, row.actor, row.workspace_id, row.resource_id, row.data])

/** Events as their rows are written: `data` as JSON text. */
export const eventRowsOf = (at: Timestamp, events: ReadonlyArray<NewEvent>) =>
  events.map((event) => ({
    type: event.type,
    at,
    actor: event.actor,
    workspace_id: event.workspace_id ?? null,
    resource_id: event.resource_id ?? null,
    data: JSON.stringify(event.data)
  }))

export const EventLogLive = Layer.effect(EventLog, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  type Row = Omit<typeof EventRow.Encoded, "seq" | "data"> & { readonly data: string }
  const isPg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
  const { counterText, eventInserts } = numberedAppendTextsOf(sql)
  const queueInserts = queuedAppendTextsOf(sql)
  /** SQLite: numbered from the counter in the writer's transaction (its writers are serialised anyway). */
  const numbered = (rows: ReadonlyArray<Row>) =>
    Effect.gen(function*() {
      const [counter] = yield* sql.unsafe<Record<string, unknown>>(counterText, [rows.length])
      const first = Number(counter!.last_seq) - rows.length + 1
      if (rows.length <= FEW_EVENTS) {
        yield* sql.unsafe(eventInserts[rows.length]!, numberedParamsOf(rows, first))
        return
      }
      const all = rows.map((row, i) => ({ seq: first + i, ...row }))
      for (let from = 0; from < all.length; from += EVENTS_PER_INSERT) {
        yield* sql`INSERT INTO events ${sql.insert(all.slice(from, from + EVENTS_PER_INSERT))}`
      }
    })
  /** PostgreSQL: queued unnumbered; numbering them notifies. */
  const queue = (rows: ReadonlyArray<Row>) =>
    Effect.gen(function*() {
      if (rows.length <= FEW_EVENTS) {
        yield* sql.unsafe(queueInserts[rows.length]!, queuedParamsOf(rows))
        return
      }
      for (let from = 0; from < rows.length; from += EVENTS_PER_INSERT) {
        yield* sql`INSERT INTO event_queue ${sql.insert(rows.slice(from, from + EVENTS_PER_INSERT))}`
      }
    })
  return EventLog.of({
    append: (at, events) =>
      writing(Effect.gen(function*() {
        if (events.length === 0) return
        const rows = eventRowsOf(at, events)
        yield* (isPg ? queue(rows) : numbered(rows))
        const queued = yield* Effect.serviceOption(EventsQueued)
        if (Option.isSome(queued)) queued.value.value = true
      }).pipe(Effect.orDie)),
    list: ({ after, limit, type, workspaceId }) =>
      sql.onDialectOrElse({ pg: () => Effect.asVoid(newestSeq(sql)), orElse: () => Effect.void }).pipe(Effect.zipRight(sql`SELECT seq, type, at, actor, workspace_id, resource_id, data FROM events
          WHERE seq > ${after} ${workspaceId !== undefined ? sql`AND workspace_id = ${workspaceId}` : sql``}
          ${type !== undefined ? sql`AND type = ${type}` : sql``}
          ORDER BY seq LIMIT ${limit}`),
        Effect.flatMap(decodeRows),
        Effect.map((rows) => rows.map((row) => new Event(row))),
        Effect.orDie
      )
  })
}))
