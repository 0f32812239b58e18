/**
 * The package as an Effect application gets it: @tessera/domain and
 * @tessera/api built, packed into tarballs as they would be published
 * (publishConfig's compiled entry points, `workspace:` rewritten to
 * versions), installed with npm into an empty folder beside effect and
 * @effect/platform from the registry, and the README's example — the very
 * code block — type-checked by that folder's own TypeScript and run with
 * node against a live server (the HTTP service's entry point as a process,
 * over a fresh SQLite file).
 *
 * Every child process runs asynchronously with a bounded time and is
 * killed when the test ends, also when it fails.
 */
import { randomBytes } from "node:crypto"
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { formatToken } from "@tessera/domain"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
// By path: plain JavaScript with its declarations, no workspace dependency.
import { codeBlockAfter, emptyApp, exampleAgainstServer, MINUTE, run, stopAll, succeeded, typecheckApp } from "../../../tooling/packed.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const domainDir = fileURLToPath(new URL("../../domain", import.meta.url))
const repoTsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")

/** npm install from the registry on a loaded machine: generous, but bounded. */
const INSTALL_TIMEOUT_MS = 5 * MINUTE

const packageJson = async (dir: string) => JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Record<string, any>

/**
 * Builds and packs both packages as they would be published, installs the
 * tarballs into an empty application in `work` beside effect and
 * @effect/platform at the ranges the package asks of its peers, and
 * type-checks the README's example there with the application's own tsc
 * (NodeNext under strict with exact optional properties, and Bundler
 * resolution); returns the application's folder.
 */
async function packAndInstall(work: string): Promise<string> {
  const tarballs = join(work, "tarballs")
  await mkdir(tarballs)
  // `tsc -b` builds @tessera/domain too: it is a project reference.
  await succeeded("tsc -b", run(process.execPath, [repoTsc, "-b"], { cwd: packageDir, timeoutMs: 5 * MINUTE }))
  for (const dir of [domainDir, packageDir]) {
    await succeeded("pnpm pack", run("pnpm", ["pack", "--pack-destination", tarballs], { cwd: dir, timeoutMs: 2 * MINUTE }))
  }
  expect((await readdir(tarballs)).sort()).toEqual(["tessera-api-0.1.0.tgz", "tessera-domain-0.1.0.tgz"])
  const peers = (await packageJson(packageDir))["peerDependencies"] as Record<string, string>
  expect(Object.keys(peers).sort()).toEqual(["@effect/platform", "effect"])

  // An empty application that knows nothing of this repository.
  // `DOM` because @effect/platform's own declarations name web types (`Storage`, `MessagePort`), in any application of it.
  const app = await emptyApp(work, { name: "tessera-effect-example", lib: ["ES2022", "DOM"] })
  await succeeded(
    "npm install",
    run("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      join(tarballs, "tessera-domain-0.1.0.tgz"),
      join(tarballs, "tessera-api-0.1.0.tgz"),
      ...Object.entries(peers).map(([name, range]) => `${name}@${range}`),
      "typescript@~5.9.3",
      "@types/node@^20.19.0"
    ], { cwd: app, timeoutMs: INSTALL_TIMEOUT_MS })
  )

  // What was installed: compiled JS with declarations, versions for `workspace:`, one copy of effect (the application's).
  const installed = join(app, "node_modules/@tessera")
  expect((await readdir(installed)).sort()).toEqual(["api", "domain"])
  for (const name of ["api", "domain"]) {
    const manifest = await packageJson(join(installed, name))
    expect(JSON.stringify(manifest)).not.toMatch(/workspace:|tessera-dist/)
    expect([manifest["exports"], manifest["main"], manifest["types"]]).toEqual([
      { ".": { types: "./dist/src/index.d.ts", default: "./dist/src/index.js" }, "./package.json": "./package.json" },
      "./dist/src/index.js",
      "./dist/src/index.d.ts"
    ])
    const files = await readdir(join(installed, name, "dist/src"), { recursive: true })
    expect(files.filter((f) => /\.[a-z]+$/.test(f) && !f.endsWith(".js") && !f.endsWith(".d.ts"))).toEqual([])
    expect(files).toContain("index.d.ts")
    await expect(access(join(installed, name, "node_modules")), `@tessera/${name} has its own node_modules`).rejects.toThrow()
  }
  const api = await packageJson(join(installed, "api"))
  expect([api["dependencies"], api["peerDependencies"]]).toEqual([{ "@tessera/domain": "0.1.0" }, peers])

  // The README's example, byte for byte: type-checked by the app's own tsc.
  await writeFile(join(app, "example.ts"), await codeBlockAfter(join(packageDir, "README.md"), "## Example"))
  await typecheckApp(app)
  return app
}

describe("@tessera/api, packed and installed into an empty Effect application", () => {
  let work: string

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "tessera-api-"))
  })

  afterAll(async () => {
    await stopAll()
    await rm(work, { recursive: true, force: true })
  }, MINUTE)

  it(
    "registers a user from an invite, creates a workspace and a document, and narrows not_found and last_admin with Effect.catchTag",
    async () => {
      const adminKey = formatToken("tsk", randomBytes(32))
      const example = await exampleAgainstServer({ work, adminKey, install: () => packAndInstall(work) })
      const lines = example.stdout.trim().split("\n")
      const teamId = /^refused: last_admin of (ws_[0-9a-f]+)$/.exec(lines[3] ?? "")?.[1]
      expect(lines).toEqual([
        "registered ada",
        "created Research / Plan",
        `show: no workspace ws_${"0".repeat(32)}`,
        `refused: last_admin of ${teamId}`
      ])
      expect(teamId).toBeDefined()
      expect(example.stderr).toBe("")
    },
    15 * MINUTE
  )

})
