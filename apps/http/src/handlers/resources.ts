/**
 * Handlers of the resources area: trees, accesses, moves, share links,
 * revocation and the batch permission check (explained on request). A resource's endpoints act as
 * `CurrentActor` (a user or a share link's bearer); what a link may do is
 * decided by the domain, never here.
 */
import { HttpApiBuilder } from "@effect/platform"
import { CurrentActor, CurrentPrincipal, TesseraApi } from "@tessera/api"
import * as Domain from "@tessera/domain"
import { Effect } from "effect"
import { pageBody, pageRequest } from "../pages.js"
import { wire } from "../wire.js"

const view = ({ effectiveRole, resource }: { resource: Domain.Resource; effectiveRole: Domain.ResourceRole | null }) => ({
  ...resource,
  effective_role: effectiveRole
})

export const ResourcesLive = HttpApiBuilder.group(TesseraApi, "resources", (handlers) =>
  handlers
    .handle("create", ({ path, payload }) =>
      Effect.flatMap(CurrentActor, (actor) => Domain.createResource(actor, path.id, payload)).pipe(wire))
    .handle("roots", ({ path, urlParams }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.listRootsPage(p, path.id, pageRequest(urlParams))).pipe(
        Effect.map((page) => pageBody("resources", page)),
        wire
      ))
    .handle("show", ({ path }) => Effect.flatMap(CurrentActor, (actor) => Domain.getResource(actor, path.id)).pipe(Effect.map(view), wire))
    .handle("update", ({ path, payload }) =>
      Effect.flatMap(CurrentActor, (actor) => Domain.patchResource(actor, path.id, payload)).pipe(Effect.map(view), wire))
    .handle("revoke", ({ path, urlParams }) =>
      Effect.flatMap(CurrentActor, (actor) => Domain.revokeResource(actor, path.id, { dryRun: urlParams.dry_run ?? false })).pipe(wire))
    .handle("children", ({ path, urlParams }) =>
      Effect.flatMap(CurrentActor, (actor) => Domain.listChildrenPage(actor, path.id, pageRequest(urlParams))).pipe(
        Effect.map((page) => pageBody("resources", page)),
        wire
      ))
    .handle("accesses", ({ path, urlParams }) =>
      Effect.flatMap(CurrentActor, (actor) =>
        Domain.listAccessesPage(actor, path.id, urlParams.include === "inherited", pageRequest(urlParams))).pipe(
        Effect.map((page) => pageBody("accesses", page)),
        wire
      ))
    .handle("grant", ({ path, payload }) =>
      Effect.flatMap(CurrentActor, (actor) => Domain.grantAccess(actor, path.id, payload.user_id, payload.role)).pipe(wire))
    .handle("changeAccess", ({ path, payload }) =>
      Effect.flatMap(CurrentActor, (actor) => Domain.changeAccess(actor, path.id, path.access_id, payload.role)).pipe(wire))
    .handle("removeAccess", ({ path }) =>
      Effect.flatMap(CurrentActor, (actor) => Domain.removeAccess(actor, path.id, path.access_id)).pipe(wire))
    .handle("move", ({ path, payload }) =>
      Effect.flatMap(CurrentActor, (actor) =>
        Domain.moveResource(actor, path.id, {
          targetId: payload.target_id,
          position: payload.position ?? "last-child",
          dryRun: payload.dry_run ?? false
        })).pipe(wire))
    .handle("putShareLink", ({ path, payload }) =>
      Effect.flatMap(CurrentActor, (actor) => Domain.putShareLink(actor, path.id, payload.role)).pipe(
        Effect.map(({ link, token }) => ({ share_link: link, token })),
        wire
      ))
    .handle("showShareLink", ({ path }) =>
      Effect.flatMap(CurrentActor, (actor) => Domain.getShareLink(actor, path.id)).pipe(
        Effect.map((link) => ({ share_link: link })),
        wire
      ))
    .handle("disableShareLink", ({ path }) =>
      Effect.flatMap(CurrentActor, (actor) => Domain.disableShareLink(actor, path.id)).pipe(wire))
    .handle("check", ({ payload }) =>
      Effect.flatMap(CurrentPrincipal, (p) =>
        // explained, the answers come from the check's own facts and rule (docs/access.md)
        payload.explain === true ? Domain.checkExplained(p, payload.checks) : Domain.check(p, payload.checks)).pipe(
          Effect.map((results) => ({ results })),
          wire
        )))
