// The domain's areas build on each other in one direction only, and the kernel imports nothing but `effect`.
import { readdirSync, readFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"
import { describe, expect, it } from "vitest"

const SRC = resolve(__dirname, "../src")
const LAYERS = ["shared", "events", "identity", "workspaces", "resources", "sharing", "lifecycle"] as const

const sources = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []
  )

const importsOf = (file: string) =>
  [...readFileSync(file, "utf8").matchAll(/^(?:import|export)[^"']*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!)

const areaOf = (file: string) => relative(SRC, file).split("/")[0]!

describe("the domain's shape", () => {
  const files = sources(SRC).filter((f) => areaOf(f) !== "index.ts")

  it("every source file belongs to a known area", () => {
    expect(files.length).toBeGreaterThan(20)
    for (const file of files) expect(LAYERS).toContain(areaOf(file))
  })

  it("imports go one way: shared ← events ← identity ← workspaces ← resources ← sharing ← lifecycle", () => {
    const upward: Array<string> = []
    for (const file of files) {
      const from = LAYERS.indexOf(areaOf(file) as typeof LAYERS[number])
      for (const spec of importsOf(file).filter((s) => s.startsWith("."))) {
        const to = LAYERS.indexOf(areaOf(resolve(join(file, ".."), spec)) as typeof LAYERS[number])
        if (to > from) upward.push(`${relative(SRC, file)} imports ${spec}`)
      }
    }
    expect(upward).toEqual([])
  })

  it("the kernel depends on effect alone", () => {
    const foreign = files.flatMap((file) =>
      importsOf(file).filter((s) => !s.startsWith(".") && s !== "effect").map((s) => `${relative(SRC, file)} imports ${s}`)
    )
    expect(foreign).toEqual([])
  })
})
