import { defineConfig } from "vitest/config";
import { hostedSkipReason } from "./tests/harness/hosted_postgres.ts";

/**
 * Test files that also run on the hosted-shaped cluster (tests/harness/hosted_postgres.ts: postgres
 * not a superuser, supautils preloaded), in the `hosted` project: the schema's security tests, listed
 * here, and any file named `tests/<name>.hosted.test.ts`. Each also runs in the `default` project.
 */
const HOSTED_TESTS = [
  "tests/schema_security.test.ts",
  // The schema's security tests: they must hold where postgres is not a superuser.
  "tests/schema_temp_hijack.test.ts",
  "tests/store_manifest_definer.test.ts",
  "tests/ledger_truth.test.ts",
  "tests/ledger_claimed_identity.test.ts",
  "tests/ledger_flood.test.ts",
  "tests/security_model.test.ts",
  "tests/schema_upgrade.test.ts",
  "tests/**/*.hosted.test.ts",
];
const hostedSkipped = hostedSkipReason();
if (hostedSkipped && !process.env.VITEST_WORKER_ID) {
  console.warn(`vitest: the hosted project (${HOSTED_TESTS.join(", ")} on a hosted-shaped PostgreSQL) is ${hostedSkipped.replace(/^\(|\)$/g, "")}`);
}

export default defineConfig({
  test: {
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Timeouts are a backstop against hangs, not a speed check: a loaded 2-core CI machine is slow.
    // Two cores: files run in parallel, each with its own databases on the one server.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      { extends: true as const, test: { name: "default", include: ["tests/**/*.test.ts"], globalSetup: ["tests/harness/global_setup.ts"] } },
      ...(hostedSkipped ? [] : [{ extends: true as const, test: { name: "hosted", include: HOSTED_TESTS, globalSetup: ["tests/harness/hosted_global_setup.ts"] } }]),
    ],
  },
});
