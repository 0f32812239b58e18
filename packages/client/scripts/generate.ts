/** Writes `openapi.json` and `src/generated/openapi.ts` from the contract; commit both. */
import { mkdir, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import { documentFile, render, typesFile } from "./openapi.js"

const { document, types } = await render()
await mkdir(dirname(typesFile), { recursive: true })
await writeFile(documentFile, document)
await writeFile(typesFile, types)
console.log(`wrote ${documentFile} and ${typesFile}`)
