/** Handlers of the resources area: trees, accesses, moves and the batch permission check. */
import { HttpApiBuilder } from "@effect/platform"
import { CurrentPrincipal, TesseraApi } from "@tessera/api"
import * as Domain from "@tessera/domain"
import { Effect } from "effect"
import { wire } from "../wire.js"

const view = ({ effectiveRole, resource }: { resource: Domain.Resource; effectiveRole: Domain.ResourceRole | null }) => ({
  ...resource,
  effective_role: effectiveRole
})

export const ResourcesLive = HttpApiBuilder.group(TesseraApi, "resources", (handlers) =>
  handlers
    .handle("create", ({ path, payload }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.createResource(p, path.id, payload)).pipe(wire))
    .handle("roots", ({ path }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.listRoots(p, path.id)).pipe(Effect.map((resources) => ({ resources })), wire))
    .handle("show", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => Domain.getResource(p, path.id)).pipe(Effect.map(view), wire))
    .handle("update", ({ path, payload }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.patchResource(p, path.id, payload)).pipe(Effect.map(view), wire))
    .handle("children", ({ path }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.listChildren(p, path.id)).pipe(Effect.map((resources) => ({ resources })), wire))
    .handle("accesses", ({ path, urlParams }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.listAccesses(p, path.id, urlParams.include === "inherited")).pipe(
        Effect.map((accesses) => ({ accesses })),
        wire
      ))
    .handle("grant", ({ path, payload }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.grantAccess(p, path.id, payload.user_id, payload.role)).pipe(wire))
    .handle("changeAccess", ({ path, payload }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.changeAccess(p, path.id, path.access_id, payload.role)).pipe(wire))
    .handle("removeAccess", ({ path }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.removeAccess(p, path.id, path.access_id)).pipe(wire))
    .handle("move", ({ path, payload }) =>
      Effect.flatMap(CurrentPrincipal, (p) =>
        Domain.moveResource(p, path.id, {
          targetId: payload.target_id,
          position: payload.position ?? "last-child",
          dryRun: payload.dry_run ?? false
        })).pipe(wire))
    .handle("check", ({ payload }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.check(p, payload.checks)).pipe(Effect.map((results) => ({ results })), wire)))
