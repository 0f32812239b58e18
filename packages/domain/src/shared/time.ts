/**
 * Timestamps are RFC 3339 UTC strings with millisecond precision
 * (`2026-01-02T03:04:05.678Z`). One fixed width keeps them comparable as
 * strings on every store.
 */
import { Clock, Effect, Schema } from "effect"

export const Timestamp = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
  Schema.brand("Timestamp"),
  Schema.annotations({ identifier: "Timestamp", description: "RFC 3339 UTC time" })
)
export type Timestamp = typeof Timestamp.Type

export const timestampOf = (millis: number): Timestamp => new Date(millis).toISOString() as Timestamp

export const now: Effect.Effect<Timestamp> = Effect.map(Clock.currentTimeMillis, timestampOf)

/**
 * Parses a stored time; `undefined` when it cannot be read (callers fail
 * closed). An impossible calendar date (Feb 30, 24:00) is unreadable too,
 * not rolled over to the next valid one.
 */
export const parseTimestamp = (value: string): number | undefined => {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(value)
  if (match === null) return undefined
  const millis = Date.parse(value)
  return Number.isFinite(millis) && new Date(millis).toISOString().slice(0, 19) === match[1] ? millis : undefined
}
