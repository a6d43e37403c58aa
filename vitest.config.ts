import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/harness/global_setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Timeouts are a backstop against hangs, not a speed check: a loaded 2-core CI machine is slow.
    // Two cores: files run in parallel, each with its own databases on the one server.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
