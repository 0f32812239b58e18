/**
 * Direct routes (docs/http.md, "Direct routes"): the three requests an
 * application sends on every page or probe — `GET /healthz`, `GET /v1/me`
 * and `POST /v1/check` — answered on Node's request listener without the
 * router, the middleware chain or a request object, by the same contract
 * and the same use cases as through `HttpApi`: the endpoint's own payload
 * and success schemas (`TesseraApi`), the error classes with the statuses
 * they declare, the body guard's reader and bounds (`limits.ts`),
 * `authenticate` for the key, `check` for the answers, the request log and
 * its count for `/metrics` (`log.ts`). Their plain success runs without the
 * runtime: the key's owner and the check's walk through the store's
 * `HotReads` (store-sql `hot.ts`, the ports' own statements and row
 * readers), the answers by `check`'s `answersOf`, a body refused by the
 * same reader and payload schema as on the long path; a refused key or
 * caller and every other case goes through the use cases.
 *
 * Only a plain request takes this path: the exact path (a query is
 * ignored, as the endpoints declare none), no body on a `GET`, and for the
 * check a JSON content type with a `Content-Length` within
 * `TESSERA_MAX_BODY_BYTES`. Anything else — another method, a chunked or
 * oversized body, another content type — goes to the application
 * untouched, which answers it as it answers every request; nothing of it
 * has been read. With tracing on, no request takes this path, so every
 * request has its span.
 */
import { HttpApiSchema, HttpServerError } from "@effect/platform"
import { ApiErrors, invalidRequestOf, TesseraApi } from "@tessera/api"
import { actorName, answersOf, authenticate, check, checkExplained, type CheckFacts, type CheckRequest, factsRequests, isSystemAdmin, parseToken, type Principal } from "@tessera/domain"
import { HOT_CHECKS, HotReads } from "@tessera/store-sql"
import { Cause, Context, Effect, Either, Exit, FiberRef, FiberRefs, FiberSet, LogLevel, Option, type ParseResult, Redacted, Runtime, Schema } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { principalOf, recordPrincipal, requestIdOf } from "./lifecycle.js"
import { headerRefusal } from "./auth.js"
import { sha256HexNow } from "./crypto.js"
import { announcesBody, isJson, jsonOf, readAtMost, readBody } from "./limits.js"
import { logRequest, pathOf } from "./log.js"
import { recordRequest } from "./metrics.js"
import { wire } from "./wire.js"

/** Whatever the direct routes' use cases need from the store. */
export type DirectServices =
  | Effect.Effect.Context<ReturnType<typeof authenticate>>
  | Effect.Effect.Context<ReturnType<typeof check>>
  | Effect.Effect.Context<ReturnType<typeof checkExplained>>

/** Direct-route requests being served now: each ends, answered, refused, or stopped when its client goes. */
let running = 0
export const directInFlight = () => running

/** Answers `incoming` if it is a direct route's plain request, and says whether it did. */
export type DirectRoutes = (incoming: IncomingMessage, response: ServerResponse) => boolean

/** An endpoint of the contract, by group and name, with the schemas it declares. */
const endpoint = (group: string, name: string) => {
  const found = TesseraApi.groups[group]?.endpoints[name]
  if (found === undefined) throw new Error(`the contract has no endpoint ${group}.${name}`)
  return found as unknown as {
    readonly successSchema: Schema.Schema<any, any>
    readonly payloadSchema: Option.Option<Schema.Schema<any, any>>
  }
}

const encodeHealthz = Schema.encodeSync(endpoint("health", "healthz").successSchema)
const encodeMe = Schema.encodeSync(endpoint("users", "me").successSchema)
const encodeCheck = Schema.encodeSync(endpoint("resources", "check").successSchema)
const decodeCheck: (u: unknown) => Either.Either<
  { readonly checks: ReadonlyArray<CheckRequest>; readonly explain?: boolean },
  ParseResult.ParseError
> = Schema.decodeUnknownEither(Option.getOrThrow(endpoint("resources", "check").payloadSchema))

/** A wire error's status and body, as its class declares them. */
const errorReply = (error: { readonly constructor: unknown }): readonly [number, string] => {
  const schema = error.constructor as Schema.Schema<unknown, unknown>
  return [HttpApiSchema.getStatusError(schema), JSON.stringify(Schema.encodeSync(schema)(error))]
}

const HEALTHZ = JSON.stringify(encodeHealthz({ status: "ok" }))

/** What follows `Bearer ` in the header, as the platform hands it to the security middleware. */
const bearerLength = "Bearer ".length

/** The request's key, or its refusal before any lookup, as `auth.ts` refuses it. */
const presentedKey = (incoming: IncomingMessage) => {
  const header = incoming.headers.authorization
  const refused = headerRefusal(header)
  return refused === undefined ? Either.right(Redacted.make(header!.slice(bearerLength))) : Either.left(refused)
}

/**
 * The digest of the request's key when the header holds a well-formed API
 * key, as `authenticate` takes it (`tokenDigest`: SHA-256 of the whole
 * token); anything else is left to `authenticate`, which says why it refuses.
 */
const digestOf = (incoming: IncomingMessage): string | undefined => {
  const header = incoming.headers.authorization
  if (headerRefusal(header) !== undefined) return undefined
  const raw = header!.slice(bearerLength)
  return Option.isSome(parseToken("tsk", raw)) ? sha256HexNow(raw) : undefined
}

/** The body of a check that could not be read to its end: its connection went. */
const unreadable = () => new ApiErrors.InvalidRequest({ message: "the body could not be read", issues: [] })

/**
 * The direct routes over the services of the running program. `maxBytes`
 * is `TESSERA_MAX_BODY_BYTES`; a check whose `Content-Length` passes it is
 * left to the application, which refuses it. `logLines` is whether the
 * application logs its requests (`requestLog`): each request's line is
 * then logged here, at level Info, and in any case counted for `/metrics`.
 */
export const makeDirectRoutes = (maxBytes: number, logLines: boolean) =>
  Effect.map(Effect.all([
    Effect.runtime<DirectServices>(),
    FiberSet.makeRuntime<DirectServices>(),
    // ended with the listener's scope: a read without the runtime still under way then answers nothing
    Effect.acquireRelease(Effect.sync(() => ({ ended: false })), (scope) => Effect.sync(() => (scope.ended = true)))
  ]), ([runtime, serve, scope]): DirectRoutes => {
    const runFork = Runtime.runFork(runtime)
    // the key's owner and the check's walk without the runtime, where the store offers them (store-sql `HotReads`)
    const hot = Option.getOrUndefined(Context.getOption(runtime.context, HotReads))
    const logged = logLines && LogLevel.greaterThanEqual(
      LogLevel.Info,
      FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentMinimumLogLevel)
    )

    const reply = (
      incoming: IncomingMessage,
      response: ServerResponse,
      route: string,
      started: number,
      status: number,
      body: string,
      close = false
    ) => {
      response.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        ...(close ? { connection: "close" } : {})
      })
      response.end(body)
      const ms = performance.now() - started
      recordRequest(incoming.method!, route, status, ms / 1000)
      if (logged) logRequest(incoming.method!, route, pathOf(incoming.url!), status, ms, requestIdOf(incoming), principalOf(incoming), undefined)
    }

    /**
     * Runs one request's use cases; a defect is logged and answered 500, as
     * the application answers one. A client that goes before its answer
     * stops them, as the platform stops the application's handler (neither
     * answered, counted nor logged); so does the server's own end, before the
     * store closes (the fibers belong to the listener's scope).
     */
    /** A defect: logged with its cause, answered 500 as the application answers one. */
    const defect = (cause: Cause.Cause<unknown>, done: (status: number, body: string) => void) => {
      runFork(Effect.logError("request failed unexpectedly", cause))
      done(...errorReply(new ApiErrors.Internal({ message: "the request failed unexpectedly; see the server log" })))
    }

    const run = <E extends { readonly constructor: unknown }>(
      response: ServerResponse,
      effect: Effect.Effect<readonly [number, string], E, DirectServices>,
      done: (status: number, body: string) => void
    ) => {
      running++
      const fiber = serve(effect)
      fiber.addObserver((exit) => {
        running--
        if (Exit.isSuccess(exit)) return done(exit.value[0], exit.value[1])
        if (Cause.isInterruptedOnly(exit.cause)) return
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure)) return done(...errorReply(failure.value))
        defect(exit.cause, done)
      })
      response.once("close", () => {
        if (!response.writableEnded) fiber.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
      })
    }

    /**
     * One step of a request without the runtime (`HotReads`, the body's
     * reader): in flight until `step` answers; its answer is dropped when the
     * client went meanwhile (neither answered, counted nor logged, as a
     * stopped use case's), a failure is a defect, and so is anything `then`
     * throws.
     */
    const hotly = <A>(
      response: ServerResponse,
      done: (status: number, body: string) => void,
      step: (answer: (failure: unknown, value: A) => void) => void,
      then: (value: A) => void
    ) => {
      running++
      let answered = false
      const answer = (failure: unknown, value: A) => {
        if (answered) return
        answered = true
        running--
        // the client went, or the server's end came (it stops the use cases' fibers alike): no answer
        if (response.destroyed || scope.ended) return
        try {
          if (failure !== undefined) defect(Cause.die(failure), done)
          else then(value)
        } catch (thrown) {
          try {
            defect(Cause.die(thrown), done)
          } catch (again) {
            // not even the refusal could be written: logged, and the connection closed rather than left waiting
            runFork(Effect.logError("request failed unexpectedly", Cause.die(again)))
            response.destroy()
          }
        }
      }
      try {
        step(answer)
      } catch (thrown) {
        // thrown before it answered: never out of the request listener, where it would end the process
        answer(thrown, undefined as never)
      }
    }

    /** The short path's key lookup for `incoming`: none without `HotReads` or a well-formed API key. */
    const keyOwnerStep = (incoming: IncomingMessage) => {
      if (hot === undefined) return undefined
      const digest = digestOf(incoming)
      return digest === undefined ? undefined : (answer: (failure: unknown, owner: Option.Option<Principal>) => void) => hot.keyOwner(digest, answer)
    }

    const authenticated = (incoming: IncomingMessage) =>
      Either.match(presentedKey(incoming), {
        onLeft: Effect.fail,
        onRight: (key) =>
          Effect.tap(wire(authenticate(key)), (principal) => {
            recordPrincipal(incoming, actorName(principal))
          })
      })

    const meAnswer = (principal: Principal) => [200, JSON.stringify(encodeMe({ user: principal.user }))] as const

    const me = (incoming: IncomingMessage, response: ServerResponse, started: number) => {
      const done = (status: number, body: string) => reply(incoming, response, "/v1/me", started, status, body)
      const throughUseCase = () => run(response, Effect.map(authenticated(incoming), meAnswer), done)
      const lookup = keyOwnerStep(incoming)
      if (lookup === undefined) return throughUseCase()
      hotly(response, done, lookup, (owner) => {
        // an unknown or revoked key: `authenticate` refuses it, as it refuses everything else
        if (Option.isNone(owner)) return throughUseCase()
        recordPrincipal(incoming, actorName(owner.value))
        done(...meAnswer(owner.value))
      })
    }

    type CheckPayload = { readonly checks: ReadonlyArray<CheckRequest>; readonly explain?: boolean }
    const checkAnswer = (principal: Principal, payload: CheckPayload) =>
      Effect.map(
        wire(payload.explain === true ? checkExplained(principal, payload.checks) : check(principal, payload.checks)),
        (results) => [200, JSON.stringify(encodeCheck({ results }))] as const
      )
    const payloadOf = (bytes: Uint8Array) => Either.flatMap(jsonOf(bytes), (value) => Either.mapLeft(decodeCheck(value), invalidRequestOf))

    const checks = (incoming: IncomingMessage, response: ServerResponse, started: number) => {
      // whether the body was read to its end: a reply that leaves it unread closes the connection
      // (a `Content-Length` of 0 announces none, so none is left unread, as `limits.ts` judges it)
      let complete = !announcesBody(incoming.headers)
      const done = (status: number, body: string) => reply(incoming, response, "/v1/check", started, status, body, !complete)
      const throughUseCases = () =>
        run(
          response,
          Effect.gen(function*() {
            const principal = yield* authenticated(incoming)
            // a connection that closed while the key was looked up has destroyed the request, and with it any
            // event a reader attached now could wait for: its body can no longer be read
            const bytes = yield* (incoming.destroyed ? Effect.fail("aborted" as const) : readAtMost(incoming, maxBytes)).pipe(
              Effect.mapError((e) => e === "aborted" ? unreadable() : e)
            )
            complete = true
            return yield* checkAnswer(principal, yield* payloadOf(bytes))
          }),
          done
        )
      const lookup = keyOwnerStep(incoming)
      if (lookup === undefined) return throughUseCases()
      hotly(response, done, lookup, (owner) => {
        // refused or not a system admin: the use cases say why, in their order (nothing is read yet)
        if (Option.isNone(owner) || !isSystemAdmin(owner.value)) return throughUseCases()
        const principal = owner.value
        recordPrincipal(incoming, actorName(principal))
        if (incoming.destroyed) return done(...errorReply(unreadable()))
        hotly(response, done, (answer: (failure: unknown, read: Either.Either<CheckPayload, { readonly constructor: unknown }>) => void) => {
          readBody(incoming, maxBytes, (read) => {
            if (Either.isLeft(read)) return answer(undefined, Either.left(read.left === "aborted" ? unreadable() : read.left))
            complete = true
            answer(undefined, payloadOf(read.right))
          })
        }, (payload) => {
          if (Either.isLeft(payload)) return done(...errorReply(payload.left))
          const asked = payload.right
          // explained, or more than one statement's worth: through the use case, with what is known
          if (asked.explain === true || asked.checks.length === 0 || asked.checks.length > HOT_CHECKS) {
            return run(response, checkAnswer(principal, asked), done)
          }
          hotly(response, done, (answer: (failure: unknown, facts: ReadonlyArray<CheckFacts>) => void) => hot!.roleFacts(factsRequests(asked.checks), answer), (facts) => {
            done(200, JSON.stringify(encodeCheck({ results: answersOf(asked.checks, facts) })))
          })
        })
      })
    }

    return (incoming, response) => {
      const url = incoming.url!
      const query = url.indexOf("?")
      const path = query < 0 ? url : url.slice(0, query)
      const method = incoming.method
      if (method === "GET") {
        if (announcesBody(incoming.headers)) return false
        if (path === "/healthz") {
          reply(incoming, response, "/healthz", performance.now(), 200, HEALTHZ)
          return true
        }
        if (path === "/v1/me") {
          me(incoming, response, performance.now())
          return true
        }
        return false
      }
      if (method === "POST" && path === "/v1/check") {
        const declared = incoming.headers["content-length"]
        if (
          declared === undefined || incoming.headers["transfer-encoding"] !== undefined || !/^[0-9]{1,15}$/.test(declared) ||
          Number(declared) > maxBytes || !isJson(incoming.headers["content-type"])
        ) return false
        checks(incoming, response, performance.now())
        return true
      }
      return false
    }
  })
