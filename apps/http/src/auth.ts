/**
 * Bearer authentication. `Authentication` resolves `Authorization: Bearer
 * tsk_…` to the active user owning the key; `BearerAuthentication`, on the
 * resources' endpoints, also accepts a share link (`tsl_…`) and resolves it
 * to its bearer. A missing Authorization header, another scheme than
 * Bearer, a malformed (checksum), unknown or revoked key, and a disabled or
 * rotated link, is 401, each saying which; a share link anywhere else is
 * 401 too. No secret is ever logged or quoted: the request's log line gets
 * the principal's id (`lifecycle.ts`), never the token or its digest.
 */
import { HttpServerRequest } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { ApiErrors, Authentication, BearerAuthentication } from "@tessera/api"
import { type Actor, actorName, authenticate, authenticateBearer } from "@tessera/domain"
import { Effect, Layer, type Redacted } from "effect"
import { recordPrincipal } from "./lifecycle.js"
import { wire } from "./wire.js"

/**
 * The framework hands the middleware whatever follows the first seven
 * characters of the header, or an empty token when there is none; these
 * two cases are told apart here, before the token is judged.
 */
const noHeader = new ApiErrors.Unauthenticated({ message: "no Authorization header: send `Authorization: Bearer <key>`" })
const notBearer = new ApiErrors.Unauthenticated({ message: "the Authorization header must be `Bearer <key>`" })

/** Why an Authorization header is refused before its token is judged, if it is (`direct.ts` asks the same). */
export const headerRefusal = (header: string | undefined): ApiErrors.Unauthenticated | undefined =>
  header === undefined ? noHeader : /^bearer /i.test(header) ? undefined : notBearer

const presented = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
  const refused = headerRefusal(request.headers.authorization)
  return refused === undefined ? Effect.void : Effect.fail(refused)
})

/** Records who the request acts as, for its log line. */
const recorded = <A extends Actor>(actor: A) =>
  Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    recordPrincipal(NodeHttpServerRequest.toIncomingMessage(request), actorName(actor))
    return actor
  })

const guarded = <A extends Actor, E, R>(
  token: Redacted.Redacted<string>,
  judge: (token: Redacted.Redacted<string>) => Effect.Effect<A, E, R>
) => Effect.zipRight(presented, Effect.flatMap(judge(token), recorded))

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.map(Effect.context<Effect.Effect.Context<ReturnType<typeof authenticate>>>(), (context) =>
    Authentication.of({
      bearer: (token) => guarded(token, (t) => authenticate(t).pipe(wire)).pipe(Effect.provide(context)) as never
    }))
)

export const BearerAuthenticationLive = Layer.effect(
  BearerAuthentication,
  Effect.map(Effect.context<Effect.Effect.Context<ReturnType<typeof authenticateBearer>>>(), (context) =>
    BearerAuthentication.of({
      bearerOrLink: (token) => guarded(token, (t) => authenticateBearer(t).pipe(wire)).pipe(Effect.provide(context)) as never
    }))
)
