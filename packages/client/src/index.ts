/**
 * @tessera/client — the Tessera HTTP API for any TypeScript application,
 * called with `await`. Requests and replies are typed by the OpenAPI
 * document generated from the server's `HttpApi` contract
 * (`src/generated/openapi.ts`); the transport is openapi-fetch. Every call
 * resolves to `{ data }` or `{ error }`, and `error` is the union of the
 * error bodies that operation declares, told apart by their `error` code.
 * This module adds only what the contract cannot say: the API key as the
 * bearer, `unwrap` for code that prefers exceptions, and `pages` for
 * lists. It must never import the server's packages or Effect: it is
 * installed on its own.
 */
import createFetchClient, { type Client } from "openapi-fetch"
import type { components, operations, paths } from "./generated/openapi.js"

export type { components, operations, paths }

/** The schemas of the API by name: `Schemas["Workspace"]`, `Schemas["LastAdmin"]`, … */
export type Schemas = components["schemas"]

/** Every error body the API can send: `{ error, message, ...details }`, discriminated by `error`. */
export type ErrorBody = Extract<Schemas[keyof Schemas], { readonly error: string }>

/** Every error code, e.g. `"last_admin"`. */
export type ErrorCode = ErrorBody["error"]

/** The error body with this code, e.g. `ErrorOf<"last_admin">` carries `workspace_ids`. */
export type ErrorOf<C extends ErrorCode> = Extract<ErrorBody, { readonly error: C }>

export interface ClientOptions {
  /** Where the server answers, e.g. `http://127.0.0.1:8787`. */
  readonly baseUrl: string
  /** An API key (`tsk_…`) or a share link's token (`tsl_…`), sent as `Authorization: Bearer`. */
  readonly apiKey?: string | undefined
  /** Headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>
  /** A `fetch` to use instead of the global one (tests, proxies, retries). */
  readonly fetch?: (request: Request) => Promise<Response>
}

type GetOperation<P extends keyof paths> = paths[P] extends { get: infer O } ? O : never
type OkBody<O> = O extends { responses: { 200: { content: { "application/json": infer B } } } } ? B : never
type ListKey<B> = { [K in keyof B]-?: B[K] extends ReadonlyArray<unknown> ? K : never }[keyof B]

/** The GET operations answering a list: their 200 body has an array field. */
export type ListPath = {
  [P in keyof paths]: [GetOperation<P>] extends [never] ? never : [ListKey<OkBody<GetOperation<P>>>] extends [never] ? never : P
}[keyof paths]

/** One page of a list, as the server sends it. */
export type Page<P extends ListPath> = OkBody<GetOperation<P>>

type PageParams<P extends ListPath> = GetOperation<P> extends { parameters: infer Params }
  ? Omit<Params, "header" | "cookie">
  : never

/** Which list to page through, and how many items to ask for per page. */
export type PageOptions<P extends ListPath> =
  & { readonly limit?: number }
  & (PageParams<P> extends { path: object } ? { readonly params: PageParams<P> } : { readonly params?: PageParams<P> })

export interface TesseraClient extends Client<paths, "application/json"> {
  /**
   * The pages of a list, in order: asks for `limit` items per page and
   * passes each page's `next_cursor` as the next page's `cursor` until a
   * page comes without one. A list the server does not page yet comes
   * whole, as one page. A failure throws `TesseraError`.
   */
  readonly pages: <P extends ListPath>(path: P, options: PageOptions<P>) => AsyncGenerator<Page<P>, void, undefined>
}

/** An error reply from Tessera: its HTTP status and its body, whose `error` narrows it. */
export class TesseraError<E extends ErrorBody = ErrorBody> extends Error {
  override readonly name = "TesseraError"
  constructor(readonly status: number, readonly body: E) {
    super(`${status} ${body.error}: ${body.message}`)
  }
  /** Whether this error is the one with `code`, narrowing `body` to it. */
  is<C extends E["error"]>(code: C): this is TesseraError<Extract<E, { readonly error: C }>> {
    return this.body.error === code
  }
}

const isErrorBody = (value: unknown): value is ErrorBody =>
  typeof value === "object" && value !== null && typeof (value as { error?: unknown }).error === "string" &&
  typeof (value as { message?: unknown }).message === "string"

/** A reply that is not Tessera's own (a proxy's page, an empty body): an ordinary `Error` with what came. */
const unexpected = (response: Response, error: unknown) =>
  new Error(`${response.status} ${response.statusText} from ${response.url}: ${String(error).slice(0, 200)}`)

/**
 * The data of a successful call, or a thrown `TesseraError` typed by the
 * errors this operation declares:
 * `const ws = await unwrap(client.POST("/v1/workspaces", { body }))`.
 */
export const unwrap = async <R extends { readonly data?: unknown; readonly error?: unknown; readonly response: Response }>(
  call: Promise<R>
): Promise<Exclude<R["data"], undefined>> => {
  const { data, error, response } = await call
  if (!response.ok || error !== undefined) {
    if (isErrorBody(error)) throw new TesseraError(response.status, error as Extract<R["error"], ErrorBody>)
    throw unexpected(response, error)
  }
  return data as Exclude<R["data"], undefined>
}

/** A client for the server at `baseUrl`, sending `apiKey` (if any) as the bearer. */
export const createClient = (options: ClientOptions): TesseraClient => {
  const client = createFetchClient<paths, "application/json">({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers: {
      ...options.headers,
      ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` })
    },
    ...(options.fetch === undefined ? {} : { fetch: options.fetch })
  })

  async function* pages<P extends ListPath>(path: P, pageOptions: PageOptions<P>): AsyncGenerator<Page<P>, void, undefined> {
    const params = (pageOptions.params ?? {}) as { readonly path?: object; readonly query?: object }
    let cursor: string | undefined
    for (;;) {
      const query = {
        ...params.query,
        ...(pageOptions.limit === undefined ? {} : { limit: pageOptions.limit }),
        ...(cursor === undefined ? {} : { cursor })
      }
      // The path is one of `ListPath`, so the call is well typed; TypeScript cannot see it through the generic.
      const page = await unwrap(client.GET(path as "/v1/users", { params: { ...params, query } } as never))
      yield page as Page<P>
      const next = (page as { readonly next_cursor?: unknown }).next_cursor
      if (typeof next !== "string" || next === "") return
      cursor = next
    }
  }

  return Object.assign(client, { pages })
}
