/**
 * `drift-guard init`: puts drift-guard into a project made by `supabase init`.
 *
 * Writes the self-contained function to supabase/functions/migration-drift/,
 * registers it in supabase/config.toml, adds the drift_guard schema as a new
 * migration of the project's, and writes .github/workflows/migration-drift.yml.
 * A second run changes nothing; after an upgrade it refreshes the function and
 * adds a migration only when the schema changed. Files someone edited are kept
 * unless --force. Every write goes to a temporary file first, then is renamed.
 */
import { dirname, join, relative } from "node:path";
import { Option } from "commander";
import { retireRemovedFiles, schemaFileChecksum, schemaMigrations } from "../../db/install.ts";
import { sha256Hex } from "../../shared/checksum.ts";
import { generatedState, stampGenerated } from "../../shared/generated_file.ts";
import { targetEnvNames } from "../../shared/environments.ts";
import { FUNCTION_NAME, readRemotes, registerFunction } from "../../shared/supabase_config.ts";
import { DriftGuardError, EXIT } from "../../shared/types.ts";
import type { CommandDefinition } from "../command.ts";
import type { CliDeps, CliFs } from "../deps.ts";
import { PACKAGE_ROOT } from "../package_root.ts";
import { rootedFs } from "../rooted_fs.ts";

export const definition: CommandDefinition = {
  name: "init",
  description: "set drift-guard up in a project made by `supabase init`: the function, its config.toml entry, the schema migration, a GitHub workflow",
  options: () => [
    new Option("--workdir <dir>", "the project directory (the one holding supabase/)").default("."),
    new Option("--dry-run", "list what would be written; write nothing"),
    new Option("--force", "also overwrite files someone edited since init wrote them"),
  ],
  help: `Writes supabase/functions/migration-drift/ (self-contained: no import leaves the folder), adds
[functions.migration-drift] with verify_jwt = false to supabase/config.toml (every other line stays),
adds the drift_guard schema as a new migration in supabase/migrations, and writes
.github/workflows/migration-drift.yml. Run it again after upgrading drift-guard: it refreshes the
function and adds a migration only when the schema changed.`,
  exitCodes: [0, 2],
  examples: ["npx drift-guard init", "npx drift-guard init --dry-run"],
};
const FUNCTION_TEMPLATE = join(PACKAGE_ROOT, "dist", "function", FUNCTION_NAME);
const WORKFLOW_TEMPLATE = join(PACKAGE_ROOT, "templates", "migration-drift.yml");
const SCHEMA_DIR = join(PACKAGE_ROOT, "supabase", "migrations");

export interface InitOptions {
  workdir: string;
  dryRun?: boolean;
  force?: boolean;
}

/** Unique per run, so two concurrent inits never write the same temporary file. */
const TEMP_SUFFIX = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

type Action = "create" | "update" | "unchanged" | "kept_edited";

export interface PlannedWrite {
  /** Relative to the project directory. */
  path: string;
  action: Action;
  text: string;
  why?: string;
}

/** @example await packageVersion(deps.fs) // "0.1.0" */
export async function packageVersion(fs: CliFs): Promise<string> {
  return JSON.parse(await fs.readFile(join(PACKAGE_ROOT, "package.json"), "utf8")).version;
}

const exists = (fs: CliFs, path: string) => fs.access(path).then(() => true, () => false);

async function readIfExists(fs: CliFs, file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    // ENOTDIR: a parent is a file, so this file cannot exist (writing it will fail, and say so).
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    const why = code === "EISDIR" ? "is a directory" : `cannot be read (${code})`;
    throw new DriftGuardError("bad_input", `${file} ${why}`, "move it away or fix its permissions, then run init again; nothing was written");
  }
}

async function listFiles(fs: CliFs, dir: string, base = dir): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) =>
    e.isDirectory() ? listFiles(fs, join(dir, e.name), base) : Promise.resolve([relative(base, join(dir, e.name))])
  ));
  return nested.flat();
}

/** A generated file: create, refresh, leave alone, or keep the user's edit. */
function planGenerated(path: string, wanted: string, current: string | null, force: boolean, isOurs: (text: string) => boolean): PlannedWrite {
  if (current === null) return { path, action: "create", text: wanted };
  if (current === wanted) return { path, action: "unchanged", text: wanted };
  if (force || isOurs(current)) return { path, action: "update", text: wanted };
  return { path, action: "kept_edited", text: wanted, why: "edited since drift-guard wrote it; --force overwrites it" };
}

/** An exact npm version: `npm:zod@4.6.7`, or the prefix form `npm:/@electric-sql/pglite@0.5.14/`. */
const PINNED = /^npm:\/?[@a-z0-9/._-]+@\d+\.\d+\.\d+\/?$/;

/**
 * The function's deno.json carries no stamp (it is JSON): it is ours while it holds
 * only `imports`, each an exact npm version of the package its key names. A release
 * may add packages, so the set of keys is not compared.
 */
function isOurDenoJson(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { imports?: Record<string, string> };
    return Object.keys(parsed).join() === "imports" &&
      Object.entries(parsed.imports ?? {}).every(([pkg, spec]) => PINNED.test(spec) && spec.includes(`${pkg.replace(/\/$/, "")}@`));
  } catch {
    return false;
  }
}

const isUnedited = (text: string) => generatedState(text) === "generated";

/** The drift_guard schema as one migration of the user's. Every schema file is idempotent, so it is safe after `drift-guard install`. */
export async function schemaMigrationText(fs: CliFs, version: string): Promise<{ text: string; schemaHash: string }> {
  const files = await Promise.all(schemaMigrations(SCHEMA_DIR).map(async (f) => ({ ...f, text: await fs.readFile(f.path, "utf8") })));
  const body = files.map((f) => `-- ${f.file}\n${f.text.trimEnd()}\n`).join("\n");
  const schemaHash = `sha256:${sha256Hex(body)}`;
  // With each file's checksum, as `drift-guard install` records it, so that a later install runs only what changed.
  const record = `insert into drift_guard.schema_version (version, checksum) values ${
    files.map((f) => `('${f.version}', '${schemaFileChecksum(f.text)}')`).join(", ")
  }\n  on conflict (version) do update set checksum = excluded.checksum;\n${retireRemovedFiles(files.map((f) => f.version))}\n`;
  const text = `-- The drift_guard schema, written by drift-guard ${version} (npx drift-guard init).
-- drift-guard schema ${schemaHash}
-- \`supabase db push\` installs it and \`supabase db reset\` recreates it. Every statement is idempotent,
-- so it is also safe where \`drift-guard install\` ran before. Upgrades come as new migrations from init.

${body}
${record}`;
  return { text, schemaHash };
}

/** A version newer than every existing one, so `db push` sees the new migration as pending, not out of order. */
function nextVersion(existing: string[], now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const newest = existing.reduce((max, v) => (BigInt(v) > max ? BigInt(v) : max), 0n);
  return (BigInt(stamp) > newest ? BigInt(stamp) : newest + 1n).toString();
}

async function planMigration(fs: CliFs, workdir: string, version: string, now: Date): Promise<PlannedWrite> {
  const dir = join(workdir, "supabase", "migrations");
  const names = (await exists(fs, dir)) ? await fs.readdir(dir) : [];
  const { text, schemaHash } = await schemaMigrationText(fs, version);
  let current: string | undefined;
  for (const n of names.filter((n) => /^[0-9]+_.*drift_guard.*\.sql$/.test(n))) {
    if (((await readIfExists(fs, join(dir, n))) ?? "").includes(`-- drift-guard schema ${schemaHash}\n`)) {
      current = n;
      break;
    }
  }
  if (current) return { path: join("supabase", "migrations", current), action: "unchanged", text };
  const versions = names.map((n) => /^([0-9]+)_.*\.sql$/.exec(n)?.[1]).filter((v): v is string => v !== undefined);
  return { path: join("supabase", "migrations", `${nextVersion(versions, now)}_drift_guard.sql`), action: "create", text };
}

/**
 * Everything init would write, without writing.
 * @example const { writes } = await planInit(deps, { workdir: "/repo" })
 */
export async function planInit(deps: Pick<CliDeps, "fs" | "now">, opts: InitOptions): Promise<{ writes: PlannedWrite[]; configNote?: string }> {
  const { fs } = deps;
  const { workdir, force = false } = opts;
  const configPath = join(workdir, "supabase", "config.toml");
  const configText = await readIfExists(fs, configPath);
  if (configText === null) {
    throw new DriftGuardError("usage", `${workdir} is not a Supabase project: it has no supabase/config.toml`, "run `npx supabase init` first, or pass --workdir PROJECT_DIR");
  }
  if (!(await exists(fs, FUNCTION_TEMPLATE))) {
    throw new DriftGuardError("internal", `this drift-guard package has no built function at ${FUNCTION_TEMPLATE}`, "reinstall drift-guard; in a checkout, run `npm run build`");
  }
  const version = await packageVersion(fs);
  const writes: PlannedWrite[] = [];

  const fnDir = join("supabase", "functions", FUNCTION_NAME);
  for (const file of (await listFiles(fs, FUNCTION_TEMPLATE)).sort()) {
    const source = await fs.readFile(join(FUNCTION_TEMPLATE, file), "utf8");
    const path = join(fnDir, file);
    const current = await readIfExists(fs, join(workdir, path));
    if (file === "deno.json") writes.push(planGenerated(path, source, current, force, isOurDenoJson));
    else writes.push(planGenerated(path, stampGenerated(source, version, "//"), current, force, isUnedited));
  }

  const edit = registerFunction(configText, force);
  const configWrite: PlannedWrite = { path: join("supabase", "config.toml"), action: edit.text === configText ? "unchanged" : "update", text: edit.text };
  let configNote: string | undefined;
  if (edit.change === "verify_jwt_on") {
    configWrite.action = "kept_edited";
    configWrite.why = `[functions.${FUNCTION_NAME}] has verify_jwt on: set verify_jwt = false (drift-guard tokens are not JWTs), or run init --force`;
    configNote = configWrite.why;
  }
  writes.push(configWrite);

  writes.push(await planMigration(fs, workdir, version, deps.now()));

  const workflowPath = join(".github", "workflows", "migration-drift.yml");
  const workflow = stampGenerated(await fs.readFile(WORKFLOW_TEMPLATE, "utf8"), version, "#");
  writes.push(planGenerated(workflowPath, workflow, await readIfExists(fs, join(workdir, workflowPath)), force, isUnedited));
  return { writes, configNote };
}

/**
 * Writes each planned file through a temporary name in its own directory, then
 * renames them all into place. Any failure before the renames removes the
 * temporary files and the directories it made, so nothing is half-written.
 */
async function applyWrites(fs: CliFs, workdir: string, writes: PlannedWrite[]): Promise<void> {
  const pending = writes.filter((w) => w.action === "create" || w.action === "update");
  for (const w of pending) {
    const target = join(workdir, w.path);
    if (await fs.stat(target).then((s) => s.isDirectory(), () => false)) throw new DriftGuardError("bad_input", `${w.path} is a directory`, "move it away, then run init again; nothing was written");
  }
  const temps: Array<[string, string]> = [];
  const madeDirs: string[] = [];
  try {
    for (const w of pending) {
      const target = join(workdir, w.path);
      const made = await fs.mkdir(dirname(target), { recursive: true });
      if (made) madeDirs.push(made);
      const tmp = `${target}.drift-guard-${TEMP_SUFFIX}.tmp`;
      temps.push([tmp, target]);
      await fs.writeFile(tmp, w.text, { flag: "wx" });
    }
  } catch (err) {
    for (const [tmp] of temps) await fs.rm(tmp, { force: true });
    for (const dir of madeDirs.reverse()) await fs.rm(dir, { recursive: true, force: true });
    throw new DriftGuardError("bad_input", `cannot write into ${workdir}: ${(err as Error).message}`, "nothing was written; check the directory's permissions");
  }
  for (const [tmp, target] of temps) await fs.rename(tmp, target);
}

const VERB: Record<Action, string> = { create: "create", update: "update", unchanged: "unchanged", kept_edited: "kept (edited)" };

/** The project's ref when `supabase link` ran, for exact next-step commands. */
async function linkedRef(fs: CliFs, workdir: string): Promise<string | null> {
  const ref = (await readIfExists(fs, join(workdir, "supabase", ".temp", "project-ref")))?.trim();
  return ref && /^[a-z0-9]{10,40}$/.test(ref) ? ref : null;
}

async function nextSteps(fs: CliFs, workdir: string): Promise<string> {
  const ref = (await linkedRef(fs, workdir)) ?? "<project-ref>";
  const url = `https://${ref}.supabase.co/functions/v1/${FUNCTION_NAME}`;
  return `Next steps:
  1. Install the drift_guard schema (the new migration):
       npx supabase db push
  2. Deploy the function:
       npx supabase functions deploy ${FUNCTION_NAME} --project-ref ${ref}
  3. Create tokens (each is printed once, on the last line):
       npx drift-guard token create --scope read --label github-pr --db-url "$SUPABASE_DB_URL"
       npx drift-guard token create --scope deploy --label github-deploy --db-url "$SUPABASE_DB_URL"
  4. Give them to GitHub Actions (.github/workflows/migration-drift.yml reads these secrets):
       gh secret set DRIFT_GUARD_URL --body ${url}
       gh secret set DRIFT_GUARD_READ_TOKEN     # paste the read token
       gh secret set DRIFT_GUARD_DEPLOY_TOKEN   # paste the deploy token
  5. Upload the manifest of your migrations, then run the first check:
       npx drift-guard manifest upload --url ${url} --token "$DRIFT_GUARD_DEPLOY_TOKEN"
       npx drift-guard check --url ${url} --token "$DRIFT_GUARD_READ_TOKEN"
  6. More environments (staging, dev, …), checked together every morning:
${await environmentSteps(fs, workdir)}
  Locally, without deploying: SUPABASE_DB_URL=… npx drift-guard serve
`;
}

/**
 * How to add an environment: its [remotes.<name>] table, its two secrets, its two lines in
 * the workflow. Spelled out for each remote config.toml already names, else for staging.
 */
async function environmentSteps(fs: CliFs, workdir: string): Promise<string> {
  let remotes: Array<{ name: string; project_id?: string }> = [];
  try {
    remotes = readRemotes((await readIfExists(fs, join(workdir, "supabase", "config.toml"))) ?? "");
  } catch {
    // An unreadable config.toml stopped init before this point; the example below still applies.
  }
  const valid = remotes.filter((r) => /^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(r.name));
  const shown = valid.length ? valid : [{ name: "staging", project_id: undefined }];
  const lines = valid.length ? [] : [
    `       name it in supabase/config.toml (the Supabase CLI's per-environment table):`,
    `         [remotes.staging]`,
    `         project_id = "<staging-ref>"`,
  ];
  for (const r of shown) {
    const { url, token } = targetEnvNames(r.name);
    const ref = r.project_id && /^[a-z0-9]{10,40}$/.test(r.project_id) ? r.project_id : `<${r.name}-ref>`;
    lines.push(
      `       deploy the function to ${r.name} (step 2 with --project-ref ${ref}), create a read token there (step 3 with ${r.name}'s --db-url), then:`,
      `         gh secret set ${url} --body https://${ref}.supabase.co/functions/v1/${FUNCTION_NAME}`,
      `         gh secret set ${token.replace("DRIFT_GUARD_TOKEN_", "DRIFT_GUARD_READ_TOKEN_")}   # paste ${r.name}'s read token`,
      `       the workflow's step "Check every environment" reads them with these two lines under env: (staging's are there already):`,
      `         ${url}: \${{ secrets.${url} }}`,
      `         ${token}: \${{ secrets.${token.replace("DRIFT_GUARD_TOKEN_", "DRIFT_GUARD_READ_TOKEN_")} }}`,
    );
  }
  lines.push(`       on your machine: ${shown.map((r) => `${targetEnvNames(r.name).dbUrl}=…`).join(" ")} npx drift-guard check --all-targets (docs/environments.md)`);
  return lines.join("\n");
}

/** One line per file, except that the function's folder is one line when all its files fare alike. */
function summarize(writes: PlannedWrite[]): string[] {
  const fnDir = join("supabase", "functions", FUNCTION_NAME);
  const inFn = writes.filter((w) => w.path.startsWith(fnDir + "/"));
  const line = (w: PlannedWrite) => `${VERB[w.action].padEnd(14)} ${w.path}${w.why ? `  (${w.why})` : ""}`;
  const actions = new Set(inFn.map((w) => w.action));
  const fnLines = actions.size === 1 && !actions.has("kept_edited")
    ? [`${VERB[inFn[0].action].padEnd(14)} ${fnDir}/ (${inFn.length} files)`]
    : inFn.filter((w) => w.action !== "unchanged").map(line);
  return [...fnLines, ...writes.filter((w) => !inFn.includes(w)).map(line)];
}

/**
 * Plans and (without --dry-run) writes everything, then prints what it did and the next steps.
 * @example await run(deps, { workdir: ".", dryRun: true })
 */
export async function run(deps: CliDeps, opts: { workdir: string; dryRun?: boolean; force?: boolean }): Promise<number> {
  // Paths stay as typed (they appear in messages); the file system resolves them against deps.cwd.
  const fs = rootedFs(deps.fs, deps.cwd);
  const workdir = opts.workdir;
  const { writes, configNote } = await planInit({ fs, now: deps.now }, { workdir, force: opts.force });
  const changing = writes.filter((w) => w.action === "create" || w.action === "update");
  const out = deps.stdout;
  if (!opts.dryRun) await applyWrites(fs, workdir, writes);
  const head = opts.dryRun ? "drift-guard init --dry-run: would write" : "drift-guard init:";
  out.write(`${head}\n`);
  for (const line of summarize(writes)) out.write(`  ${line}\n`);
  if (changing.length === 0) out.write("Nothing to change: drift-guard is already set up here.\n");
  if (configNote) deps.stderr.write(`drift-guard: warning: ${configNote}\n`);
  if (!opts.dryRun && changing.length > 0) out.write(`\n${await nextSteps(fs, workdir)}`);
  return EXIT.ok;
}
