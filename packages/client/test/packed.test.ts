/**
 * The package as a user gets it: built, packed into a tarball, installed
 * with npm into an empty folder (from the tarball and the npm registry
 * alone), and the README's example — the very code block — type-checked by
 * that folder's own TypeScript and run with node against a live server (the
 * HTTP service's entry point as a process, over a fresh SQLite file). The
 * repository README's five-line snippet is type-checked there too.
 *
 * Every child process runs asynchronously with a bounded time and is
 * killed when the test ends, also when it fails.
 */
import { randomBytes } from "node:crypto"
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
// By path: plain JavaScript with its declarations, no workspace dependency.
import { codeBlockAfter, emptyApp, exampleAgainstServer, MINUTE, run, stopAll, succeeded, typecheckApp } from "../../../tooling/packed.js"
// By path, as the generator reads the contract: a workspace dependency would stop `pnpm pack` (see scripts/openapi.ts).
import { formatToken } from "../../domain/src/shared/tokens.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))

/** npm install from the registry on a loaded machine: generous, but bounded. */
const INSTALL_TIMEOUT_MS = 5 * MINUTE

/**
 * Builds and packs the package as it would be published, installs the
 * tarball into an empty application in `work`, and type-checks the README
 * examples there with the application's own tsc (NodeNext under strict with
 * exact optional properties, and Bundler resolution); returns the application's folder.
 */
async function packAndInstall(work: string): Promise<string> {
  // Built and packed as it would be published.
  const tarballs = join(work, "tarballs")
  await mkdir(tarballs)
  await succeeded("tsc", run(process.execPath, [join(packageDir, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
    cwd: packageDir,
    timeoutMs: 3 * MINUTE
  }))
  await succeeded("pnpm pack", run("pnpm", ["pack", "--pack-destination", tarballs], { cwd: packageDir, timeoutMs: 2 * MINUTE }))
  const [tarball] = await readdir(tarballs)
  expect(tarball).toBe("tessera-client-0.1.0.tgz")

  // An empty application that knows nothing of this repository.
  const app = await emptyApp(work, { name: "tessera-sdk-example", lib: ["ES2022"] })
  await succeeded(
    "npm install",
    run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", join(tarballs, tarball!), "typescript@~5.9.3", "@types/node@^20.19.0"], {
      cwd: app,
      timeoutMs: INSTALL_TIMEOUT_MS
    })
  )

  // What was installed: compiled JS with declarations, nothing of the workspace, openapi-fetch from the registry.
  const installed = JSON.parse(await readFile(join(app, "node_modules/@tessera/client/package.json"), "utf8")) as Record<string, Record<string, string> | undefined>
  const runtime = { ...installed["dependencies"], ...installed["peerDependencies"], ...installed["optionalDependencies"] }
  expect(Object.keys(runtime)).toEqual(["openapi-fetch"])
  expect(JSON.stringify(installed)).not.toMatch(/workspace:/)
  expect((await readdir(join(app, "node_modules/@tessera/client/dist"))).sort()).toEqual(["generated", "index.d.ts", "index.js"])
  expect((await readdir(join(app, "node_modules/@tessera"))).sort()).toEqual(["client"])

  // The README's example, byte for byte, and the repository README's snippet: type-checked by the app's own tsc.
  await writeFile(join(app, "example.ts"), await codeBlockAfter(join(packageDir, "README.md"), "## Example"))
  await writeFile(join(app, "snippet.ts"), await codeBlockAfter(join(repoRoot, "README.md"), "## SDK"))
  await typecheckApp(app)
  return app
}

describe("@tessera/client, packed and installed into an empty folder", () => {
  let work: string

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "tessera-client-"))
  })

  afterAll(async () => {
    await stopAll()
    await rm(work, { recursive: true, force: true })
  }, MINUTE)

  it(
    "registers a user from an invite, creates a workspace and a resource, pages through 250 children with limit 100, and narrows last_admin",
    async () => {
      const adminKey = formatToken("tsk", randomBytes(32))
      const example = await exampleAgainstServer({ work, adminKey, install: () => packAndInstall(work) })
      const lines = example.stdout.trim().split("\n")
      const teamId = /^refused: last_admin of (ws_[0-9a-f]+)$/.exec(lines[3] ?? "")?.[1]
      expect(lines).toEqual([
        "registered ada",
        "created Research / Papers",
        "children: 250 (250 distinct) in pages of 100,100,50",
        `refused: last_admin of ${teamId}`
      ])
      expect(teamId).toBeDefined()
      expect(example.stderr).toBe("")
    },
    15 * MINUTE
  )

})
