/**
 * The server's log: one JSON object per line on stdout, written off the
 * request's path and off the event loop. A request only appends its line to
 * a queue; once the current turn of the event loop is done the queue goes to
 * stdout in one write on the thread pool, so a burst of requests costs one
 * write, and a slow reader of stdout (a full pipe) delays the log, never a
 * response. If the reader stops altogether the queue is capped and lines
 * are dropped and counted rather than held without bound. The request line
 * says method, path (never the query), status and duration; Effect's own
 * log lines (start-up, defects) go the same way. Nothing here ever sees a
 * header or a body, so no secret can reach the log.
 */
import { type HttpApp, HttpServerError, HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { Cause, Context, Effect, type Exit, FiberRef, HashMap, List, Logger, LogLevel } from "effect"
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

/**
 * Effect's log as JSON lines through the buffer: time, level, message,
 * annotations and, for a failure, the cause.
 */
export const jsonLineLogger = Logger.make(({ annotations, cause, date, logLevel, message }) => {
  const entry: Record<string, unknown> = { time: date.toISOString(), level: logLevel.label, message: messageOf(message) }
  if (HashMap.size(annotations) > 0) {
    for (const [key, value] of annotations) entry[key] = value
  }
  if (!Cause.isEmpty(cause)) entry["cause"] = Cause.pretty(cause, { renderErrorCause: true })
  let line: string
  try {
    line = JSON.stringify(entry)
  } catch {
    line = JSON.stringify({ time: entry["time"], level: entry["level"], message: String(entry["message"]) })
  }
  writeLine(line)
})

/** Replaces Effect's default (pretty, synchronous) logger with `jsonLineLogger`. */
export const JsonLogLive = Logger.replace(Logger.defaultLogger, jsonLineLogger)

const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query < 0 ? url : url.slice(0, query)
}

/** Appends the line of a request that started at `started` (`performance.now()`) and was answered `status`. */
export const logRequest = (method: string, url: string, status: number, started: number) =>
  writeLine(
    `{"time":"${new Date().toISOString()}","level":"INFO","message":"request","method":${JSON.stringify(method)},` +
      `"path":${JSON.stringify(pathOf(url))},"status":${status},"ms":${(performance.now() - started).toFixed(2)}}`
  )

/**
 * Logs one line per request once its response is known, at level Info (so
 * a minimum log level above Info silences it). Costs a timestamp, a string
 * and an array push on the request's path.
 */
export const requestLog = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.withFiberRuntime((fiber) => {
    if (!LogLevel.greaterThanEqual(LogLevel.Info, fiber.getFiberRef(FiberRef.currentMinimumLogLevel))) return app
    const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
    const started = performance.now()
    return Effect.flatMap(Effect.exit(app), (exit): Exit.Exit<HttpServerResponse.HttpServerResponse, E> => {
      const status = exit._tag === "Success" ? exit.value.status : HttpServerError.causeResponseStripped(exit.cause)[0].status
      logRequest(request.method, request.url, status, started)
      return exit
    })
  })
