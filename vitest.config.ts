import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/harness/global_setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: files run in parallel, each with its own databases on the one server.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
