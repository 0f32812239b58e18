/**
 * Where Tessera's server spends its CPU under load: seeds a store as `http.ts` does, starts the server with
 * `node --cpu-prof`, loads one endpoint with autocannon, stops the server and prints the frames with the most
 * self time (and the share of the profile they take). With `--compare`, first runs the HTTP workloads on that
 * store beside the bare server (one short repetition). Prints only; asserts nothing.
 *
 * `tsx src/http-profile.ts [sqlite|pg] [healthz|me|check] [seconds] [--compare] [--bare] [--users N]`
 * (`--bare`: profiles the bare comparator instead of Tessera)
 */
import { readdirSync, readFileSync } from "node:fs"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { adminKey, endpointsFor, httpBench, load, pgStore, sqliteStore, startBare, startTessera } from "./http.js"

const args = process.argv.slice(2)
const flag = (name: string) => {
  const at = args.indexOf(name)
  return at < 0 ? undefined : args[at + 1]
}
const positional = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1]!.startsWith("--users")))
const dialect = positional[0] === "pg" ? "pg" : "sqlite"
const which = positional[1] ?? "healthz"
const seconds = Number(positional[2] ?? 10)
const users = Number(flag("--users") ?? 1_000)

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}
interface Profile {
  readonly startTime: number
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const short = (url: string) => {
  const at = url.lastIndexOf("node_modules/")
  const path = at >= 0 ? url.slice(at + "node_modules/".length).replace(/^\.pnpm\/[^/]+\/node_modules\//, "") : url.replace(/^.*\/work\/[^/]+\//, "")
  return path.replace(/^file:\/\//, "")
}

/** The monotonic clock V8 stamps samples with (CLOCK_MONOTONIC, µs), the same in every process of the machine. */
const nowUs = () => Number(process.hrtime.bigint() / 1000n)

/** Self time per frame (function, file, line) over samples between `from` and `to` (µs), largest first. */
export const topFrames = (profile: Profile, count: number, from: number, to: number) => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  let total = 0
  let at = profile.startTime
  profile.samples.forEach((id, k) => {
    const dt = profile.timeDeltas[k] ?? 0
    at += dt
    if (at < from || at > to) return
    total += dt
    const frame = byId.get(id)!.callFrame
    const name = `${frame.functionName || "(anonymous)"} ${frame.url === "" ? "" : `${short(frame.url)}:${frame.lineNumber + 1}`}`.trim()
    self.set(name, (self.get(name) ?? 0) + dt)
  })
  return {
    totalMs: total / 1000,
    frames: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([frame, us]) => ({
      frame,
      "self ms": Math.round(us / 1000),
      "self %": ((100 * us) / total).toFixed(1)
    }))
  }
}

const program = Effect.gen(function*() {
  const key = adminKey()
  const store = yield* (dialect === "pg" ? pgStore(users, key) : sqliteStore(users, key))
  const endpoint = endpointsFor(users).find((e) => e.path.endsWith(which))!
  yield* Effect.promise(async () => {
    if (args.includes("--compare")) {
      console.table((await httpBench(dialect, store, key, users, { seconds: 2, reps: 1, warmup: 1, connections: 32 })).map((r) => ({
        endpoint: r.endpoint,
        "Tessera req/s": Math.round(r.tessera.rps),
        "bare req/s": Math.round(r.bare.rps),
        ratio: r.ratio.toFixed(2),
        target: r.target === null ? "—" : `≥ ${r.target}`
      })))
    }
    const window = { from: 0, to: 0 }
    const dir = mkdtempSync(join(tmpdir(), "tessera-cpu-prof-"))
    const server = await (args.includes("--bare") ? startBare : startTessera)(store, ["--cpu-prof", `--cpu-prof-dir=${dir}`])
    try {
      await load(server, endpoint, key, 1, 32)
      window.from = nowUs()
      const result = await load(server, endpoint, key, seconds, 32)
      console.log(`${dialect} ${endpoint.name} under --cpu-prof: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, ` +
        `p99 ${result.latency.p99} ms, ${result.requests.total} requests; the server wrote ${server.logged()} bytes to stdout`)
      window.to = nowUs()
    } finally {
      await server.stop()
    }
    // the main thread's profile (tsx's loader thread writes one too)
    const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort()
    if (files.length === 0) throw new Error(`no profile in ${dir}: the server did not exit cleanly`)
    const { frames, totalMs } = topFrames(JSON.parse(readFileSync(join(dir, files[0]!), "utf8")) as Profile, 25, window.from, window.to)
    console.log(`profile ${join(dir, files[0]!)}: ${Math.round(totalMs)} ms sampled while loaded`)
    console.table(frames)
  })
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exit(1)
})
