/**
 * Bearer authentication. `Authentication` resolves `Authorization: Bearer
 * tsk_…` to the active user owning the key; `BearerAuthentication`, on the
 * resources' endpoints, also accepts a share link (`tsl_…`) and resolves it
 * to its bearer. A missing, malformed (checksum), unknown or revoked key, and
 * a disabled or rotated link, is 401; a share link anywhere else is 401 too.
 * No secret is ever logged.
 */
import { Authentication, BearerAuthentication } from "@tessera/api"
import { authenticate, authenticateBearer } from "@tessera/domain"
import { Effect, Layer } from "effect"
import { wire } from "./wire.js"

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.map(Effect.context<Effect.Effect.Context<ReturnType<typeof authenticate>>>(), (context) =>
    Authentication.of({
      bearer: (token) => authenticate(token).pipe(wire, Effect.provide(context)) as never
    }))
)

export const BearerAuthenticationLive = Layer.effect(
  BearerAuthentication,
  Effect.map(Effect.context<Effect.Effect.Context<ReturnType<typeof authenticateBearer>>>(), (context) =>
    BearerAuthentication.of({
      bearer: (token) => authenticateBearer(token).pipe(wire, Effect.provide(context)) as never
    }))
)
