/**
 * The server's metrics, served as Prometheus text at `GET /metrics`
 * (docs/operations.md, "Logs, traces and metrics"): requests and their
 * latency by route template and status, permission-check and invite
 * redemption requests by status, and the store's connections. Counting is
 * a map lookup and a few additions on the request's path; the text is
 * built only when scraped. Labels are route templates and statuses, never
 * a path, an id or anything a client chose.
 */

/** Upper bounds of the latency buckets, in seconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

interface Series {
  readonly method: string
  readonly route: string
  readonly status: number
  count: number
  sum: number
  readonly buckets: Array<number>
}

const series = new Map<string, Series>()

/** The requests also counted on their own: a check batch, an invite redemption. */
const outcomes = { check: new Map<number, number>(), redeem: new Map<number, number>() }

/** What the store's connections are doing, when the store can tell. */
export interface PoolUsage {
  readonly max: number
  readonly open: number
  readonly inUse: number
  readonly waiting: number
}
let poolUsage: (() => PoolUsage) | undefined
export const reportPoolUsage = (read: () => PoolUsage) => {
  poolUsage = read
}

/** Counts one answered request. */
export const recordRequest = (method: string, route: string, status: number, seconds: number) => {
  const key = `${method} ${route} ${status}`
  let entry = series.get(key)
  if (entry === undefined) {
    entry = { method, route, status, count: 0, sum: 0, buckets: BUCKETS.map(() => 0) }
    series.set(key, entry)
  }
  entry.count++
  entry.sum += seconds
  for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) entry.buckets[i]!++
  const counted = method !== "POST"
    ? undefined
    : route === "/v1/check"
    ? outcomes.check
    : route === "/v1/invites/redeem"
    ? outcomes.redeem
    : undefined
  if (counted !== undefined) counted.set(status, (counted.get(status) ?? 0) + 1)
}

const label = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")

/** Every metric in the Prometheus text exposition format (version 0.0.4). */
export const exposition = (): string => {
  const lines: Array<string> = []
  lines.push("# HELP tessera_http_requests_total HTTP requests answered, by method, route template and status.")
  lines.push("# TYPE tessera_http_requests_total counter")
  for (const s of series.values()) {
    lines.push(`tessera_http_requests_total{method="${s.method}",route="${label(s.route)}",status="${s.status}"} ${s.count}`)
  }
  lines.push("# HELP tessera_http_request_duration_seconds Time to answer an HTTP request, by method, route template and status.")
  lines.push("# TYPE tessera_http_request_duration_seconds histogram")
  for (const s of series.values()) {
    const labels = `method="${s.method}",route="${label(s.route)}",status="${s.status}"`
    BUCKETS.forEach((bound, i) => lines.push(`tessera_http_request_duration_seconds_bucket{${labels},le="${bound}"} ${s.buckets[i]}`))
    lines.push(`tessera_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${s.count}`)
    lines.push(`tessera_http_request_duration_seconds_sum{${labels}} ${s.sum}`)
    lines.push(`tessera_http_request_duration_seconds_count{${labels}} ${s.count}`)
  }
  lines.push("# HELP tessera_check_requests_total Permission-check batches (POST /v1/check), by status.")
  lines.push("# TYPE tessera_check_requests_total counter")
  for (const [status, n] of outcomes.check) lines.push(`tessera_check_requests_total{status="${status}"} ${n}`)
  lines.push("# HELP tessera_invite_redemptions_total Invite redemptions (POST /v1/invites/redeem), by status.")
  lines.push("# TYPE tessera_invite_redemptions_total counter")
  for (const [status, n] of outcomes.redeem) lines.push(`tessera_invite_redemptions_total{status="${status}"} ${n}`)
  if (poolUsage !== undefined) {
    const usage = poolUsage()
    lines.push("# HELP tessera_pool_connections_max Connections the store's pool may open.")
    lines.push("# TYPE tessera_pool_connections_max gauge")
    lines.push(`tessera_pool_connections_max ${usage.max}`)
    lines.push("# HELP tessera_pool_connections Connections open, and of those in use.")
    lines.push("# TYPE tessera_pool_connections gauge")
    lines.push(`tessera_pool_connections{state="open"} ${usage.open}`)
    lines.push(`tessera_pool_connections{state="in_use"} ${usage.inUse}`)
    lines.push("# HELP tessera_pool_waiting Statements or transactions waiting for a connection.")
    lines.push("# TYPE tessera_pool_waiting gauge")
    lines.push(`tessera_pool_waiting ${usage.waiting}`)
  }
  return lines.join("\n") + "\n"
}
