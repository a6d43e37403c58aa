/**
 * Builds what the package ships, from the TypeScript sources:
 * - dist/cli.js: the CLI as one ES module for Node (npm packages stay external);
 * - dist/function/migration-drift/: the edge function as a self-contained folder
 *   for `drift-guard init` to copy into a user's project. Its own files sit at the
 *   top, shared/ and db/ beside them, so no import leaves the folder; deno.json
 *   maps each bare specifier to an exact `npm:` version.
 *
 * `npm pack` runs it (prepack). In a checkout, bin/drift-guard.js runs it when a
 * source is newer than the output, so `npx drift-guard` works right after `npm install`.
 *
 * Usage: node scripts/build.mjs [--if-stale]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, posix, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI_OUT = join(ROOT, "dist", "cli.js");
export const FUNCTION_OUT = join(ROOT, "dist", "function", "migration-drift");
const FUNCTION_SRC = join(ROOT, "functions", "migration-drift");
const SOURCE_DIRS = ["cli", "cli/commands", "cli/mcp", "db", "shared", "functions/migration-drift"];
/** The function's entrypoints: index.ts is what Supabase deploys, serve.ts what `drift-guard serve` runs. */
const FUNCTION_ENTRIES = ["index.ts", "serve.ts"];
/**
 * npm packages the function imports; deno.json pins each to the version installed here.
 * PGlite is reached only from serve.ts (comparing definitions locally), never from
 * index.ts, so the hosted bundle does not carry it; the prefix entry maps its contrib/ imports.
 */
const FUNCTION_PACKAGES = ["postgres", "zod", "jose", "@electric-sql/pglite", "@electric-sql/pglite-pgvector"];
const FUNCTION_PREFIXES = ["@electric-sql/pglite"];

function sourceFiles() {
  const files = [join(ROOT, "package.json"), fileURLToPath(import.meta.url)];
  for (const dir of SOURCE_DIRS) {
    for (const name of readdirSync(join(ROOT, dir))) if (name.endsWith(".ts") || name.endsWith(".json")) files.push(join(ROOT, dir, name));
  }
  return files;
}

/** True when an output is missing or older than some source. */
export function isStale() {
  const outputs = [CLI_OUT, join(FUNCTION_OUT, "deno.json")];
  if (!outputs.every(existsSync)) return true;
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return sourceFiles().some((f) => statSync(f).mtimeMs > built);
}

/** Writes through a temporary name, so a concurrent reader sees the old file or the new one, never half. */
function writeAtomic(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export async function buildCli() {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [join(ROOT, "cli", "main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    write: false,
    logLevel: "silent",
    legalComments: "none",
    outfile: CLI_OUT,
  });
  writeAtomic(CLI_OUT, result.outputFiles[0].text);
}

/**
 * A module specifier: in an import or export statement at the start of a line
 * (`… from "x"`, or a bare `import "x"`), or in a dynamic `import("x")`. Anchored
 * to statements, so "from" inside a comment or string is not mistaken for one.
 */
const IMPORT = /(^(?:import|export)\b[^;]*?\bfrom\s*|^import\s*|\bimport\(\s*)(["'])([^"'\n]+)\2/gm;

/**
 * Every module specifier a TypeScript/JavaScript source imports.
 *
 * @example
 * moduleSpecifiers('import { z } from "zod";\nimport { a } from "./a.ts";') // => ["zod", "./a.ts"]
 */
export function moduleSpecifiers(text) {
  return [...text.matchAll(IMPORT)].map((m) => m[3]);
}

/** Where a source file goes in the function folder: the function's own files at the top, shared/ and db/ beside them. */
function functionPath(file) {
  const rel = relative(ROOT, file).split("\\").join("/");
  if (rel.startsWith("functions/migration-drift/")) return rel.slice("functions/migration-drift/".length);
  if (rel.startsWith("shared/") || rel.startsWith("db/")) return rel;
  throw new Error(`the function imports ${rel}, which is outside shared/, db/ and functions/migration-drift/`);
}

function installedVersion(pkg) {
  return JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
}

/** The function's file graph, with each import rewritten to the file's place in the folder. */
export function functionFiles() {
  const out = new Map();
  const queue = FUNCTION_ENTRIES.map((e) => join(FUNCTION_SRC, e));
  while (queue.length > 0) {
    const file = queue.pop();
    const target = functionPath(file);
    if (out.has(target)) continue;
    let text = readFileSync(file, "utf8");
    text = text.replace(IMPORT, (whole, lead, quote, spec) => {
      if (!spec.startsWith(".")) return whole;
      const dep = resolve(dirname(file), spec);
      queue.push(dep);
      let rewritten = posix.relative(posix.dirname(target), functionPath(dep));
      if (!rewritten.startsWith(".")) rewritten = `./${rewritten}`;
      return `${lead}${quote}${rewritten}${quote}`;
    });
    out.set(target, text);
  }
  return out;
}

export function buildFunction() {
  const files = functionFiles();
  const tmp = `${FUNCTION_OUT}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  for (const [path, text] of files) {
    mkdirSync(dirname(join(tmp, path)), { recursive: true });
    // Unstamped: `drift-guard init` stamps each file as it writes it (shared/generated_file.ts).
    writeFileSync(join(tmp, path), text);
  }
  const imports = Object.fromEntries([
    ...FUNCTION_PACKAGES.map((p) => [p, `npm:${p}@${installedVersion(p)}`]),
    ...FUNCTION_PREFIXES.map((p) => [`${p}/`, `npm:/${p}@${installedVersion(p)}/`]),
  ]);
  writeFileSync(join(tmp, "deno.json"), JSON.stringify({ imports }, null, 2) + "\n");
  rmSync(FUNCTION_OUT, { recursive: true, force: true });
  mkdirSync(dirname(FUNCTION_OUT), { recursive: true });
  renameSync(tmp, FUNCTION_OUT);
}

export async function buildAll() {
  await buildCli();
  buildFunction();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  if (!process.argv.includes("--if-stale") || isStale()) await buildAll();
}
