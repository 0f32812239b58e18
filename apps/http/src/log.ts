/**
 * The server's log: one line per entry on stdout (a JSON object, or under
 * `TESSERA_LOG_FORMAT=pretty` a line for a person), written off the
 * request's path and off the event loop. A request only appends its line to
 * a queue; once the current turn of the event loop is done the queue goes to
 * stdout in one write on the thread pool, so a burst of requests costs one
 * write, and a slow reader of stdout (a full pipe) delays the log, never a
 * response. If the reader stops altogether the queue is capped and lines
 * are dropped and counted rather than held without bound. The request line
 * says method, route template, path (never the query), status, duration,
 * request id and the principal's id, and, when tracing is on, the trace and
 * span ids of the request's span (absent otherwise); Effect's own log lines (start-up,
 * defects) go the same way. Nothing here ever sees a header other than the
 * request id (`lifecycle.ts`) or a body, so no key, token or digest can
 * reach the log.
 *
 * The same wrapper counts the request for `/metrics` (`metrics.ts`),
 * answers `/metrics` itself, and answers `/readyz` with 503 once the server
 * drains.
 */
import { type HttpApp, HttpServerError, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import type { LogFormat } from "@tessera/config"
import { Cause, Context, Effect, type Exit, FiberRef, HashMap, HashSet, List, Logger, LogLevel, Tracer } from "effect"
import { isDraining, principalOf, requestIdOf } from "./lifecycle.js"
import { exposition, recordRequest } from "./metrics.js"
import { routeOf } from "./routes.js"
import { write, writeSync } from "node:fs"

/** Lines appended and not yet handed to a write. */
let queue: Array<string> = []
let queuedChars = 0
/** Whether a write to stdout is under way (one at a time, so lines keep their order). */
let writing = false
let scheduled = false
/** Lines dropped since the last one written, because stdout stopped taking them. */
let dropped = 0

/** A reader that stops reading must not grow the buffer without bound: past this, lines are dropped and counted. */
const MAX_QUEUED_CHARS = 8 * 1024 * 1024

const STDOUT = 1

/**
 * Writes `chunk` from `offset` on the thread pool: a pipe whose reader lags
 * blocks that thread, never the event loop. A partial write is resumed, a
 * full non-blocking pipe retried shortly; any other failure (the reader is
 * gone) ends the log.
 */
const send = (chunk: Buffer, offset: number) => {
  write(STDOUT, chunk, offset, chunk.length - offset, null, (error, written) => {
    if (error !== null) {
      if (error.code === "EAGAIN") {
        setTimeout(() => send(chunk, offset), 5)
        return
      }
      writing = false
      queue = []
      queuedChars = 0
      return
    }
    if (offset + written < chunk.length) return send(chunk, offset + written)
    writing = false
    pump()
  })
}

const pump = () => {
  scheduled = false
  if (writing || queue.length === 0) return
  const chunk = Buffer.from(queue.join(""), "utf8")
  queue = []
  queuedChars = 0
  writing = true
  send(chunk, 0)
}

/** Appends one line (without its newline) to the log; it is written once the current turn of the event loop is done. */
export const writeLine = (line: string) => {
  if (queuedChars >= MAX_QUEUED_CHARS) {
    dropped++
    return
  }
  if (dropped > 0) {
    queue.push(`{"time":"${new Date().toISOString()}","level":"WARN","message":"log lines dropped: stdout is not being read","dropped":${dropped}}\n`)
    dropped = 0
  }
  queue.push(line + "\n")
  queuedChars += line.length + 1
  if (!scheduled && !writing) {
    scheduled = true
    setImmediate(pump)
  }
}

// What is still queued when the process ends is written before it goes (a write under way may be cut short).
process.once("exit", () => {
  if (queue.length === 0) return
  try {
    writeSync(STDOUT, queue.join(""))
  } catch {
    // stdout is gone or full: nothing more can be done at exit
  }
})

const messageOf = (message: unknown): unknown => {
  if (List.isList(message)) return messageOf(List.toArray(message))
  if (Array.isArray(message)) return message.length === 1 ? messageOf(message[0]) : message.map(messageOf)
  return message instanceof Error ? message.message : message
}

let format: LogFormat = "json"

/** A value in a pretty line: bare when it is a plain word, quoted otherwise. */
const prettyValue = (value: unknown) =>
  typeof value === "string" && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)

/**
 * Effect's log through the buffer: time, level, message, annotations and,
 * for a failure, the cause; a JSON object, or a pretty line (the cause on
 * the lines after it).
 */
export const lineLogger = Logger.make(({ annotations, cause, date, logLevel, message }) => {
  const entry: Record<string, unknown> = { time: date.toISOString(), level: logLevel.label, message: messageOf(message) }
  if (HashMap.size(annotations) > 0) {
    for (const [key, value] of annotations) entry[key] = value
  }
  const failure = Cause.isEmpty(cause) ? undefined : Cause.pretty(cause, { renderErrorCause: true })
  if (format === "pretty") {
    const { level, message: text, time, ...rest } = entry
    const fields = Object.entries(rest).map(([key, value]) => ` ${key}=${prettyValue(value)}`).join("")
    writeLine(`${time} ${level} ${typeof text === "string" ? text : JSON.stringify(text)}${fields}${failure === undefined ? "" : `\n${failure}`}`)
    return
  }
  if (failure !== undefined) entry["cause"] = failure
  let line: string
  try {
    line = JSON.stringify(entry)
  } catch {
    line = JSON.stringify({ time: entry["time"], level: entry["level"], message: String(entry["message"]) })
  }
  writeLine(line)
})

/**
 * Runs `program` with `lineLogger`, writing `logFormat` lines, as its only
 * logger (in place of Effect's default and the runtime's pretty one, both
 * synchronous).
 */
export const withLog = (logFormat: LogFormat) => <A, E, R>(program: Effect.Effect<A, E, R>) => {
  format = logFormat
  return Effect.locallyWith(program, FiberRef.currentLoggers, () => HashSet.make(lineLogger))
}

/** A path segment a client could have put a key, invite or link token in. */
const SECRET_LIKE = /ts[kil]_/i

/** The path without its query, and without any segment that looks like a secret. */
export const pathOf = (url: string) => {
  const query = url.indexOf("?")
  const path = query < 0 ? url : url.slice(0, query)
  return SECRET_LIKE.test(path) ? path.split("/").map((part) => (SECRET_LIKE.test(part) ? "[redacted]" : part)).join("/") : path
}

/** The request's span as its log line names it, so that a line leads to its trace (docs/operations.md). */
interface SpanIds {
  readonly traceId: string
  readonly spanId: string
}

/** Appends the line of a request that took `ms` and was answered `status`; `span` only when it was traced. */
export const logRequest = (
  method: string,
  route: string,
  path: string,
  status: number,
  ms: number,
  requestId: string,
  principal: string | undefined,
  span: SpanIds | undefined
) => {
  if (format === "pretty") {
    writeLine(
      `${new Date().toISOString()} INFO ${method} ${route} ${status} ${ms.toFixed(2)}ms path=${JSON.stringify(path)} ` +
        `request_id=${requestId}${principal === undefined ? "" : ` principal=${principal}`}` +
        (span === undefined ? "" : ` trace_id=${span.traceId} span_id=${span.spanId}`)
    )
    return
  }
  writeLine(
    `{"time":"${new Date().toISOString()}","level":"INFO","message":"request","method":${JSON.stringify(method)},` +
      `"route":${JSON.stringify(route)},"path":${JSON.stringify(path)},"status":${status},"ms":${ms.toFixed(2)},` +
      `"request_id":${JSON.stringify(requestId)}${principal === undefined ? "" : `,"principal":${JSON.stringify(principal)}`}` +
      `${span === undefined ? "" : `,"trace_id":${JSON.stringify(span.traceId)},"span_id":${JSON.stringify(span.spanId)}`}}`
  )
}

const notReady = HttpServerResponse.unsafeJson(
  { error: "not_ready", message: "the server is shutting down" },
  { status: 503 }
)

/**
 * Wraps the application: answers `/metrics` and, while draining, `/readyz`;
 * then counts every request and logs its line once its response is known
 * (at level Info, so a minimum log level above Info silences the line, not
 * the count). Costs a route lookup, a timestamp, a string and an array push
 * on the request's path.
 */
export const requestLog = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.withFiberRuntime((fiber) => {
    const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
    const started = performance.now()
    const path = pathOf(request.url)
    const route = routeOf(request.method, path)
    const answered = route === "/metrics"
      ? Effect.sync(() => HttpServerResponse.text(exposition(), { contentType: "text/plain; version=0.0.4; charset=utf-8" }))
      : route === "/readyz" && isDraining()
      ? Effect.succeed(notReady)
      : app
    const parent = Context.getOption(fiber.currentContext, Tracer.ParentSpan)
    // traced (OTEL_EXPORTER_OTLP_ENDPOINT): the request's span says its route and the request id of its log line,
    // and the line its trace and span ids; untraced, there is no span (`main.ts` turns the platform's off)
    const span = parent._tag === "Some" && parent.value._tag === "Span" ? parent.value : undefined
    if (span !== undefined) {
      span.attribute("http.route", route)
      span.attribute("http.request_id", requestIdOf(NodeHttpServerRequest.toIncomingMessage(request)))
    }
    const logged = LogLevel.greaterThanEqual(LogLevel.Info, fiber.getFiberRef(FiberRef.currentMinimumLogLevel))
    return Effect.flatMap(Effect.exit(answered), (exit): Exit.Exit<HttpServerResponse.HttpServerResponse, E> => {
      const status = exit._tag === "Success" ? exit.value.status : HttpServerError.causeResponseStripped(exit.cause)[0].status
      const ms = performance.now() - started
      recordRequest(request.method, route, status, ms / 1000)
      if (logged) {
        const incoming = NodeHttpServerRequest.toIncomingMessage(request)
        logRequest(request.method, route, path, status, ms, requestIdOf(incoming), principalOf(incoming), span)
      }
      return exit
    })
  })
