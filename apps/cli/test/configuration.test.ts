/**
 * How the `tessera` binary starts: invalid configuration and bad usage fail
 * with one line and a non-zero status before touching a store, and
 * `TESSERA_BOOTSTRAP_TOKEN` decides the first admin's key.
 */
import { expectRefused, misconfigurations, runEntryPoint, runMisconfigured } from "@tessera/config/testing"
import { authenticate, formatToken } from "@tessera/domain"
import { Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { afterEach, describe, expect, it } from "vitest"
import { execute, expectFailure, expectJsonFailure, onStore, pgStore, sqliteStore, tessera, type TestStore, textOf } from "./support.js"

describe("tessera reads its whole configuration before it opens a store", () => {
  // each refusal is its own process in its own directory: they run side by side
  it.concurrent.each(misconfigurations)(
    "$name: one line naming the variable, exit status 1, no store file and no key",
    async (misconfiguration) => {
      expectRefused(await runMisconfigured("apps/cli/src/bin.ts", ["admin", "bootstrap"], misconfiguration), misconfiguration)
    },
    120_000
  )
})

describe("--help and --version need no configuration and no store", () => {
  // The worst configuration there is: PostgreSQL chosen, no DATABASE_URL. A command would stop on it at once.
  const unconfigured = { TESSERA_STORE: "pg" }
  it.each([
    ["tessera", "apps/cli/src/bin.ts"],
    ["the migrator", "apps/migrator/src/bin.ts"]
  ])("%s answers --version and --help, exit status 0", async (_name, file) => {
    const [version, help] = await Promise.all([
      runEntryPoint(file, { env: unconfigured, args: ["--version"] }),
      runEntryPoint(file, { env: unconfigured, args: ["--help"] })
    ])
    expect(version).toMatchObject({ code: 0, stderr: "" })
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
    expect(help).toMatchObject({ code: 0, stderr: "" })
    expect(help.stdout).toMatch(/USAGE/)
    expect(help.stdout).not.toMatch(/DATABASE_URL/)
    expect(help.stdout).not.toContain("\u001b[") // stdout is a pipe here: no colour
  }, 120_000)
})

describe("a command on a store whose schema is behind", () => {
  let store: TestStore | undefined
  afterEach(() => store?.drop())

  it.each([
    ["SQLite", sqliteStore],
    ["PostgreSQL", pgStore]
  ])("%s: stops with one line saying to migrate, and leaves the schema untouched", async (_name, make) => {
    store = await make()
    const [users, doctorRun] = await Promise.all([tessera(store.env, "users", "list"), tessera(store.env, "doctor", "--json")])
    expectFailure(users, /schema is behind .*run `pnpm migrate up`/)
    expectJsonFailure(doctorRun, "schema_not_current", /schema is behind .*run `pnpm migrate up`/)
    const tables = await execute(store.env, (s) =>
      s.onDialectOrElse({
        pg: () => s`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`,
        orElse: () => s`SELECT name FROM sqlite_master WHERE type = 'table'`
      }))
    expect(tables).toEqual([])
  }, 120_000)
})

describe("tessera configuration and usage", () => {
  let store: TestStore | undefined
  afterEach(() => store?.drop())

  it("bad usage exits non-zero with one line", async () => {
    store = await sqliteStore()
    const [unknownCommand, unknownOption, badChoice] = await Promise.all([
      tessera(store.env, "frobnicate"),
      tessera(store.env, "events", "tail", "--bogus"),
      tessera(store.env, "invites", "list", "--status", "lost")
    ])
    expectFailure(unknownCommand, /admin.*users.*invites.*events/)
    expectFailure(unknownOption, /--bogus/)
    expectFailure(badChoice, /pending, redeemed, canceled, expired/)
  })

  it("without TESSERA_BOOTSTRAP_TOKEN, bootstrap generates a key and prints it exactly once", async () => {
    store = await sqliteStore()
    const out = textOf(await tessera(store.env, "admin", "bootstrap", "--handle", "root"))
    expect(out).toMatch(/^created system admin root$/m)
    const keys = out.match(/tsk_[0-9a-f]{72}/g)
    expect(keys).toHaveLength(1)
    const principal = await onStore(store.env, authenticate(Redacted.make(keys![0]!)))
    expect(principal.user.handle).toBe("root")
  })

  it("with TESSERA_BOOTSTRAP_TOKEN, the admin's key is exactly that value and it is not echoed", async () => {
    store = await sqliteStore()
    const token = formatToken("tsk", randomBytes(32))
    const env = { ...store.env, TESSERA_BOOTSTRAP_TOKEN: token }
    const human = textOf(await tessera(env, "admin", "bootstrap"))
    expect(human).not.toContain(token)
    expect(human).toMatch(/TESSERA_BOOTSTRAP_TOKEN/)
    const principal = await onStore(store.env, authenticate(Redacted.make(token)))
    expect(principal.user).toMatchObject({ handle: "admin", role: "admin" })
  })
})
