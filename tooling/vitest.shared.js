// Shared vitest settings for every package: tests run from TypeScript source,
// sequentially per file pool, with generous timeouts for store-backed suites.
import { defineConfig } from "vitest/config"

export const shared = defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
    sequence: { concurrent: false }
  }
})
