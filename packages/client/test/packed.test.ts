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
import { type ChildProcess, spawn } from "node:child_process"
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
// By path, as the generator reads the contract: a workspace dependency would stop `pnpm pack` (see scripts/openapi.ts).
import { formatToken } from "../../domain/src/shared/tokens.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))
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
  const app = join(work, "app")
  await mkdir(app)
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "tessera-sdk-example", private: true, type: "module" }, null, 2))
  await writeFile(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022"],
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
  // And as a bundled front end would see it.
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
  const tsc = join(app, "node_modules/typescript/bin/tsc")
  await succeeded("tsc in the app", run(process.execPath, [tsc, "-p", "."], { cwd: app, timeoutMs: 3 * MINUTE }))
  await succeeded("tsc in the app, bundler resolution", run(process.execPath, [tsc, "-p", "tsconfig.bundler.json"], {
    cwd: app,
    timeoutMs: 3 * MINUTE
  }))
  return app
}

describe("@tessera/client, packed and installed into an empty folder", () => {
  let work: string
  let server: ChildProcess | undefined
  let serverOutput = ""

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "tessera-client-"))
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
    "registers a user from an invite, creates a workspace and a resource, pages through 250 children with limit 100, and narrows last_admin",
    async () => {
      // The server first: it starts (migrations, bootstrap) while the package is built, packed and installed.
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
        "created Research / Papers",
        "children: 250 (250 distinct) in pages of 100,100,50",
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
