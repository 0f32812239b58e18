/**
 * Storage port for the event log. Appends only; nothing is updated or
 * deleted. Appending requires `InTransaction`: an event is written in the
 * transaction of the change it records, never after its commit.
 */
import { Context, Effect } from "effect"
import type { Timestamp } from "../shared/time.js"
import type { InTransaction } from "../shared/transactor.js"
import type { Event, NewEvent } from "./schemas.js"

export class EventLog extends Context.Tag("Tessera/EventLog")<EventLog, {
  /** Appends in order, with gap-free `seq`s in commit order. Runs inside the caller's transaction. */
  readonly append: (at: Timestamp, events: ReadonlyArray<NewEvent>) => Effect.Effect<void, never, InTransaction>
  readonly list: (query: {
    readonly after: number
    readonly limit: number
    readonly workspaceId?: string | undefined
  }) => Effect.Effect<ReadonlyArray<Event>>
}>() {}
