#!/usr/bin/env node
// The drift-guard command. Node 20 cannot run TypeScript, so this hands cli/main.ts
// to the Deno binary that npm installed (the `deno` package's platform binary):
// one runtime for the CLI and the edge function, no build step.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

function denoBinary() {
  if (process.env.DENO_BIN) return process.env.DENO_BIN;
  const exe = process.platform === "win32" ? "deno.exe" : "deno";
  const platforms = {
    linux: { x64: ["linux-x64-glibc"], arm64: ["linux-arm64-glibc"] },
    darwin: { x64: ["darwin-x64"], arm64: ["darwin-arm64"] },
    win32: { x64: ["win32-x64"], arm64: ["win32-arm64"] },
  }[process.platform]?.[process.arch] ?? [];
  for (const suffix of platforms) {
    try {
      const candidate = join(dirname(require.resolve(`@deno/${suffix}/package.json`)), exe);
      if (existsSync(candidate)) return candidate;
    } catch { /* not installed */ }
  }
  return "deno"; // on PATH
}

const child = spawn(
  denoBinary(),
  ["run", "--allow-all", "--no-prompt", "--quiet", "--config", join(root, "deno.json"), join(root, "cli", "main.ts"), ...process.argv.slice(2)],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("error", (err) => {
  console.error(`drift-guard: cannot start Deno (${err.message}). Run \`npm install\` in ${root}, or set DENO_BIN.`);
  process.exit(3);
});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 3 : 0)));
