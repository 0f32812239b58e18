/**
 * The append-only event log: every successful mutation appends its events
 * in its own transaction. Events carry ids and terms, never a secret.
 */
import { Schema } from "effect"
import { Timestamp } from "../shared/time.js"

export class Event extends Schema.Class<Event>("Event")({
  seq: Schema.Int,
  type: Schema.String,
  at: Timestamp,
  actor: Schema.String,
  workspace_id: Schema.NullOr(Schema.String),
  resource_id: Schema.NullOr(Schema.String),
  data: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}) {}

export interface NewEvent {
  readonly type: string
  readonly actor: string
  readonly workspace_id?: string | null
  readonly resource_id?: string | null
  readonly data: Record<string, unknown>
}

export const MAX_EVENT_PAGE = 1000
export const DEFAULT_EVENT_PAGE = 100
