/**
 * The committed OpenAPI document and the types generated from it are those
 * of the contract in packages/api today: a contract change without
 * `pnpm --filter @tessera/client generate` fails here, before any user of
 * the package meets a stale type.
 */
import { readFile } from "node:fs/promises"
import { describe, expect, it } from "vitest"
import { documentFile, render, typesFile } from "../scripts/openapi.js"

const stale = (file: string) => `${file} is stale: run \`pnpm --filter @tessera/client generate\` and commit the result`

/** The first line where two texts differ, to say where a stale file went wrong. */
const firstDifference = (committed: string, fresh: string) => {
  const a = committed.split("\n")
  const b = fresh.split("\n")
  const line = a.findIndex((text, i) => text !== b[i])
  const at = line === -1 ? a.length : line
  return `line ${at + 1}: committed ${JSON.stringify(a[at])}, contract ${JSON.stringify(b[at])}`
}

describe("the generated client", () => {
  it("openapi.json and src/generated/openapi.ts are up to date with the HttpApi contract", async () => {
    const fresh = await render()
    const document = await readFile(documentFile, "utf8")
    // Structurally first, for a readable difference; then byte for byte.
    expect(JSON.parse(document), stale("openapi.json")).toEqual(JSON.parse(fresh.document))
    expect(document === fresh.document, `${stale("openapi.json")} (${firstDifference(document, fresh.document)})`).toBe(true)
    const types = await readFile(typesFile, "utf8")
    expect(types === fresh.types, `${stale("src/generated/openapi.ts")} (${firstDifference(types, fresh.types)})`).toBe(true)
  })
})
