/**
 * The Node server under the application, and its end (docs/operations.md,
 * "Shutdown"): every request gets a request id (the client's
 * `X-Request-Id` when it is a plain short value, else a new one), echoed
 * on the response; the responses in flight are counted so that on SIGTERM
 * the server stops accepting connections, lets them finish within the
 * shutdown timeout, and only then lets the store close. The signal is also
 * announced (`drainBegun`), so that the event streams, which would never
 * finish by themselves, end at once rather than hold the drain. It never reads a
 * header other than `X-Request-Id`, and never accepts as an id a value that
 * looks like a Tessera secret.
 */
import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { Server as NetServer } from "node:net"
import { Effect } from "effect"

const REQUEST_ID = Symbol.for("tessera/request-id")
const PRINCIPAL = Symbol.for("tessera/principal")

interface Marked {
  [REQUEST_ID]?: string
  [PRINCIPAL]?: string
}

/** A client's id is kept when it is short and plain; one that could be a key, invite or link token never is. */
const ACCEPTED_ID = /^[A-Za-z0-9._:\/+=-]{1,128}$/
const SECRET_LIKE = /ts[kil]_/i

// `incoming` is undefined when the application runs on something other than a Node server (then nothing is recorded)
export const requestIdOf = (incoming: IncomingMessage | undefined): string => (incoming as Marked | undefined)?.[REQUEST_ID] ?? ""
export const principalOf = (incoming: IncomingMessage | undefined): string | undefined => (incoming as Marked | undefined)?.[PRINCIPAL]
/** Records who the request acts as (a user id, or `share_link:<id>`), for its log line. */
export const recordPrincipal = (incoming: IncomingMessage | undefined, principal: string) => {
  if (incoming !== undefined) (incoming as Marked)[PRINCIPAL] = principal
}

/** The shortest drain: requests already sent when the signal came are read and served within it. */
const LINGER_MS = 500

let draining = false
/** Whether SIGTERM was received: `/readyz` then answers 503. */
export const isDraining = () => draining
let announceDrain: () => void = () => {}
/** Settles when SIGTERM is received: open event streams then end (`stream.ts`), so that they do not hold the drain. */
export const drainBegun = new Promise<void>((resolve) => (announceDrain = resolve))

/** The server `NodeHttpServer.layer` serves on, and how it drains. */
export const makeServer = () => {
  const inFlight = new Set<ServerResponse>()
  let idle: (() => void) | undefined
  let onFinished: (() => void) | undefined
  const server = createServer()
  // registered before the application's own listener, so it runs first
  server.on("request", (incoming: IncomingMessage, response: ServerResponse) => {
    const header = incoming.headers["x-request-id"]
    const id = typeof header === "string" && ACCEPTED_ID.test(header) && !SECRET_LIKE.test(header) ? header : randomUUID()
    ;(incoming as Marked)[REQUEST_ID] = id
    response.setHeader("x-request-id", id)
    if (draining) response.setHeader("connection", "close")
    inFlight.add(response)
    response.once("close", () => {
      inFlight.delete(response)
      if (onFinished !== undefined) onFinished()
      if (inFlight.size === 0 && idle !== undefined) idle()
    })
  })

  let finished = 0
  /** Stops accepting and marks the server draining; from then on every response closes its connection. */
  const begin = () => {
    if (draining) return
    draining = true
    announceDrain()
    onFinished = () => {
      finished++
    }
    NetServer.prototype.close.call(server)
    for (const response of inFlight) if (!response.headersSent) response.setHeader("connection", "close")
  }
  // taken at once, on the signal itself: the application's own shutdown (which then calls `drain`) may wait for busy fibers
  process.once("SIGTERM", begin)
  process.once("SIGINT", begin)

  /**
   * Marks the server draining, stops accepting connections, and waits until
   * no response is in flight or `timeoutMs` passed; then closes every
   * connection left, which interrupts what still runs on them. Connections
   * already open are not cut at once (Node's own `close` would end the idle
   * ones, losing a request already sent but not yet read): a request that
   * arrives on one while draining is served, answered with
   * `Connection: close`, and counted as in flight. The drain lasts at
   * least `LINGER_MS` (within the timeout), so that a request a client had
   * already sent when the signal came is read and served, not cut.
   */
  const drain = (timeoutMs: number) =>
    Effect.async<number>((resume) => {
      begin()
      let settled = false
      let lingering = true
      const settle = () => {
        if (settled) return
        settled = true
        clearTimeout(deadline)
        clearTimeout(linger)
        idle = undefined
        server.closeAllConnections()
        resume(Effect.succeed(finished))
      }
      // the drain ends with the last response in flight, once the linger is over, or at the deadline
      const deadline = setTimeout(settle, timeoutMs)
      const linger = setTimeout(() => {
        lingering = false
        if (inFlight.size === 0) settle()
      }, Math.min(LINGER_MS, timeoutMs))
      idle = () => {
        if (!lingering) settle()
      }
    })
  return { server, drain, inFlight: () => inFlight.size }
}
