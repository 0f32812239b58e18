// Bundles the compiled CLI (dist/src/bin.js and the workspace packages' compiled
// output, with effect and the other JavaScript dependencies, tree-shaken) into one
// module, dist/tessera.mjs, which `pnpm tessera` runs. A command line starts once
// per invocation, and loading the modules whole (the `effect` barrel alone is most
// of it) was most of its start-up: see docs/cli.md, "Start-up".
//
// Two things stay as they were: better-sqlite3 (a native addon) is imported from
// where it is installed, and each workspace module keeps its own
// `import.meta.url`, so that a store finds its `migrations` folder and its
// checkpoint worker finds its driver exactly as from the unbundled output.
import { build } from "esbuild"
import { createRequire } from "node:module"
import { readFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const cliDir = join(dirname(fileURLToPath(import.meta.url)), "..")
const repoRoot = join(cliDir, "../..")
const fromStoreSqlite = createRequire(join(repoRoot, "packages/store-sqlite/package.json"))

const keepModuleUrl = {
  name: "keep-module-url",
  setup(build) {
    // Workspace modules only: their compiled output under packages/*/dist or apps/*/dist.
    build.onLoad({ filter: /\/(packages|apps)\/[^/]+\/dist\/.*\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8")
      if (!text.includes("import.meta.url")) return undefined
      return { contents: text.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)), loader: "js" }
    })
    build.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: fromStoreSqlite.resolve("better-sqlite3"), external: true }))
  }
}

await build({
  entryPoints: [join(cliDir, "dist/src/bin.js")],
  outfile: join(cliDir, "dist/tessera.mjs"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  conditions: ["tessera-dist"],
  external: ["pg-native"],
  // CommonJS dependencies call `require`; an ES module has none of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  plugins: [keepModuleUrl],
  logLevel: "warning"
})
