/**
 * The methods each path serves, read from the contract, and the 405 a wrong
 * method on a known path answers: `Allow` lists the methods the path serves
 * (HEAD wherever GET is, as the router answers it), the body is the usual
 * wire error. It only looks at requests the router found no route for; it
 * never routes one itself, and never quotes the path back.
 */
import { HttpApi, type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { ApiErrors, TesseraApi } from "@tessera/api"
import { Schema } from "effect"

/** The routes served beside the API: its OpenAPI document and its browsable reference. */
const DOCUMENTATION_ROUTES: ReadonlyArray<{ readonly method: string; readonly path: string }> = [
  { method: "GET", path: "/openapi.json" },
  { method: "GET", path: "/docs" }
]

interface KnownPath {
  /** Literal segments, `undefined` where a path parameter stands. */
  readonly segments: ReadonlyArray<string | undefined>
  readonly methods: Set<string>
}

const knownPaths = (() => {
  const routes: Array<{ method: string; path: string }> = [...DOCUMENTATION_ROUTES]
  HttpApi.reflect(TesseraApi, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) => routes.push({ method: endpoint.method, path: endpoint.path })
  })
  const byPath = new Map<string, KnownPath>()
  for (const { method, path } of routes) {
    const known = byPath.get(path) ?? { segments: path.split("/").map((s) => (s.startsWith(":") ? undefined : s)), methods: new Set() }
    known.methods.add(method)
    if (method === "GET") known.methods.add("HEAD")
    byPath.set(path, known)
  }
  return [...byPath.values()]
})()

/** The methods `pathname` is served with, sorted; empty for a path the API does not have. */
export const allowedMethods = (pathname: string): ReadonlyArray<string> => {
  const segments = pathname.split("/")
  const allowed = new Set<string>()
  for (const known of knownPaths) {
    if (known.segments.length !== segments.length) continue
    const matches = known.segments.every((segment, i) => segment === undefined ? segments[i] !== "" : segment === segments[i])
    if (matches) for (const method of known.methods) allowed.add(method)
  }
  return [...allowed].sort()
}

const encode = Schema.encodeSync(ApiErrors.MethodNotAllowed)

/** The 405 for a request the router found no route for, when its path is known; `undefined` otherwise. */
export const methodNotAllowed = (request: HttpServerRequest.HttpServerRequest): HttpServerResponse.HttpServerResponse | undefined => {
  const allowed = allowedMethods(request.url.split("?")[0]!)
  if (allowed.length === 0 || allowed.includes(request.method)) return undefined
  const allow = allowed.join(", ")
  return HttpServerResponse.unsafeJson(
    encode(new ApiErrors.MethodNotAllowed({ message: `${request.method} is not allowed here; this path allows ${allow}` })),
    { status: 405, headers: { allow } }
  )
}
