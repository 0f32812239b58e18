// Test support for the packed-package tests (`packages/client/test/packed.test.ts`,
// `packages/api/test/packed.test.ts`): child processes run asynchronously with a
// bounded time and stopped when the test ends, the HTTP service's compiled entry
// point on a fresh SQLite file, and a Markdown file's code block. Plain
// JavaScript with its declarations beside it (`packed.d.ts`), so that any
// package's tests import it by path without depending on a workspace package.
import { spawn } from "node:child_process"
import { access, mkdir, readFile, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

export const MINUTE = 60_000
/** Migrations and bootstrap on a fresh store, on a loaded machine. */
const SERVER_START_TIMEOUT_MS = 2 * MINUTE

const repoRoot = fileURLToPath(new URL("..", import.meta.url))
/** The HTTP service as `pnpm start` runs it: its compiled entry point under plain node (built by `pnpm build`). */
const serverArgs = ["--conditions=tessera-dist", join(repoRoot, "apps/http/dist/src/main.js")]

const children = new Set()

export const run = (command, args, options) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.add(child)
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk))
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

export const succeeded = async (what, running) => {
  const result = await running
  if (result.code !== 0) {
    throw new Error(`${what} exited with ${result.code ?? "a kill after its time"}:\n${result.stdout}\n${result.stderr}`)
  }
  return result
}

export const codeBlockAfter = async (file, marker) => {
  const text = await readFile(file, "utf8")
  const from = text.indexOf(marker)
  if (from < 0) throw new Error(`${file} has no "${marker}"`)
  const block = /```ts\n([\s\S]*?)```/.exec(text.slice(from))
  if (block === null) throw new Error(`${file} has no \`\`\`ts block after "${marker}"`)
  return block[1]
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = server.address().port
      server.close(() => resolve(port))
    })
  })

/** The environment without any of Tessera's variables: the server sees only those given here. */
const withoutConfiguration = () =>
  Object.fromEntries(
    Object.entries(process.env).filter((entry) =>
      entry[1] !== undefined && !entry[0].startsWith("TESSERA_") && !["DATABASE_URL", "PORT", "HOST"].includes(entry[0])
    )
  )

export const startServer = async ({ sqlitePath, adminKey }) => {
  await access(serverArgs[1]).catch(() => {
    throw new Error(`${serverArgs[1]} is missing: run \`pnpm build\` first`)
  })
  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, serverArgs, {
    cwd: repoRoot,
    env: {
      ...withoutConfiguration(),
      TESSERA_STORE: "sqlite",
      TESSERA_SQLITE_PATH: sqlitePath,
      TESSERA_BOOTSTRAP_TOKEN: adminKey,
      HOST: "127.0.0.1",
      PORT: String(port)
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  children.add(child)
  let output = ""
  child.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk))
  child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk))
  const ready = (async () => {
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the server exited (${child.exitCode ?? child.signalCode}):\n${output}`)
      }
      try {
        if ((await fetch(`${baseUrl}/readyz`)).status === 200) return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the server did not answer /readyz within ${SERVER_START_TIMEOUT_MS} ms:\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  })()
  ready.catch(() => undefined) // reported to whoever awaits it, not as an unhandled rejection
  return { baseUrl, ready }
}

export const stopAll = async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve))
      child.kill("SIGTERM")
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
      await exited
      clearTimeout(killer)
    }
    children.delete(child)
  }
}

/**
 * An empty application in `work/app` that knows nothing of this repository:
 * a package.json and two TypeScript configurations, NodeNext under strict
 * with exact optional properties (compiling to `out/`) with `lib`, and
 * Bundler resolution (ES2022 and DOM, no output).
 */
export const emptyApp = async (work, { name, lib }) => {
  const app = join(work, "app")
  await mkdir(app)
  await writeFile(join(app, "package.json"), JSON.stringify({ name, private: true, type: "module" }, null, 2))
  const config = (compilerOptions) => JSON.stringify({ compilerOptions, include: ["*.ts"] }, null, 2)
  await writeFile(join(app, "tsconfig.json"), config({
    target: "ES2022",
    lib,
    module: "NodeNext",
    moduleResolution: "NodeNext",
    types: ["node"],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    outDir: "out"
  }))
  await writeFile(join(app, "tsconfig.bundler.json"), config({
    target: "ES2022",
    lib: ["ES2022", "DOM"],
    module: "ESNext",
    moduleResolution: "Bundler",
    types: ["node"],
    strict: true,
    skipLibCheck: false,
    noEmit: true
  }))
  return app
}

/** Type-checks the application with its own installed TypeScript, under both configurations of `emptyApp`. */
export const typecheckApp = async (app) => {
  const tsc = join(app, "node_modules/typescript/bin/tsc")
  await succeeded("tsc in the app", run(process.execPath, [tsc, "-p", "."], { cwd: app, timeoutMs: 3 * MINUTE }))
  await succeeded("tsc in the app, bundler resolution", run(process.execPath, [tsc, "-p", "tsconfig.bundler.json"], {
    cwd: app,
    timeoutMs: 3 * MINUTE
  }))
}

/**
 * Starts the server (migrations, bootstrap) while `install` builds, packs and
 * installs the application — a server that fails to start fails at once —
 * then runs the application's compiled `out/example.js` against it.
 */
export const exampleAgainstServer = async ({ work, adminKey, install }) => {
  const { baseUrl, ready } = await startServer({ sqlitePath: join(work, "tessera.db"), adminKey })
  const installing = install()
  installing.catch(() => undefined) // reported through Promise.all, not as an unhandled rejection
  const [, app] = await Promise.all([ready, installing])
  return succeeded("the example", run(process.execPath, [join(app, "out/example.js")], {
    cwd: app,
    timeoutMs: 3 * MINUTE,
    env: { TESSERA_URL: baseUrl, TESSERA_ADMIN_KEY: adminKey }
  }))
}
