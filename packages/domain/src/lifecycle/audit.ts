/**
 * Reading the event log across every area, paged by `seq`, and the one rule
 * of who may read which events — the paged list and the live stream
 * (docs/events.md) both read through `listEvents`, so they cannot disagree.
 * A system admin reads every event; anyone else only the events of a
 * workspace they administer, named by `workspaceId`. The rule is applied on
 * every page, against the store as it is then: a caller who stops being an
 * admin reads nothing more.
 */
import { Effect, Option } from "effect"
import { EventLog } from "../events/ports.js"
import { DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE } from "../events/schemas.js"
import { isSystemAdmin } from "../identity/policy.js"
import { type Actor, actorUserId } from "../identity/schemas.js"
import { Forbidden } from "../shared/errors.js"
import type { WorkspaceId } from "../shared/ids.js"
import { WorkspaceStore } from "../workspaces/ports.js"
import { isWorkspaceAdmin } from "../workspaces/policy.js"
import { spanned } from "../shared/spans.js"

const refused = new Forbidden({
  message: "reading events needs a system admin, or workspace_id naming a workspace you administer"
})

/**
 * The workspace whose events `principal` may read (`undefined`: every
 * event, for a system admin who named none). Refused alike whether the
 * workspace is missing or someone else's: its existence is not disclosed.
 */
export const readableEvents = spanned("readableEvents", function*(principal: Actor, workspaceId: string | undefined) {
  if (isSystemAdmin(principal)) return workspaceId
  if (workspaceId === undefined) return yield* refused
  const workspace = yield* Effect.flatMap(WorkspaceStore, (store) => store.findById(workspaceId as WorkspaceId))
  if (Option.isNone(workspace) || !isWorkspaceAdmin(workspace.value, actorUserId(principal))) return yield* refused
  return workspaceId
})

export const listEvents = spanned("listEvents", function*(principal: Actor, query: {
  readonly after?: number | undefined
  readonly limit?: number | undefined
  readonly workspaceId?: string | undefined
  readonly type?: string | undefined
}) {
  const workspaceId = yield* readableEvents(principal, query.workspaceId)
  const after = query.after ?? 0
  const limit = Math.min(Math.max(query.limit ?? DEFAULT_EVENT_PAGE, 1), MAX_EVENT_PAGE)
  // one event past the page: `more` says whether another page follows without a second query
  const read = yield* Effect.flatMap(EventLog, (log) => log.list({ after, limit: limit + 1, workspaceId, type: query.type }))
  const events = read.length > limit ? read.slice(0, limit) : read
  return { events, nextAfter: events.length > 0 ? events[events.length - 1]!.seq : after, more: read.length > limit }
})
