/**
 * The route template of a request (`/v1/resources/:id`), for its log line,
 * its metrics and its span: taken from the API contract itself, so a new
 * endpoint is known without a list to keep. A path that matches no route is
 * `unmatched`, so no label or log field ever carries a path a client made up.
 */
import { HttpApi } from "@effect/platform"
import { TesseraApi } from "@tessera/api"

interface Pattern {
  readonly template: string
  readonly regex: RegExp
}

const exact = new Map<string, string>()
const patterns = new Map<string, Array<Pattern>>()

const add = (method: string, template: string) => {
  if (!template.includes(":") && !template.includes("*")) {
    exact.set(`${method} ${template}`, template)
    return
  }
  const source = template.split("/").map((part) =>
    part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  ).join("/")
  const list = patterns.get(method) ?? []
  list.push({ template, regex: new RegExp(`^${source}/?$`) })
  patterns.set(method, list)
}

HttpApi.reflect(TesseraApi, {
  onGroup: () => {},
  onEndpoint: ({ endpoint }) => add(endpoint.method, endpoint.path)
})
for (const [method, template] of [["GET", "/openapi.json"], ["GET", "/docs"], ["GET", "/metrics"]] as const) add(method, template)

/** The template of the route `method` and `path` (without its query) reach, or `unmatched`. */
export const routeOf = (method: string, path: string): string => {
  const known = exact.get(`${method} ${path}`)
  if (known !== undefined) return known
  const list = patterns.get(method)
  if (list !== undefined) for (const { regex, template } of list) if (regex.test(path)) return template
  return "unmatched"
}
