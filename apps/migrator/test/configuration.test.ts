/**
 * `pnpm migrate` reads the whole configuration before it opens a store: a
 * bad variable, even one only the server uses, stops it with one line
 * naming the variable and leaves no store behind.
 */
import { expectRefused, misconfigurations, runMisconfigured } from "@tessera/config/testing"
import { describe, it } from "vitest"

describe("pnpm migrate up with invalid configuration", () => {
  // each refusal is its own process in its own directory: they run side by side
  it.concurrent.each(misconfigurations)(
    "$name: one line naming the variable, exit status 1, no store file",
    async (misconfiguration) => {
      expectRefused(await runMisconfigured("apps/migrator/src/bin.ts", ["up"], misconfiguration), misconfiguration)
    },
    120_000
  )
})
