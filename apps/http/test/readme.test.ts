// The README's walk-through, run as a reader pastes it: its shell blocks, in order, in one bash session, against a
// fresh server on each store. It owns the rule below and never edits the README.
//
// Which blocks: every ```sh block after the "## Walk-through" heading and before the next "## " heading, except one
// whose fence is preceded (blank lines aside) by `<!-- not run -->`.
//
// How they run: joined into one script under `set -eu -o pipefail`, with `localhost:8787` replaced by the test
// server's address and `ADMIN` in the environment (the server's TESSERA_BOOTSTRAP_TOKEN, as a reader exports the key
// the first start printed). A preamble defines a bash function `curl` that runs the real curl, records the status and
// body of each call in numbered files, and prints the body as curl would, so pipes and `$(…)` captures behave as
// pasted (walk-through curls must therefore not use `-o` or `-w` themselves).
//
// What is checked: the script exits 0, and each `# → NNN {…}` comment (with the `#` lines right after it) describes
// the reply of the curl command right above it: the status is NNN, and the reply has the shape shown, read as JSON in
// which `$NAME` is that shell variable's value at that point, `"…"` any value, `"prefix…"` a string starting so, a `…`
// member or element "and more"; an object may have members the comment leaves out, an array without `…` has exactly
// the elements shown, in that order. Prose after the shape is not read.
import { describe, expect, it } from "@effect/vitest"
import { repoRoot } from "@tessera/config/testing"
import { formatToken } from "@tessera/domain"
import { freshDatabase } from "@tessera/store-pg/testing"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import { freePorts, serverProcess } from "./fixtures/servers.js"

/** How long the whole walk-through may take on a loaded machine (it starts `node` a dozen times). */
const SCRIPT_TIMEOUT_MS = 180_000

interface Expectation {
  /** 1-based line of the `# → NNN` comment in README.md. */
  readonly line: number
  readonly status: number
  /** The comment and the `#` lines continuing it. */
  readonly comment: string
  /** The shell variables the comment names. */
  readonly variables: ReadonlyArray<string>
}

interface Walkthrough {
  readonly script: string
  readonly expectations: ReadonlyArray<Expectation>
}

const readmeLines = () => readFileSync(join(repoRoot, "README.md"), "utf8").split("\n")

/** The command (with its `\` continuation lines) that ends on the last non-comment line before `index`. */
const commandBefore = (lines: ReadonlyArray<string>, index: number) => {
  let end = index - 1
  while (end >= 0 && (lines[end]!.trim() === "" || lines[end]!.trimStart().startsWith("#"))) end--
  let start = end
  while (start > 0 && lines[start - 1]!.endsWith("\\")) start--
  return lines.slice(start, end + 1).join("\n")
}

/** The walk-through's blocks as one script, with a `__expect` call after each reply comment. */
const walkthrough = (lines: ReadonlyArray<string>, address: string): Walkthrough => {
  const heading = lines.indexOf("## Walk-through")
  if (heading < 0) throw new Error("README.md has no \"## Walk-through\" heading")
  const script: Array<string> = []
  const expectations: Array<Expectation> = []
  let i = heading + 1
  while (i < lines.length && !lines[i]!.startsWith("## ")) {
    if (lines[i] !== "```sh") {
      i++
      continue
    }
    let before = i - 1
    while (before > heading && lines[before]!.trim() === "") before--
    const skipped = lines[before]!.trim() === "<!-- not run -->"
    const block: Array<string> = []
    const checks: Array<Expectation> = []
    for (i++; i < lines.length && lines[i] !== "```"; i++) {
      block.push(lines[i]!.replaceAll("localhost:8787", address))
      const arrow = /^# → (\d{3})\b/.exec(lines[i]!)
      if (arrow === null) continue
      const line = i + 1
      if (!/(^|[\s$(])curl\s/.test(commandBefore(lines, i))) throw new Error(`README.md:${line}: a reply comment not under a curl command`)
      const comment = [lines[i]!]
      while (lines[i + 1]?.startsWith("#") && !lines[i + 1]!.startsWith("# → ")) comment.push(lines[++i]!)
      block.push(...comment.slice(1))
      const variables = [...new Set([...comment.join("\n").matchAll(/\$([A-Za-z_]\w*)/g)].map((m) => m[1]!))]
      checks.push({ line, status: Number(arrow[1]), comment: comment.join("\n"), variables })
      block.push(`__expect ${line} ${variables.join(" ")}`)
    }
    i++
    if (!skipped) {
      script.push(...block, "")
      expectations.push(...checks)
    }
  }
  return { script: script.join("\n"), expectations }
}

/** Records each curl's status and body in `$__replies`, and after each reply comment the variables it names. */
const preamble = (replies: string) => `set -eu -o pipefail
__replies='${replies}'
echo 0 > "$__replies/count"
curl() {
  local n=$(( $(cat "$__replies/count") + 1 ))
  echo "$n" > "$__replies/count"
  : > "$__replies/$n.body"
  command curl -o "$__replies/$n.body" -w '%{http_code}' "$@" > "$__replies/$n.status"
  cat "$__replies/$n.body"
}
__expect() {
  local line=$1 v
  shift
  { cat "$__replies/count"; for v in "$@"; do printf '%s=%s\\n' "$v" "\${!v-}"; done; } > "$__replies/expect-$line"
}
`

/** Runs `bash file` to its end (killed after the time limit); never blocks the test's process. */
const runBash = (file: string, env: Record<string, string>) =>
  Effect.promise(() =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn("bash", [file], { env, stdio: ["ignore", "pipe", "pipe"] })
      let output = ""
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
      const timer = setTimeout(() => child.kill("SIGKILL"), SCRIPT_TIMEOUT_MS)
      child.on("close", (code) => {
        clearTimeout(timer)
        resolve({ code, output })
      })
    })
  )

/** A reply comment's shape: JSON in which `…` stands for more members or elements, or for any string or its rest. */
type Pattern =
  | { readonly kind: "object"; readonly members: ReadonlyArray<readonly [string, Pattern]> }
  | { readonly kind: "array"; readonly elements: ReadonlyArray<Pattern>; readonly more: boolean }
  | { readonly kind: "string"; readonly text: string; readonly prefix: boolean }
  | { readonly kind: "any" }
  | { readonly kind: "literal"; readonly value: number | boolean | null }

/** Parses the first JSON-like value in `text` (the reply comment without its `# → NNN`); what follows it is prose. */
const parsePattern = (text: string): Pattern => {
  const tokens = [...text.matchAll(/"(?:[^"\\]|\\.)*"|…[^,}\]"]*|-?\d+(?:\.\d+)?|true|false|null|[{}[\]:,]|\S/g)].map((m) => m[0])
  let at = 0
  const take = (expected?: string) => {
    const token = tokens[at++]
    if (token === undefined || (expected !== undefined && token !== expected)) throw new Error(`expected ${expected ?? "more"} at token ${at}`)
    return token
  }
  const value = (): Pattern => {
    const token = take()
    if (token === "{") {
      const members: Array<readonly [string, Pattern]> = []
      while (tokens[at] !== "}") {
        if (tokens[at]!.startsWith("…")) at++
        else {
          const key = JSON.parse(take()) as string
          take(":")
          members.push([key, value()])
        }
        if (tokens[at] === ",") at++
        else if (tokens[at] !== "}") throw new Error(`expected , or } at token ${at + 1}`)
      }
      at++
      return { kind: "object", members }
    }
    if (token === "[") {
      const elements: Array<Pattern> = []
      let more = false
      while (tokens[at] !== "]") {
        if (tokens[at]!.startsWith("…")) {
          at++
          more = true
        } else elements.push(value())
        if (tokens[at] === ",") at++
        else if (tokens[at] !== "]") throw new Error(`expected , or ] at token ${at + 1}`)
      }
      at++
      return { kind: "array", elements, more }
    }
    if (token.startsWith("\"")) {
      const text = JSON.parse(token) as string
      if (text.includes("<") || text.includes("$")) throw new Error(`a placeholder in ${token}`)
      if (text === "…") return { kind: "any" }
      if (text.endsWith("…") && !text.slice(0, -1).includes("…")) return { kind: "string", text: text.slice(0, -1), prefix: true }
      return { kind: "string", text, prefix: false }
    }
    if (/^(-?\d|true|false|null)/.test(token)) return { kind: "literal", value: JSON.parse(token) as number | boolean | null }
    throw new Error(`unexpected ${token}`)
  }
  const start = tokens.findIndex((t) => t === "{" || t === "[")
  if (start < 0) throw new Error("no JSON shape")
  at = start
  return value()
}

/** Where `actual` departs from `pattern` (a path and what was expected there), or nothing when it fits. */
const departures = (pattern: Pattern, actual: unknown, path = "$"): Array<string> => {
  switch (pattern.kind) {
    case "any":
      return []
    case "literal":
      return actual === pattern.value ? [] : [`${path}: expected ${JSON.stringify(pattern.value)}`]
    case "string":
      return typeof actual === "string" && (pattern.prefix ? actual.startsWith(pattern.text) : actual === pattern.text)
        ? []
        : [`${path}: expected ${JSON.stringify(pattern.text)}${pattern.prefix ? "…" : ""}`]
    case "object":
      if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return [`${path}: expected an object`]
      return pattern.members.flatMap(([key, p]) =>
        key in actual ? departures(p, (actual as Record<string, unknown>)[key], `${path}.${key}`) : [`${path}.${key}: missing`]
      )
    case "array": {
      if (!Array.isArray(actual)) return [`${path}: expected an array`]
      if (pattern.more ? actual.length < pattern.elements.length : actual.length !== pattern.elements.length) {
        return [`${path}: expected ${pattern.more ? "at least " : ""}${pattern.elements.length} elements, got ${actual.length}`]
      }
      return pattern.elements.flatMap((p, i) => departures(p, actual[i], `${path}[${i}]`))
    }
  }
}

/** Every reply comment its reply contradicts, with what came instead. */
const contradictions = (replies: string, expectations: ReadonlyArray<Expectation>) => {
  const found: Array<unknown> = []
  let previous = 0
  for (const e of expectations) {
    const where = `README.md:${e.line}`
    const file = join(replies, `expect-${e.line}`)
    if (!existsSync(file)) {
      found.push({ where, problem: "not reached" })
      continue
    }
    const [count, ...assignments] = readFileSync(file, "utf8").trimEnd().split("\n")
    const n = Number(count)
    if (n <= previous) {
      found.push({ where, problem: "no curl ran since the previous reply comment" })
      continue
    }
    previous = n
    const values = new Map(assignments.map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]))
    const comment = e.comment.replace(/\$([A-Za-z_]\w*)/g, (whole, name: string) => values.get(name) || whole)
    const status = Number(readFileSync(join(replies, `${n}.status`), "utf8"))
    const text = readFileSync(join(replies, `${n}.body`), "utf8")
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON: any shape shown departs from it
    }
    let differences: Array<string>
    try {
      differences = departures(parsePattern(comment.replace(/^# → \d{3}/, "").replace(/^#/gm, "")), body)
    } catch (error) {
      differences = [`the comment's shape does not parse: ${(error as Error).message}`]
    }
    if (status !== e.status || differences.length > 0) {
      found.push({ where, expected: e.status, status, differences, reply: text.slice(0, 1000) })
    }
  }
  return found
}

/** A fresh directory, removed when the scope closes. */
const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const storeCases = [
  {
    name: "SQLite",
    env: Effect.map(tempDir("tessera-readme-db-"), (dir) => ({ TESSERA_STORE: "sqlite", TESSERA_SQLITE_PATH: join(dir, "tessera.db") }))
  },
  {
    name: "PostgreSQL",
    env: Effect.map(freshDatabase, (url) => ({ TESSERA_STORE: "pg", DATABASE_URL: Redacted.value(url) }))
  }
] as const

describe("the README walk-through, pasted into bash against a fresh server", () => {
  it("has blocks to run and reply comments to check", () => {
    const { expectations, script } = walkthrough(readmeLines(), "127.0.0.1:1")
    expect(script).toContain("curl")
    expect(expectations.length).toBeGreaterThan(10)
  })

  for (const store of storeCases) {
    it.live(
      `${store.name}: exits 0, and every reply comment's status and shape hold`,
      () =>
        Effect.scoped(Effect.gen(function*() {
          const storeEnv = yield* store.env
          const adminKey = formatToken("tsk", randomBytes(32))
          const [port] = yield* freePorts(1)
          const server = yield* serverProcess(port!, { ...storeEnv, TESSERA_BOOTSTRAP_TOKEN: adminKey })
          const { expectations, script } = walkthrough(readmeLines(), `127.0.0.1:${port}`)
          const dir = yield* tempDir("tessera-readme-run-")
          const file = join(dir, "walkthrough.sh")
          writeFileSync(file, preamble(dir) + script)
          const env = Object.fromEntries(
            Object.entries(process.env).filter((entry): entry is [string, string] =>
              entry[1] !== undefined && !entry[0].startsWith("TESSERA_") && entry[0] !== "DATABASE_URL"
            )
          )
          const run = yield* runBash(file, { ...env, ADMIN: adminKey })
          expect({ code: run.code, output: run.code === 0 ? "" : run.output + "\n--- server:\n" + server.output() }).toEqual({
            code: 0,
            output: ""
          })
          expect(contradictions(dir, expectations)).toEqual([])
        })),
      SCRIPT_TIMEOUT_MS + 120_000
    )
  }
})
