import { defineConfig, mergeConfig } from "vitest/config"
import { shared } from "../../tooling/vitest.shared.js"

// Each test runs the compiled `tessera` several times as a process; on a
// loaded 2-core machine one run can take seconds, so a test gets 3 minutes.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 180_000 } }))
