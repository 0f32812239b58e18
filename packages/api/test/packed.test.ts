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
import { type ChildProcess, spawn } from "node:child_process"
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { formatToken } from "@tessera/domain"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const domainDir = fileURLToPath(new URL("../../domain", import.meta.url))
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))
const repoTsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
/**
 * The HTTP service as `pnpm start` runs it: its compiled entry point under
 * plain node, the workspace packages resolved to their compiled output
 * (built by `pnpm build`; this package's turbo.json builds it before this test).
 */
const serverArgs = ["--conditions=tessera-dist", join(repoRoot, "apps/http/dist/src/main.js")]

const MINUTE = 60_000
/** npm install from the registry on a loaded machine: generous, but bounded. */
const INSTALL_TIMEOUT_MS = 5 * MINUTE
/** Migrations and bootstrap on a fresh store, on a loaded machine. */
const SERVER_START_TIMEOUT_MS = 2 * MINUTE

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const children = new Set<ChildProcess>()

/** Runs `command` to its end in `cwd`; killed (and reported with code `null`) after `timeoutMs`. */
const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly timeoutMs: number; readonly env?: Readonly<Record<string, string>> }
): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.add(child)
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs)
    child.on("error", (error) => {
      clearTimeout(timer)
      children.delete(child)
      reject(error)
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({ code, stdout, stderr })
    })
  })

const succeeded = async (what: string, running: Promise<Run>): Promise<Run> => {
  const result = await running
  if (result.code !== 0) {
    throw new Error(`${what} exited with ${result.code ?? "a kill after its time"}:\n${result.stdout}\n${result.stderr}`)
  }
  return result
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })

/** The first ```ts block after `marker` in a Markdown file. */
const codeBlockAfter = async (file: string, marker: string) => {
  const text = await readFile(file, "utf8")
  const from = text.indexOf(marker)
  expect(from, `${file} has no "${marker}"`).toBeGreaterThanOrEqual(0)
  const block = /```ts\n([\s\S]*?)```/.exec(text.slice(from))
  expect(block, `${file} has no \`\`\`ts block after "${marker}"`).not.toBeNull()
  return block![1]!
}

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
  const app = join(work, "app")
  await mkdir(app)
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "tessera-effect-example", private: true, type: "module" }, null, 2))
  // `DOM` because @effect/platform's own declarations name web types (`Storage`, `MessagePort`), in any application of it.
  await writeFile(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022", "DOM"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        types: ["node"],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        outDir: "out"
      },
      include: ["*.ts"]
    }, null, 2)
  )
  // And as a bundled application would see it.
  await writeFile(
    join(app, "tsconfig.bundler.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022", "DOM"],
        module: "ESNext",
        moduleResolution: "Bundler",
        types: ["node"],
        strict: true,
        skipLibCheck: false,
        noEmit: true
      },
      include: ["*.ts"]
    }, null, 2)
  )
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
  const tsc = join(app, "node_modules/typescript/bin/tsc")
  await succeeded("tsc in the app", run(process.execPath, [tsc, "-p", "."], { cwd: app, timeoutMs: 3 * MINUTE }))
  await succeeded("tsc in the app, bundler resolution", run(process.execPath, [tsc, "-p", "tsconfig.bundler.json"], {
    cwd: app,
    timeoutMs: 3 * MINUTE
  }))
  return app
}

describe("@tessera/api, packed and installed into an empty Effect application", () => {
  let work: string
  let server: ChildProcess | undefined
  let serverOutput = ""

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "tessera-api-"))
  })

  afterAll(async () => {
    for (const child of [...children, ...(server ? [server] : [])]) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve))
        child.kill("SIGTERM")
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
        await exited
        clearTimeout(killer)
      }
    }
    await rm(work, { recursive: true, force: true })
  }, MINUTE)

  it(
    "registers a user from an invite, creates a workspace and a document, and narrows not_found and last_admin with Effect.catchTag",
    async () => {
      // The server first: it starts (migrations, bootstrap) while the packages are built, packed and installed.
      await access(serverArgs[1]!).catch(() => {
        throw new Error(`${serverArgs[1]} is missing: run \`pnpm build\` first`)
      })
      const port = await freePort()
      const adminKey = formatToken("tsk", randomBytes(32))
      const baseUrl = `http://127.0.0.1:${port}`
      server = spawn(process.execPath, serverArgs, {
        cwd: repoRoot,
        env: {
          ...withoutConfiguration(),
          TESSERA_STORE: "sqlite",
          TESSERA_SQLITE_PATH: join(work, "tessera.db"),
          TESSERA_BOOTSTRAP_TOKEN: adminKey,
          HOST: "127.0.0.1",
          PORT: String(port)
        },
        stdio: ["ignore", "pipe", "pipe"]
      })
      server.stdout!.setEncoding("utf8").on("data", (chunk: string) => (serverOutput += chunk))
      server.stderr!.setEncoding("utf8").on("data", (chunk: string) => (serverOutput += chunk))
      // Both at once; a server that fails to start fails the test at once.
      const installing = packAndInstall(work)
      installing.catch(() => undefined) // reported through Promise.all, not as an unhandled rejection
      const [, app] = await Promise.all([waitReady(server, baseUrl), installing])

      // Run against the live server.
      const example = await succeeded("the example", run(process.execPath, [join(app, "out/example.js")], {
        cwd: app,
        timeoutMs: 3 * MINUTE,
        env: { TESSERA_URL: baseUrl, TESSERA_ADMIN_KEY: adminKey }
      }))
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

  /** The environment without any of Tessera's variables: the server sees only those given here. */
  function withoutConfiguration(): Record<string, string> {
    return Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] =>
        entry[1] !== undefined && !entry[0].startsWith("TESSERA_") && !["DATABASE_URL", "PORT", "HOST"].includes(entry[0])
      )
    )
  }

  async function waitReady(child: ChildProcess, baseUrl: string) {
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the server exited (${child.exitCode ?? child.signalCode}):\n${serverOutput}`)
      }
      try {
        if ((await fetch(`${baseUrl}/readyz`)).status === 200) return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the server did not answer /readyz within ${SERVER_START_TIMEOUT_MS} ms:\n${serverOutput}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
})
