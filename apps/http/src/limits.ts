/**
 * What a request may make the server read. A body is read only when its
 * endpoint decodes one, only if it is declared `application/json` (else 415),
 * and never past `TESSERA_MAX_BODY_BYTES` (413: from `Content-Length` before
 * reading a byte, or at the limit while reading a chunked body). What was
 * read must be UTF-8 and JSON at most `MAX_DEPTH` levels deep with at most
 * `MAX_ENTRIES` entries per array or object, checked on the raw text before
 * it is parsed, with no NUL in any string (400). It never buffers past the
 * limit, never parses a body it refused, and never keeps a connection whose
 * body it left unread.
 */
import { HttpApiBuilder, HttpApp, HttpMethod, HttpServerError, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { ApiErrors } from "@tessera/api"
import { MaxBodyBytes } from "@tessera/config"
import { Effect, Either, Stream } from "effect"
import type { IncomingMessage } from "node:http"

/** Deeper than any request schema goes, shallow enough that no formatter or decoder can run out of stack. */
export const MAX_DEPTH = 32

/** As many entries as the longest list a request may hold (`checks`, `members`). */
export const MAX_ENTRIES = 1000

/** A refusal of a body, as the wire error it answers with. */
export type BodyRefusal = ApiErrors.InvalidRequest | ApiErrors.PayloadTooLarge | ApiErrors.UnsupportedMediaType

export const isBodyRefusal = (u: unknown): u is BodyRefusal =>
  u instanceof ApiErrors.InvalidRequest || u instanceof ApiErrors.PayloadTooLarge || u instanceof ApiErrors.UnsupportedMediaType

const malformed = (message: string) => new ApiErrors.InvalidRequest({ message, issues: [] })

/**
 * How `text` exceeds the nesting and entry bounds, if it does, found in one
 * pass without recursion and before any parser sees it. Brackets inside
 * strings are text; a malformed body passes here and fails at the parser.
 */
export const jsonShapeProblem = (text: string, maxDepth = MAX_DEPTH, maxEntries = MAX_ENTRIES): string | undefined => {
  const commas: Array<number> = []
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // the escaped character cannot end the string
      else if (c === 0x22) inString = false
      continue
    }
    if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      if (commas.length === maxDepth) return `the body nests deeper than ${maxDepth} levels`
      commas.push(0)
    } else if (c === 0x5d || c === 0x7d) {
      commas.pop()
    } else if (c === 0x2c && commas.length > 0) {
      // n commas separate n + 1 entries
      const entries = commas[commas.length - 1]! + 2
      if (entries > maxEntries) return `an array or object in the body has more than ${maxEntries} entries`
      commas[commas.length - 1] = entries - 1
    }
  }
  return undefined
}

/**
 * Where a parsed body holds a NUL in a string or a key (at most ten places):
 * no field takes one and PostgreSQL cannot store one. Recursion is safe: the
 * body passed `jsonShapeProblem`, so it is at most `MAX_DEPTH` deep.
 */
const nulPaths = (value: unknown, path: ReadonlyArray<string> = [], found: Array<string> = []): Array<string> => {
  const at = (key: string) => [...path, key.length > 64 ? `${key.slice(0, 64)}…` : key]
  if (found.length >= 10) return found
  if (typeof value === "string") {
    if (value.includes("\u0000")) found.push(path.join("."))
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => nulPaths(item, at(String(i)), found))
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes("\u0000") && found.length < 10) found.push(at(key).join("."))
      nulPaths(item, at(key), found)
    }
  }
  return found
}

/** `application/json`, with or without parameters such as `; charset=utf-8`. */
export const isJson = (contentType: string | undefined) =>
  contentType !== undefined && contentType.split(";")[0]!.trim().toLowerCase() === "application/json"

const shown = (value: string) => JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)

/**
 * Reads a Node request body into memory, failing as soon as it passes
 * `maxBytes`. On that failure the request is paused, not destroyed, so the
 * 413 can still be sent; the reply then closes the connection. The
 * platform's own limit (`HttpIncomingMessage.MaxBodySize`, which
 * platform-node's reader honours) does not do: past it the request stream is
 * destroyed, which resets the connection before any reply, and its reader
 * replaces invalid UTF-8 without a word.
 */
export const readAtMost = (source: IncomingMessage, maxBytes: number) =>
  Effect.async<Uint8Array, ApiErrors.PayloadTooLarge | "aborted">((resume) => Effect.sync(readBody(source, maxBytes, resume)))

/**
 * `readAtMost` without the runtime (the direct routes, `direct.ts`): `done`
 * is called once with the bytes or why there are none (at once when the
 * body was read already); the function returned stops reading.
 */
export const readBody = (
  source: IncomingMessage,
  maxBytes: number,
  done: (result: Either.Either<Uint8Array, ApiErrors.PayloadTooLarge | "aborted">) => void
): () => void => {
  if (source.readableEnded) {
    done(Either.right(new Uint8Array(0)))
    return () => {}
  }
  const chunks: Array<Buffer> = []
  let size = 0
  const stop = () => {
    source.off("data", onData)
    source.off("end", onEnd)
    source.off("error", onError)
    source.off("close", onError)
    source.pause()
  }
  const onData = (chunk: Buffer) => {
    size += chunk.length
    if (size > maxBytes) {
      stop()
      chunks.length = 0
      done(Either.left(tooLarge(maxBytes)))
    } else {
      chunks.push(chunk)
    }
  }
  const onEnd = () => {
    stop()
    done(Either.right(Buffer.concat(chunks, size)))
  }
  const onError = () => {
    stop()
    done(Either.left("aborted" as const))
  }
  source.on("data", onData)
  source.once("end", onEnd)
  source.once("error", onError)
  // closed before its end without an error: its connection went
  source.once("close", onError)
  return stop
}

const tooLarge = (maxBytes: number) =>
  new ApiErrors.PayloadTooLarge({ message: `the body is larger than ${maxBytes} bytes`, max_bytes: maxBytes })

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

const noBytes: Effect.Effect<Uint8Array> = Effect.sync(() => new Uint8Array(0))

/**
 * A body's bytes as the JSON value they hold, or why they are refused: not
 * UTF-8, empty, past the nesting and entry bounds, not JSON, or holding a
 * NUL. The guarded request's `json` and the direct routes (`direct.ts`) read
 * a body through this one function.
 */
export const jsonOf = (body: Uint8Array): Either.Either<unknown, ApiErrors.InvalidRequest> => {
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    return Either.left(malformed("the body is not valid UTF-8"))
  }
  if (text.trim() === "") return Either.left(malformed("the request needs a JSON body"))
  const problem = jsonShapeProblem(text)
  if (problem !== undefined) return Either.left(malformed(problem))
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return Either.left(malformed(`the body is not valid JSON: ${String((e as Error).message).slice(0, 200)}`))
  }
  const nuls = nulPaths(value)
  if (nuls.length === 0) return Either.right(value)
  const issues = nuls.map((path) => new ApiErrors.Issue({ path, message: "must not contain a NUL character" }))
  return Either.left(new ApiErrors.InvalidRequest({ message: "the body holds a NUL character", issues }))
}

/** Whether a request says a body follows (chunked, or a non-zero `Content-Length`). */
export const announcesBody = (headers: HttpServerRequest.HttpServerRequest["headers"] | IncomingMessage["headers"]) => {
  const declared = headers["content-length"]
  return headers["transfer-encoding"] !== undefined || (declared !== undefined && declared !== "0")
}

/**
 * `request` with every way of reading its body replaced by one guarded,
 * memoised read, and whether that read took the whole body.
 */
const guardedRequest = (request: HttpServerRequest.HttpServerRequest, maxBytes: number) => {
  const headers = request.headers
  const declared = headers["content-length"]
  const hasBody = announcesBody(headers)
  let complete = !hasBody

  const refuse = (error: BodyRefusal) =>
    new HttpServerError.RequestError({ request, reason: "Decode", cause: error, description: error.message })

  // Built per request only when there is a body to read: most requests (every GET) have none.
  const bytes: Effect.Effect<Uint8Array, HttpServerError.RequestError> = !hasBody ? noBytes : Effect.runSync(Effect.cached(Effect.suspend(() => {
    const contentType = headers["content-type"]
    if (!isJson(contentType)) {
      return Effect.fail(refuse(
        new ApiErrors.UnsupportedMediaType({
          message: contentType === undefined
            ? "the body must be application/json; it has no content type"
            : `the body must be application/json, not ${shown(contentType)}`
        })
      ))
    }
    if (declared !== undefined && Number(declared) > maxBytes) return Effect.fail(refuse(tooLarge(maxBytes)))
    return readAtMost(NodeHttpServerRequest.toIncomingMessage(request), maxBytes).pipe(
      Effect.tap(() => Effect.sync(() => (complete = true))),
      Effect.mapError((e) => e === "aborted" ? new HttpServerError.RequestError({ request, reason: "Transport", cause: e }) : refuse(e))
    )
  })))

  const text = Effect.flatMap(bytes, (body) =>
    Effect.try({ try: () => utf8.decode(body), catch: () => refuse(malformed("the body is not valid UTF-8")) }))

  const json = Effect.flatMap(bytes, (body) => Either.match(jsonOf(body), { onLeft: (e) => Effect.fail(refuse(e)), onRight: Effect.succeed }))

  // Built only if some reader asks for it: an error captures a stack trace.
  const notJsonError = () => refuse(new ApiErrors.UnsupportedMediaType({ message: "the body must be application/json" }))
  const notJson = Effect.suspend(() => Effect.die(notJsonError()))

  const wrap = (target: HttpServerRequest.HttpServerRequest): HttpServerRequest.HttpServerRequest =>
    Object.create(target, {
      text: { value: text },
      json: { value: json },
      arrayBuffer: { get: () => Effect.map(bytes, (b) => b.slice().buffer as ArrayBuffer) },
      stream: { get: () => Stream.fromEffect(bytes) },
      urlParamsBody: { get: () => Effect.zipRight(bytes, notJson) },
      multipart: { value: notJson },
      multipartStream: { get: () => Stream.suspend(() => Stream.die(notJsonError())) },
      modify: { value: (options: Parameters<HttpServerRequest.HttpServerRequest["modify"]>[0]) => wrap(target.modify(options)) }
    })

  return { request: wrap(request), hasBody, complete: () => complete }
}

/**
 * Guards every request of `app`: its body can be read only through the
 * checks above, and a reply to a request whose body was not read to its end
 * closes the connection, so nothing more of it is read.
 */
export const guardBodies = (maxBytes: number) => <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    // Nothing to guard: no body came, and for these methods the framework reads none (their payload is the URL's).
    if (!HttpMethod.hasBody(request.method) && !announcesBody(request.headers)) return app
    const guarded = guardedRequest(request, maxBytes)
    const served = Effect.provideService(app, HttpServerRequest.HttpServerRequest, guarded.request)
    if (!guarded.hasBody) return served
    return Effect.zipRight(
      HttpApp.appendPreResponseHandler((_, response) =>
        Effect.succeed(guarded.complete() ? response : HttpServerResponse.setHeader(response, "connection", "close"))
      ),
      served
    )
  })

/** The guard as an API-level middleware, its limit `TESSERA_MAX_BODY_BYTES` (1 MiB by default). */
export const BodyLimitsLive = HttpApiBuilder.middleware(Effect.map(MaxBodyBytes, guardBodies))
