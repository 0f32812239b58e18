// The direct routes' short path (docs/http.md, "Direct routes"): a store read that fails, or throws before it
// answers, is a defect like any other — logged with its cause and answered 500 `internal_error` — and never escapes
// the request listener, where it would end the process; the server keeps serving. The routes run here over a runtime
// holding only a failing `HotReads`, on a plain `node:http` server, so nothing but the short path is asked.
import { describe, expect, it } from "@effect/vitest"
import { formatToken } from "@tessera/domain"
import { HotReads } from "@tessera/store-sql"
import { Cause, Effect, Exit, Layer, Logger, Option, Scope } from "effect"
import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { makeDirectRoutes } from "../src/direct.js"

const key = formatToken("tsk", randomBytes(32))

/** A `HotReads` whose key lookup fails (`fails`) or throws before answering (`throws`); its walk is never reached. */
const failing = (how: "fails" | "throws") =>
  Layer.succeed(HotReads, {
    keyOwner: (_digest, done) => {
      if (how === "throws") throw new Error("the driver threw")
      done(new Error("the store failed"), Option.none())
    },
    roleFacts: (_requests, done) => done(new Error("not asked"), [])
  })

/** A plain `node:http` server answering by `routes` alone (404 otherwise), for the scope; its base URL. */
const listening = (routes: (incoming: never, response: never) => boolean) =>
  Effect.gen(function*() {
    const server = createServer((incoming, response) => {
      if (!routes(incoming as never, response as never)) response.writeHead(404).end()
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
      () => Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
    )
    const address = server.address()
    return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
  })

const serve = (how: "fails" | "throws", logged: Array<string>) =>
  Effect.gen(function*() {
    const routes = yield* (makeDirectRoutes(1024 * 1024, false) as Effect.Effect<
      (incoming: never, response: never) => boolean,
      never,
      HotReads | import("effect").Scope.Scope
    >)
    return yield* listening(routes)
  }).pipe(
    Effect.provide(failing(how)),
    Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message, cause }) => {
      logged.push(`${String(message)} ${Cause.pretty(cause)}`)
    })))
  )

describe("direct routes' short path", () => {
  for (const how of ["fails", "throws"] as const) {
    it.scopedLive(`a key lookup that ${how} is answered 500 internal_error, logged, and the server keeps serving`, () =>
      Effect.gen(function*() {
        const logged: Array<string> = []
        const base = yield* serve(how, logged)
        for (const [method, path, body] of [["GET", "/v1/me", undefined], ["POST", "/v1/check", JSON.stringify({ checks: [] })]] as const) {
          const answer = yield* Effect.promise(() =>
            fetch(`${base}${path}`, {
              method,
              headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
              ...(body === undefined ? {} : { body })
            }).then(async (r) => ({ status: r.status, body: await r.json() })))
          expect(answer).toEqual({ status: 500, body: { error: "internal_error", message: expect.any(String) } })
        }
        const healthz = yield* Effect.promise(() => fetch(`${base}/healthz`).then((r) => r.status))
        expect(healthz).toBe(200)
        yield* Effect.sleep("50 millis")
        expect(logged.filter((l) => l.includes("request failed unexpectedly") && l.includes(how === "throws" ? "the driver threw" : "the store failed")).length).toBe(2)
      }), { timeout: 30_000 })
  }
})

describe("direct routes' short path at the server's end", () => {
  it.scopedLive("a read still under way when the listener's scope ends answers nothing, as a stopped use case", () =>
    Effect.gen(function*() {
      const logged: Array<string> = []
      let pending: ((failure: unknown, owner: Option.Option<never>) => void) | undefined
      const held = Layer.succeed(HotReads, {
        keyOwner: (_digest, done) => void (pending = done),
        roleFacts: (_requests, done) => done(new Error("not asked"), [])
      })
      const routesScope = yield* Scope.make()
      const routes = yield* (Scope.extend(makeDirectRoutes(1024 * 1024, false), routesScope) as unknown as Effect.Effect<
        (incoming: never, response: never) => boolean,
        never,
        HotReads
      >).pipe(
        Effect.provide(held),
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void logged.push(String(message)))))
      )
      const base = yield* listening(routes)
      const statuses: Array<number> = []
      const asked = fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(1_000) })
        .then((r) => statuses.push(r.status), () => {})
      // the read is under way; the scope ends; then the store answers, with a failure that would be a 500
      while (pending === undefined) yield* Effect.sleep("5 millis")
      yield* Scope.close(routesScope, Exit.void)
      pending(new Error("the pool has ended"), Option.none())
      yield* Effect.promise(() => asked)
      expect({ statuses, logged }).toEqual({ statuses: [], logged: [] })
    }), { timeout: 30_000 })
})
