/**
 * The access workloads alone (`access.ts`), on both stores, without the rest of `pnpm bench`:
 *   tsx src/access-run.ts [--smoke]
 * Prints the table; writes nothing.
 */
import { Effect } from "effect"
import { accessTable, accessWorkloads, fullAccess, smokeAccess } from "./access.js"

Effect.runPromise(accessWorkloads(process.argv.includes("--smoke") ? smokeAccess : fullAccess)).then(
  (rows) => console.table(accessTable(rows)),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
