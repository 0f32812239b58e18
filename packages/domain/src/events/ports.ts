/**
 * Storage port for the event log. Appends only; nothing is updated or
 * deleted. Appending requires `InTransaction`: an event is written in the
 * transaction of the change it records, never after its commit.
 *
 * `EventWakeups` tells a live reader that the log may have grown, in this
 * process or any other on the same store (docs/events.md). It carries no
 * event: a reader always reads the log itself, so a lost or duplicated
 * wake-up can delay an event but never lose, repeat or reorder one.
 */
import { Context, type Effect, type Queue, type Scope } from "effect"
import type { Timestamp } from "../shared/time.js"
import type { InTransaction } from "../shared/transactor.js"
import type { Event, NewEvent } from "./schemas.js"

export class EventLog extends Context.Tag("Tessera/EventLog")<EventLog, {
  /** Appends in order, with gap-free `seq`s in commit order. Runs inside the caller's transaction. */
  readonly append: (at: Timestamp, events: ReadonlyArray<NewEvent>) => Effect.Effect<void, never, InTransaction>
  /** At most `limit` events with `seq > after`, in `seq` order; `workspaceId` and `type` keep only the matching ones. */
  readonly list: (query: {
    readonly after: number
    readonly limit: number
    readonly workspaceId?: string | undefined
    readonly type?: string | undefined
  }) => Effect.Effect<ReadonlyArray<Event>>
}>() {}

export class EventWakeups extends Context.Tag("Tessera/EventWakeups")<EventWakeups, {
  /**
   * A reader's wake-ups, for the enclosing scope: once this has returned,
   * every commit that appends events, from any process on the store, is
   * followed by at least one item on the queue (several commits may share
   * one). Subscribe first, then read the log: nothing committed after the
   * read can go unnoticed.
   */
  readonly subscribe: Effect.Effect<Queue.Dequeue<void>, never, Scope.Scope>
  /** The `seq` of the newest committed event (0 for an empty log): where a reader of only what comes next starts. */
  readonly newest: Effect.Effect<number>
}>() {}
