#!/usr/bin/env node
// The drift-guard command, on Node alone. An installed package runs the bundle
// that `npm pack` built (dist/cli.js). A checkout of the repository rebuilds
// that bundle first whenever a TypeScript source is newer, so edits take effect
// at once and `npx drift-guard` works right after `npm install`.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const build = join(root, "scripts", "build.mjs");
if (existsSync(build) && existsSync(join(root, "cli", "main.ts"))) {
  const { buildAll, isStale } = await import(pathToFileURL(build).href);
  if (isStale()) await buildAll();
}
const { main } = await import(pathToFileURL(join(root, "dist", "cli.js")).href);
process.exit(await main(process.argv.slice(2)));
