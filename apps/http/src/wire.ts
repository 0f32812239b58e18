/**
 * Use cases on the wire (docs/http.md): their domain failures become the wire
 * errors `@tessera/api` maps them to (`wire.ts` there), and an API-level
 * middleware gives framework failures (a body that fails its schema or is
 * refused by `limits.ts`, an unknown route) the same format. Only defects
 * are logged.
 */
import { HttpApiBuilder, HttpApiError, HttpServerError, type HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { ApiErrors, type DomainError, invalidFromIssues, invalidRequest, toWire, type WireOf } from "@tessera/api"
import { Cause, Effect } from "effect"
import { isBodyRefusal } from "./limits.js"
import { methodNotAllowed } from "./methods.js"

/**
 * Runs a use case and turns its domain failures into wire errors, typed
 * precisely: a handler then type-checks only if its operation declares
 * every error its use case can fail with.
 */
export const wire = <A, E extends DomainError, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, WireOf<E>, R> =>
  Effect.mapError(effect, toWire)

/**
 * Gives the framework's own failures the wire format: schema failures of a
 * body, query or path (`HttpApiDecodeError`), bodies that are not JSON,
 * unknown routes (405 with `Allow` when only the method is wrong, from
 * `methods.ts`), and defects (500 `internal_error`, cause logged only).
 */
export const WireFormatLive = HttpApiBuilder.middleware((app) => {
  // The framework types the app as failure-free, but these failures do flow through it.
  const failing = app as Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest>
  // A body that is not JSON reaches here as a defect (the framework dies on it).
  return Effect.catchAllCause(failing, (cause) => {
    const e = Cause.squash(cause)
    if (e instanceof HttpApiError.HttpApiDecodeError) {
      return Effect.fail(invalidFromIssues(e.issues))
    }
    if (e instanceof HttpServerError.RouteNotFound) {
      // A known path asked with a method it does not serve is 405, with `Allow`.
      const refused = methodNotAllowed(e.request)
      return refused === undefined ? Effect.fail(new ApiErrors.NotFound({ message: "no such route" })) : Effect.succeed(refused)
    }
    if (e instanceof HttpServerError.RequestError) {
      return Effect.fail(isBodyRefusal(e.cause) ? e.cause : invalidRequest([], "the body could not be read"))
    }
    if (Cause.isDie(cause)) {
      return Effect.zipRight(
        Effect.logError("request failed unexpectedly", cause),
        Effect.fail(new ApiErrors.Internal({ message: "the request failed unexpectedly; see the server log" }))
      )
    }
    return Effect.failCause(cause)
  }) as typeof app
})
