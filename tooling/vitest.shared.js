// Shared vitest settings for every package: tests run from TypeScript source
// with generous timeouts for store-backed suites. Two files run at once
// (docs/testing.md, "Workers"): most suites wait on PostgreSQL or on child
// processes, and every file makes its own databases, temporary files and ports.
import { defineConfig } from "vitest/config"

export const shared = defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    minWorkers: 1,
    maxWorkers: 2,
    // test databases commit without waiting for the disk (docs/testing.md): they are dropped after the suite
    env: { TESSERA_TEST_PG_SYNCHRONOUS_COMMIT: "off" },
    reporters: ["default"],
    sequence: { concurrent: false }
  }
})
