/** Reading the event log across every area. Only system admins read it; pages go by `seq`. */
import { Effect } from "effect"
import { EventLog } from "../events/ports.js"
import { DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE } from "../events/schemas.js"
import { requireSystemAdmin } from "../identity/policy.js"
import type { Actor } from "../identity/schemas.js"

export const listEvents = Effect.fn("listEvents")(function*(principal: Actor, query: {
  readonly after?: number | undefined
  readonly limit?: number | undefined
  readonly workspaceId?: string | undefined
}) {
  yield* requireSystemAdmin(principal)
  const after = query.after ?? 0
  const limit = Math.min(Math.max(query.limit ?? DEFAULT_EVENT_PAGE, 1), MAX_EVENT_PAGE)
  const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after, limit, workspaceId: query.workspaceId }))
  return { events, nextAfter: events.length > 0 ? events[events.length - 1]!.seq : after }
})
