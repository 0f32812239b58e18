/**
 * Handlers of the access area (docs/access.md): the share panel and what a
 * user can reach, one page per request. Each calls one use case and turns
 * its page into the wire's (`because` for the grants, `next_cursor` absent
 * on the last page); every role they answer is decided by the domain.
 */
import { HttpApiBuilder } from "@effect/platform"
import { CurrentActor, CurrentPrincipal, TesseraApi } from "@tessera/api"
import * as Domain from "@tessera/domain"
import { Effect } from "effect"
import { wire } from "../wire.js"

/** Rows per page when the request does not say. */
const DEFAULT_LIMIT = 100

const reachablePage = ({ next, resources }: Domain.ReachableAnswer) => ({
  resources,
  ...(next === null ? {} : { next_cursor: { after: next } })
})

export const AccessLive = HttpApiBuilder.group(TesseraApi, "access", (handlers) =>
  handlers
    .handle("principals", ({ path, urlParams }) =>
      Effect.flatMap(CurrentActor, (actor) =>
        Domain.listPrincipals(actor, path.id, {
          after: urlParams.cursor === undefined ? null : { role: urlParams.cursor.role, userId: urlParams.cursor.user_id },
          limit: urlParams.limit ?? DEFAULT_LIMIT
        })).pipe(
          Effect.map((page) => ({
            principals: page.principals.map((p) => ({ user_id: p.user_id, role: p.role, because: p.grants })),
            share_links: page.share_links,
            ...(page.next === null ? {} : { next_cursor: { role: page.next.role, user_id: page.next.userId } })
          })),
          wire
        ))
    .handle("myResources", ({ urlParams }) =>
      Effect.flatMap(CurrentPrincipal, (principal) =>
        Domain.listReachable(
          principal,
          principal.user.id,
          urlParams.action ?? "read",
          { workspaceId: urlParams.workspace_id },
          { after: urlParams.cursor?.after, limit: urlParams.limit ?? DEFAULT_LIMIT }
        ).pipe(
          // the caller asks about themself: never refused; and a caller deleted under the request was authenticated
          // by a key that is gone with them
          Effect.catchTags({
            Forbidden: (e) => Effect.die(e),
            UserNotFound: () => Effect.fail(new Domain.Unauthenticated({ message: "the caller's account no longer exists" }))
          })
        )).pipe(Effect.map(reachablePage), wire))
    .handle("userResources", ({ path, urlParams }) =>
      Effect.flatMap(CurrentPrincipal, (principal) =>
        Domain.listReachable(
          principal,
          path.id,
          urlParams.action ?? "read",
          { workspaceId: urlParams.workspace_id },
          { after: urlParams.cursor?.after, limit: urlParams.limit ?? DEFAULT_LIMIT }
        )).pipe(Effect.map(reachablePage), wire)))
