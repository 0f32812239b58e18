/**
 * `pnpm migrate` reads the whole configuration before it opens a store: a
 * bad variable, even one only the server uses, stops it with one line
 * naming the variable and leaves no store behind.
 */
import { misconfigurations, runMisconfigured } from "@tessera/config/testing"
import { describe, expect, it } from "vitest"

describe("pnpm migrate up with invalid configuration", () => {
  it.each(misconfigurations)(
    "$name: one line naming the variable, exit status 1, no store file",
    async (misconfiguration) => {
      const run = await runMisconfigured("apps/migrator/src/bin.ts", ["up"], misconfiguration)
      expect(run.stderr.split("\n").filter((line) => line.length > 0)).toEqual([expect.stringMatching(misconfiguration.line)])
      expect(run.code).toBe(1)
      expect(run.stdout).toBe("")
      expect(run.created).toEqual([])
      for (const secret of misconfiguration.secrets) expect(run.stderr).not.toContain(secret)
    },
    120_000
  )
})
