#!/usr/bin/env node
// The drift-guard command, on Node alone. An installed package runs the bundle
// that `npm pack` built (dist/cli.js). A checkout of the repository builds that
// bundle first when dist/ has no build stamp (right after `npm install`, whose
// prepare script builds it too); after editing a source, `npm run build`
// refreshes it (the test run's global setup does so when any source is newer).
// The check is one stat, so start-up never walks the sources.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const build = join(root, "scripts", "build.mjs");
if (!existsSync(join(root, "dist", ".build-stamp")) && existsSync(build)) {
  const { buildAll } = await import(pathToFileURL(build).href);
  await buildAll();
}
const { main } = await import(pathToFileURL(join(root, "dist", "cli.js")).href);
process.exit(await main(process.argv.slice(2)));
