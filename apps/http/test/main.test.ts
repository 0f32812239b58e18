// The composition root as a process: `pnpm start` on the SQLite default,
// bootstrap from TESSERA_BOOTSTRAP_TOKEN, and one-line configuration errors
// before anything is opened, migrated or printed.
import { entryPointArgs, misconfigurations, runMisconfigured } from "@tessera/config/testing"
import { formatToken } from "@tessera/domain"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { freePorts } from "./fixtures/servers.js"

const main = entryPointArgs("apps/http/src/main.ts")

const env = (extra: Record<string, string>) => {
  const base: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("TESSERA_") && k !== "DATABASE_URL" && k !== "PORT" && k !== "HOST") base[k] = v
  }
  return { ...base, ...extra }
}

const waitReady = async (url: string, deadline: number): Promise<Response> => {
  for (;;) {
    try {
      const response = await fetch(url)
      if (response.status === 200) return response
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe("the server process", () => {
  it("starts on the SQLite default, answers /readyz and uses TESSERA_BOOTSTRAP_TOKEN as the admin key", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "tessera-main-"))
    // a port no one holds (a random one once met another test's server, whose answers this test then waited on)
    const [port] = await Effect.runPromise(freePorts(1))
    const token = formatToken("tsk", randomBytes(32))
    const child = spawn(process.execPath, main, { cwd, env: env({ PORT: String(port), TESSERA_BOOTSTRAP_TOKEN: token }) })
    let output = ""
    child.stdout.on("data", (d) => (output += String(d)))
    child.stderr.on("data", (d) => (output += String(d)))
    try {
      await waitReady(`http://127.0.0.1:${port}/readyz`, Date.now() + 90_000)
      expect(existsSync(join(cwd, "data/tessera.db"))).toBe(true)
      const me = await fetch(`http://127.0.0.1:${port}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
      expect(me.status).toBe(200)
      expect(((await me.json()) as { user: { handle: string } }).user.handle).toBe("admin")
      expect(output).not.toContain(token)
    } finally {
      child.kill("SIGTERM")
    }
  }, 240_000)

  it("prints a generated admin key once when no token is configured", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "tessera-main-"))
    const [port] = await Effect.runPromise(freePorts(1))
    const start = () => {
      const child = spawn(process.execPath, main, { cwd, env: env({ PORT: String(port) }) })
      let output = ""
      child.stdout.on("data", (d) => (output += String(d)))
      return { child, output: () => output }
    }
    const first = start()
    let key: string
    try {
      await waitReady(`http://127.0.0.1:${port}/readyz`, Date.now() + 90_000)
      key = /tsk_[0-9a-f]{72}/.exec(first.output())![0]
      const me = await fetch(`http://127.0.0.1:${port}/v1/me`, { headers: { authorization: `Bearer ${key}` } })
      expect(me.status).toBe(200)
    } finally {
      // waited for only while it runs: a child that already exited sends no more "exit"
      const exited = first.child.exitCode !== null || first.child.signalCode !== null
        ? Promise.resolve()
        : new Promise((r) => first.child.once("exit", r))
      first.child.kill("SIGTERM")
      await exited
    }
    const second = start()
    try {
      await waitReady(`http://127.0.0.1:${port}/readyz`, Date.now() + 90_000)
      expect(second.output()).not.toMatch(/tsk_/)
    } finally {
      second.child.kill("SIGTERM")
    }
  }, 240_000)

  it.each(misconfigurations)(
    "$name stops it before it opens a store: one line naming the variable, exit status 1, no key",
    async (misconfiguration) => {
      const run = await runMisconfigured("apps/http/src/main.ts", [], misconfiguration)
      expect(run.stderr.split("\n").filter((line) => line.length > 0)).toEqual([expect.stringMatching(misconfiguration.line)])
      expect(run.code).toBe(1)
      expect(run.stdout).not.toMatch(/tsk_/)
      expect(run.created).toEqual([])
      for (const secret of misconfiguration.secrets) expect(run.stdout + run.stderr).not.toContain(secret)
    },
    120_000
  )
})
