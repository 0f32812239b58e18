/**
 * Test harness: the real HTTP server on an ephemeral port over a fresh
 * store (a temp SQLite file or a fresh PostgreSQL database), migrated and
 * bootstrapped with a known admin key. Requests go over real sockets:
 * setup through the project's own SDK, `@tessera/client`, typed, each step
 * failing the test with the `TesseraError` it met; the request under test
 * as raw as the test needs it. The event log is read as the admin reads it.
 */
import { expect } from "@effect/vitest"
import { HttpApiBuilder, HttpServer } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { bootstrapAdmin, formatToken, type Handle } from "@tessera/domain"
import { type ConfiguredStore, Migrations, up } from "@tessera/config"
import * as Pg from "@tessera/store-pg"
import { freshDatabaseLayer } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createClient, type Schemas, type TesseraClient, unwrap } from "@tessera/client"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { NodeCryptoLive } from "../src/crypto.js"
import * as Listener from "../src/listener.js"
import { HttpAppLive } from "../src/server.js"

export type StoreName = "sqlite" | "pg"

export const sqliteStore = (): Layer.Layer<ConfiguredStore> => {
  const file = join(mkdtempSync(join(tmpdir(), "tessera-http-")), "tessera.db")
  return Layer.merge(
    Sqlite.layer(file),
    Layer.succeed(Migrations, { dialect: "sqlite", files: Sqlite.migrations(), lock: Sqlite.dialect })
  )
}

export const pgStore = (maxConnections = 40): Layer.Layer<ConfiguredStore> =>
  freshDatabaseLayer((url) =>
    Layer.merge(
      Pg.layer({ url, maxConnections }),
      Layer.succeed(Migrations, { dialect: "pg", files: Pg.migrations(), lock: Pg.dialect })
    )
  )

export const storeOf = (name: StoreName) => (name === "sqlite" ? sqliteStore() : pgStore())

/**
 * What a test needs: the server's base URL, the admin's key and an SDK
 * client sending it, a client for any other bearer, and the store's SQL
 * client.
 */
export class Served extends Context.Tag("test/Served")<Served, {
  readonly baseUrl: string
  readonly adminKey: string
  readonly admin: TesseraClient
  /** An SDK client sending `apiKey` (an API key or a share link's token), or no bearer. */
  readonly client: (apiKey?: string) => TesseraClient
  readonly sql: SqlClient.SqlClient
}>() {}

/**
 * The server as `pnpm start` runs it untraced, without its request log: the
 * direct routes (`direct.ts`) in front of the application, unless `direct`
 * is false.
 */
const listening = (direct: boolean) =>
  Listener.layer(createServer, { port: 0, host: "127.0.0.1" }, { routes: direct, logged: false }).pipe(Layer.provide(NodeCryptoLive))

export const served = (store: Layer.Layer<ConfiguredStore>, options: { readonly direct?: boolean } = {}) => {
  const adminKey = formatToken("tsk", randomBytes(32))
  const prepared = Layer.effectDiscard(
    Effect.zipRight(up, bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.some(Redacted.make(adminKey)) }))
  ).pipe(Layer.provideMerge(store))
  const server = HttpApiBuilder.serve().pipe(
    Layer.provide(HttpAppLive),
    Layer.provideMerge(listening(options.direct ?? true))
  )
  return Layer.effect(
    Served,
    Effect.gen(function*() {
      const address = (yield* HttpServer.HttpServer).address
      const port = address._tag === "TcpAddress" ? address.port : 0
      const baseUrl = `http://127.0.0.1:${port}`
      const client = (apiKey?: string) => createClient({ baseUrl, apiKey })
      return { baseUrl, adminKey, admin: client(adminKey), client, sql: yield* SqlClient.SqlClient }
    })
  ).pipe(Layer.provideMerge(server), Layer.provideMerge(prepared), Layer.orDie)
}

/** A second server on the same store with no direct routes: every request through the application. */
export class Undirected extends Context.Tag("test/Undirected")<Undirected, { readonly baseUrl: string }>() {}

/**
 * `served(store)` and, on the same store in the same process, `Undirected`:
 * the same request can be sent to both and their answers compared.
 */
export const servedTwice = (store: Layer.Layer<ConfiguredStore>) =>
  Layer.scoped(
    Undirected,
    Effect.gen(function*() {
      const server = HttpApiBuilder.serve().pipe(Layer.provide(HttpAppLive), Layer.provideMerge(listening(false)))
      const context = yield* Layer.buildWithScope(server, yield* Effect.scope)
      const address = Context.get(context, HttpServer.HttpServer).address
      return { baseUrl: `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}` }
    })
  ).pipe(Layer.provideMerge(served(store)), Layer.orDie)

export interface Reply {
  readonly status: number
  readonly body: any
  readonly text: string
  readonly headers: Headers
}

const toReply = async (response: Response): Promise<Reply> => {
  const text = await response.text()
  let body: unknown = undefined
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: response.status, body, text, headers: response.headers }
}

/** Sends one request with `fetch`; `key` becomes the bearer. */
const call = (
  base: string,
  method: string,
  path: string,
  options: { readonly key?: string; readonly json?: unknown; readonly raw?: string } = {}
): Promise<Reply> =>
  fetch(base + path, {
    method,
    headers: {
      ...(options.key !== undefined ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.json !== undefined || options.raw !== undefined ? { "content-type": "application/json" } : {})
    },
    ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
    ...(options.raw !== undefined ? { body: options.raw } : {})
  }).then(toReply)

/**
 * One request with exactly these headers and this body, as a hostile client
 * would send it: any content type, raw bytes, or a stream (sent chunked).
 */
export const send = (
  method: string,
  path: string,
  options: {
    readonly key?: string
    readonly headers?: Record<string, string>
    readonly body?: string | Uint8Array | FormData | URLSearchParams | ReadableStream<Uint8Array>
  } = {}
) =>
  Effect.flatMap(Served, ({ baseUrl }) =>
    Effect.promise(() =>
      fetch(baseUrl + path, {
        method,
        headers: { ...(options.key !== undefined ? { authorization: `Bearer ${options.key}` } : {}), ...options.headers },
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...(options.body instanceof ReadableStream ? { duplex: "half" } : {})
      } as RequestInit).then(toReply)
    ))

/** One request to the served API. */
export const http = (method: string, path: string, options?: Parameters<typeof call>[3]) =>
  Effect.flatMap(Served, ({ baseUrl }) => Effect.promise(() => call(baseUrl, method, path, options)))

/** One request as the holder of `key`, with an optional JSON body. */
export const as = (key: string, method: string, path: string, json?: unknown) =>
  http(method, path, { key, ...(json !== undefined ? { json } : {}) })

/** One request as the bootstrapped system admin. */
export const asAdmin = (method: string, path: string, json?: unknown) =>
  Effect.flatMap(Served, ({ adminKey }) => as(adminKey, method, path, json))

/** What an SDK call resolves to: its data or its error, and the response. */
export type SdkResult = { readonly data?: unknown; readonly error?: unknown; readonly response: Response }

/** A setup step through the SDK: its data, or the test fails with the `TesseraError` (status and body) it threw. */
export const sdk = <R extends SdkResult>(call: () => Promise<R>) => Effect.promise(() => unwrap(call()))

/** A request through the SDK answered with exactly `status` (a test's subject, not only its setup): its typed data. */
export const answers = <R extends SdkResult>(
  status: number,
  call: () => Promise<R>
) =>
  Effect.promise(async () => {
    const reply = await call()
    expect({ status: reply.response.status, error: reply.error }).toEqual({ status, error: undefined })
    return reply.data as Exclude<R["data"], undefined>
  })

/** A setup step as the bootstrapped system admin, through the SDK. */
export const byAdmin = <R extends SdkResult>(call: (admin: TesseraClient) => Promise<R>) =>
  Effect.flatMap(Served, ({ admin }) => sdk(() => call(admin)))

/** One entry of the event log as the API lists it. */
type Event = Schemas["Event"]

/** Every event after `since`, optionally only those of one workspace, as the admin pages through the log. */
export const eventsSince = (since: number, workspaceId?: string) =>
  Effect.flatMap(Served, ({ admin }) =>
    Effect.promise(async () => {
      const all: Array<Event> = []
      const query = { after: since, ...(workspaceId === undefined ? {} : { workspace_id: workspaceId }) }
      for await (const page of admin.pages("/v1/events", { params: { query }, limit: 1000 })) all.push(...page.events)
      return all
    }))

/** The seq of the newest event so far. */
export const mark = Effect.map(eventsSince(0), (events) => events.at(-1)?.seq ?? 0)
