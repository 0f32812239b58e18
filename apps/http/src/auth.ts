/**
 * Bearer authentication: resolves `Authorization: Bearer tsk_…` to the
 * active user owning the key. A missing, malformed (checksum), unknown or
 * revoked key is 401; the key itself is never logged.
 */
import { Authentication } from "@tessera/api"
import { authenticate } from "@tessera/domain"
import { Effect, Layer } from "effect"
import { wire } from "./wire.js"

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.map(Effect.context<Effect.Effect.Context<ReturnType<typeof authenticate>>>(), (context) =>
    Authentication.of({
      bearer: (token) => authenticate(token).pipe(wire, Effect.provide(context)) as never
    }))
)
