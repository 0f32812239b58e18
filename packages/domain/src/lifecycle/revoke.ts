/**
 * Revoking a resource: the resource and its whole subtree stop granting
 * anything, every pending invite for any of them is canceled and their share
 * links disabled — in one transaction, one set-based statement per table,
 * whatever the size of the subtree. Nothing outside the subtree is touched.
 * Once it has committed, no credential opens anything in the subtree: every
 * role computation sees a revoked node on the path, and links and invites
 * are dead.
 *
 * A dry run runs exactly the same code and rolls the transaction back,
 * returning the report it would have committed.
 */
import { Effect, Option, Schema } from "effect"
import { EventLog } from "../events/ports.js"
import { isSystemAdmin } from "../identity/policy.js"
import { type Actor, actorName, actorUserId, isLinkBearer } from "../identity/schemas.js"
import { transactAs } from "../identity/usecases.js"
import { requireRole } from "../resources/policy.js"
import { ResourceStore } from "../resources/ports.js"
import { effectiveRole } from "../resources/rules.js"
import type { ResourceRole } from "../resources/schemas.js"
import { NotFound } from "../shared/errors.js"
import type { ResourceId, UserId } from "../shared/ids.js"
import { now } from "../shared/time.js"
import { InviteStore, ShareLinkStore } from "../sharing/ports.js"
import { WorkspaceStore } from "../workspaces/ports.js"
import { spanned } from "../shared/spans.js"

export type RevokeReport = {
  readonly resource_id: ResourceId
  readonly revoked: true
  readonly descendants_revoked: number
  readonly invites_revoked: number
  /** The resource's own link was disabled. */
  readonly share_link_disabled: boolean
  /** Links disabled in the whole subtree, the resource's own included. */
  readonly share_links_disabled: number
}

/** Carries a dry run's report out of the transaction it rolls back. */
class DryRun extends Schema.TaggedError<DryRun>()("DryRun", { report: Schema.Unknown }) {}

/**
 * The actor's role as it was before any revocation: revoking again (a
 * no-op) needs the same owner rights as revoking the first time.
 */
const roleBeforeRevocation = (actor: Actor, id: ResourceId): Effect.Effect<ResourceRole | null, never, ResourceStore> => {
  if (isSystemAdmin(actor)) return Effect.succeed("owner")
  const userId = actorUserId(actor)
  if (userId === null && !isLinkBearer(actor)) return Effect.succeed(null)
  return Effect.map(Effect.flatMap(ResourceStore, (s) => s.roleFacts(id, userId ?? ("" as UserId))), (facts) => {
    const path = facts.path.map((node) => ({ ...node, revoked: false }))
    const link = isLinkBearer(actor) && path.some((n) => n.id === actor.resourceId) ? actor.role : null
    return effectiveRole({ path, workspaceRole: facts.workspaceRole, shareLinkRole: link })
  })
}

/** Revokes a resource and its subtree (owners only). Idempotent: a second call reports zeros. */
export const revokeResource = spanned("revokeResource", function*(
  actor: Actor,
  id: ResourceId,
  options: { readonly dryRun: boolean }
) {
  const program = transactAs(actor, (actor) =>
    Effect.gen(function*() {
      const store = yield* ResourceStore
      const current = yield* store.findById(id)
      if (Option.isNone(current)) return yield* new NotFound({ what: "resource", id })
      // The workspace's lock, as moves take it: the subtree cannot change shape under the cascade.
      yield* Effect.flatMap(WorkspaceStore, (s) => s.lock(current.value.workspace_id))
      yield* store.lock(id)
      const role = yield* roleBeforeRevocation(actor, id)
      if (role === null) return yield* new NotFound({ what: "resource", id })
      yield* requireRole(role, "own", "revoking a resource")
      const at = yield* now
      const revoked = yield* store.revokeSubtree(id, at)
      const invitesRevoked = yield* Effect.flatMap(InviteStore, (s) => s.cancelPendingInSubtree(id, at))
      const links = yield* Effect.flatMap(ShareLinkStore, (s) => s.disableInSubtree(id, at))
      const report: RevokeReport = {
        resource_id: id,
        revoked: true,
        descendants_revoked: revoked.filter((r) => r !== id).length,
        invites_revoked: invitesRevoked,
        share_link_disabled: links.own,
        share_links_disabled: links.total
      }
      if (revoked.length > 0 || invitesRevoked > 0 || links.total > 0) {
        const workspace_id = current.value.workspace_id
        yield* Effect.flatMap(EventLog, (log) =>
          log.append(at, [
            { type: "resource.revoked", actor: actorName(actor), workspace_id, resource_id: id, data: { ...report } },
            {
              type: "resource.accesses_reset",
              actor: actorName(actor),
              workspace_id,
              resource_id: id,
              data: { reason: "revoked", resources: revoked.length, invites_canceled: invitesRevoked, share_links_disabled: links.total }
            }
          ]))
      }
      if (options.dryRun) return yield* new DryRun({ report })
      return report
    }))
  return yield* program.pipe(Effect.catchTag("DryRun", (dry) => Effect.succeed(dry.report as RevokeReport)))
})
