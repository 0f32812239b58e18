/**
 * Handlers of the identity area: registration, invites, me and users. Each
 * one decodes nothing itself (the contract did), calls one use case as the
 * current principal, and maps its failures to the wire.
 */
import { HttpApiBuilder } from "@effect/platform"
import { CurrentPrincipal, TesseraApi } from "@tessera/api"
import * as Domain from "@tessera/domain"
import { Effect, Option, Schema } from "effect"
import { pageBody, pageRequest } from "../pages.js"
import { wire } from "../wire.js"

const decodeTerms = Schema.decodeUnknown(Domain.InviteTerms)

export const RegistrationLive = HttpApiBuilder.group(TesseraApi, "registration", (handlers) =>
  handlers.handle("register", ({ payload }) =>
    wire(Domain.register({ token: payload.token, signPub: payload.sign_pub, kexPub: payload.kex_pub })).pipe(
      Effect.map(({ apiKey, personalWorkspace, user }) => ({ user, api_key: apiKey, personal_workspace: personalWorkspace }))
    )))

export const InvitesLive = HttpApiBuilder.group(TesseraApi, "invites", (handlers) =>
  handlers
    .handle("mint", ({ payload }) =>
      Effect.gen(function*() {
        const principal = yield* CurrentPrincipal
        const terms = yield* decodeTerms(payload)
        const { invite, token } = yield* Domain.mintInvite(principal, terms)
        return { invite, token }
      }).pipe(wire))
    .handle("list", ({ urlParams }) =>
      Effect.flatMap(CurrentPrincipal, (principal) =>
        Domain.listInvitesPage(principal, {
          status: urlParams.status,
          workspaceId: urlParams.workspace_id,
          resourceId: urlParams.resource_id
        }, pageRequest(urlParams))).pipe(Effect.map((page) => pageBody("invites", page)), wire))
    .handle("redeem", ({ payload }) =>
      Effect.flatMap(CurrentPrincipal, (principal) => Domain.redeemInvite(principal, payload.token)).pipe(
        Effect.map((invite) => ({ invite })),
        wire
      ))
    .handle("show", ({ path }) =>
      Effect.flatMap(CurrentPrincipal, (principal) => Domain.getInvite(principal, path.id)).pipe(
        Effect.map((invite) => ({ invite })),
        wire
      ))
    .handle("cancel", ({ path }) =>
      Effect.flatMap(CurrentPrincipal, (principal) => Domain.cancelInvite(principal, path.id)).pipe(
        Effect.map((invite) => ({ invite })),
        wire
      )))

export const UsersLive = HttpApiBuilder.group(TesseraApi, "users", (handlers) =>
  handlers
    .handle("me", () => Effect.map(CurrentPrincipal, (principal) => ({ user: principal.user })))
    .handle("myWorkspace", () => Effect.flatMap(CurrentPrincipal, Domain.myPersonalWorkspace).pipe(wire))
    .handle("list", ({ urlParams }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.listUsersPage(p, pageRequest(urlParams))).pipe(
        Effect.map((page) => pageBody("users", page)),
        wire
      ))
    .handle("show", ({ path }) =>
      Effect.flatMap(CurrentPrincipal, (principal) => Domain.getUser(principal, path.id)).pipe(
        Effect.map((user) => ({ user })),
        wire
      ))
    .handle("revoke", ({ path }) =>
      Effect.flatMap(CurrentPrincipal, (principal) => Domain.revokeUser(principal, path.id)).pipe(
        Effect.map((user) => ({ user })),
        wire
      ))
    .handle("delete", ({ path, urlParams }) =>
      Effect.flatMap(
        CurrentPrincipal,
        (principal) => Domain.deleteUser(principal, path.id, Option.fromNullable(urlParams.transfer_to))
      ).pipe(wire)))

export const EventsLive = HttpApiBuilder.group(TesseraApi, "events", (handlers) =>
  handlers.handle("list", ({ urlParams }) =>
    Effect.flatMap(CurrentPrincipal, (principal) =>
      Domain.listEvents(principal, {
        after: urlParams.cursor ?? urlParams.after,
        limit: urlParams.limit,
        workspaceId: urlParams.workspace_id
      })).pipe(
        Effect.map(({ events, more, nextAfter }) => ({ events, next_after: nextAfter, ...(more ? { next_cursor: nextAfter } : {}) })),
        wire
      )))
