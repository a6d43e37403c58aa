/**
 * `drift-guard schema-diff`: does the live database match what the migrations build?
 *
 * 1. read the live catalog (and the platform facts the shadow needs: default
 *    privileges, search_path, installed extensions, applied versions), from the
 *    database (--db-url) or from the deployed function's GET /schema (--url, --token:
 *    CI then needs no database credentials; the same snapshot, read by the same SQL);
 * 2. replay supabase/migrations into a shadow: embedded PGlite by default, or
 *    an empty real Postgres with --shadow-url; Supabase stand-ins first;
 * 3. read the shadow's catalog with the same SQL, compare, suggest a migration.
 *
 * Exit 0 in sync, 1 drift, 2 bad input (including a migration that cannot be
 * replayed), 3 cannot reach or authenticate to a database or the function.
 */
import { Option } from "commander";
import { resolve } from "node:path";
import { type PlatformSettings, postgresCatalog, readCatalog, readPlatformSettings } from "../../db/catalog.ts";
import {
  assertEmptyShadow,
  bootstrapShadow,
  extensionStatementRule,
  missingExtensionRepair,
  missingRoleRepair,
  openEmbeddedShadow,
  openPostgresShadow,
  ReplayError,
  replayMigrations,
  type Shadow,
  shadowUnreachable,
  type UnbuiltPlatformObject,
  standInCandidates,
  standInsInUse,
  stripLeadingComments,
} from "../../db/shadow.ts";
import { alignViewSpelling } from "../../db/view_spelling.ts";
import { extensionsMentioned } from "../../shared/extension_statements.ts";
import { classifyReplayFailure } from "../../shared/replay_failure.ts";
import { statementLine } from "../../shared/sql_statements.ts";
import { renderSchemaReport, type SchemaReportFormat } from "../../shared/report_formats/schema_report.ts";
import {
  buildSchemaReport,
  type CatalogSnapshot,
  DEFAULT_EXCLUDED_SCHEMAS,
  type SchemaDiffReport,
  schemaDigest,
  schemaFilter,
  type SchemaFilter,
  type SchemaFingerprint,
  standInExtensionObject,
} from "../../shared/schema_diff.ts";
import type { LocalMigration, Problem } from "../../shared/types.ts";
import { DriftGuardError } from "../../shared/types.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { dbUrlOption, functionUrlOption, migrationsOption, requireDbUrl, TARGET_RULE_HELP, tokenOption } from "../options.ts";
import { callFunction, requireFunctionTarget } from "../function_client.ts";
import { readMigrationsDir } from "../local_migrations.ts";
import { progress } from "../progress.ts";
import { printReport, reportExitCode } from "../output.ts";

export interface SchemaDiffOptions {
  dbUrl?: string;
  /** The deployed function (with token): its GET /schema instead of --db-url. */
  url?: string;
  token?: string;
  migrations: string;
  shadowUrl?: string;
  format: SchemaReportFormat;
  includeSchema?: string[];
  excludeSchema?: string[];
  output?: string;
  /** Leave ownership differences out of the report. */
  ignoreOwners?: boolean;
}


/**
 * Prints the schema report; exit 0 in sync, 1 on drift, 2 when a migration cannot be replayed.
 * @example await run(deps, { dbUrl, migrations: "supabase/migrations", format: "json" })
 */
export async function run(deps: CliDeps, opts: SchemaDiffOptions): Promise<number> {
  const report = await runSchemaDiff(deps, opts);
  await printReport(deps, (format, style) => renderSchemaReport(report, format, style), opts.format, opts.output);
  return reportExitCode(report, undefined, deps.stderr);
}

/**
 * The report, without printing it.
 * @example const report = await runSchemaDiff(deps, { dbUrl, migrations: "supabase/migrations", format: "json" })
 */
export async function runSchemaDiff(deps: CliDeps, opts: SchemaDiffOptions): Promise<SchemaDiffReport> {
  const viaFunction = Boolean(opts.url && !opts.dbUrl);
  if (!viaFunction) {
    requireDbUrl(opts.dbUrl, "schema-diff", {
      orFunction: true,
      hint: "drift-guard schema-diff --db-url postgresql://…  or  drift-guard schema-diff --url https://<ref>.supabase.co/functions/v1/migration-drift --token …",
    });
  }
  const target = viaFunction ? requireFunctionTarget(opts.url, opts.token) : null;
  const parsed = await readMigrationsDir(opts.migrations, deps);
  const errors = parsed.problems.filter((p) => p.level === "error");
  if (errors.length) {
    throw new DriftGuardError("bad_input", `cannot replay ${opts.migrations}: ${errors.map((p) => `${p.file}: ${p.message}`).join("; ")}`, "fix the files named above, then run schema-diff again");
  }
  const filter = schemaFilter(opts.includeSchema, opts.excludeSchema);
  const problems: Problem[] = [...parsed.problems];
  const started = performance.now();

  // The embedded shadow spends its first seconds compiling WebAssembly: start it while the live catalog is read.
  // It must know which extensions to make available (PGlite's own, or stand-ins) before it starts: those the
  // migrations create anywhere (DO blocks and functions too) and those the live database has.
  const mentioned = parsed.migrations.flatMap((m) => m.statements.flatMap(extensionsMentioned));
  let settingsReady!: (s: PlatformSettings) => void;
  const settingsKnown = new Promise<PlatformSettings>((resolve) => (settingsReady = resolve));
  const opening: Promise<Shadow & { loaded?: string[] }> = opts.shadowUrl ? openPostgresShadow(opts.shadowUrl) : settingsKnown.then((settings) => {
    const versions = new Map<string, string[]>();
    const addVersion = (name: string, v: string | null | undefined) => versions.set(name, [...(versions.get(name) ?? []), ...(v ? [v] : [])]);
    for (const e of settings.extensions) addVersion(e.name, e.version);
    for (const e of mentioned) addVersion(e.name, e.version);
    return openEmbeddedShadow(versions.keys(), versions, settings.skeleton);
  });
  opening.catch(() => {}); // awaited below; do not let an early failure go unhandled

  const t: Record<string, number> = {};
  let live: { settings: PlatformSettings; snapshot: CatalogSnapshot };
  try {
    live = target
      ? await readLiveFromFunction(target, opts, filter).then((l) => {
        settingsReady(l.settings);
        return l;
      })
      : await withDatabase(deps, opts.dbUrl!, async (sql) => {
        const conn = postgresCatalog(sql);
        const settings = await readPlatformSettings(conn);
        settingsReady(settings);
        return { settings, snapshot: await readCatalog(conn, filter) };
      });
  } catch (err) {
    if (opts.shadowUrl) await opening.then((s) => s.close()).catch(() => {});
    throw err;
  }

  t.live_ms = performance.now() - started;
  const shadow = await opening;
  t.shadow_start_ms = performance.now() - started;
  let expected: CatalogSnapshot;
  let replayed;
  let standIns: Array<{ name: string; schema: string }> = [];
  let unbuilt: UnbuiltPlatformObject[] = [];
  try {
    let mark = performance.now();
    if (shadow.kind === "postgres") await assertEmptyShadow(shadow, opts.shadowUrl!);
    ({ unbuilt } = await bootstrapShadow(shadow, live.settings, { migrations: parsed.migrations }));
    t.bootstrap_ms = performance.now() - mark;
    mark = performance.now();
    const bar = progress("replaying migrations", parsed.migrations.length, deps.stderr);
    const roleRepair = missingRoleRepair(shadow, new Set(live.settings.roles));
    const extensionRepair = missingExtensionRepair(shadow, live.settings.extensions, new Set(mentioned.map((e) => e.name)));
    try {
      replayed = await replayMigrations(shadow, parsed.migrations, {
        skip: shadow.standInMode === "statement" ? extensionStatementRule(shadow) : undefined,
        repair: async (err) => (await roleRepair(err)) ?? (await extensionRepair(err)),
        progress: (n) => bar.tick(n),
      });
    } finally {
      bar.done();
    }
    t.replay_ms = performance.now() - mark;
    mark = performance.now();
    standIns = await standInsInUse(shadow);
    expected = await readCatalog(shadow.catalog, filter);
    // --shadow-url stand-ins are no extensions there: they count as the extension the migrations created.
    if (shadow.standInMode === "statement") {
      for (const s of standIns) {
        const o = standInExtensionObject(s.name, s.schema, filter);
        if (o) expected.objects.push(o);
      }
    }
    await alignViewSpelling(shadow, expected, live.snapshot);
    t.shadow_catalog_ms = performance.now() - mark;
  } catch (err) {
    if (err instanceof ReplayError) {
      // Stand-ins the failing migration made were rolled back with it: they still explain its failure.
      const own = parsed.migrations.find((m) => m.path === err.file)?.statements.flatMap(extensionsMentioned) ?? [];
      const candidates: string[] = await standInCandidates(shadow, own.map((e) => e.name)).catch(() => []);
      const inUse: Array<{ name: string; schema: string }> = await standInsInUse(shadow).catch(() => []);
      const all = [...inUse, ...own.filter((e) => candidates.includes(e.name) && !inUse.some((u) => u.name === e.name)).map((e) => ({ name: e.name, schema: e.schema ?? "public" }))];
      throw await replayProblem(deps, err, shadow.kind, all, unbuilt);
    }
    if (shadow.kind === "postgres") throw shadowUnreachable(err, opts.shadowUrl!);
    throw err;
  } finally {
    await shadow.close().catch(() => {});
  }

  for (const s of replayed.skipped) problems.push({ level: "warning", file: s.file, message: `statement ${s.statement} skipped: ${s.reason}` });
  for (const r of replayed.repaired) problems.push({ level: "warning", file: r.file, message: `statement ${r.statement} needed a fix: ${r.action}` });
  for (const s of standIns) {
    problems.push({
      level: "warning",
      file: opts.migrations,
      message: `extension ${s.name} (schema ${s.schema}) is a stand-in in the ${shadow.kind === "embedded" ? "embedded shadow: PGlite" : "shadow database: it"} has no ${s.name}; ` +
        "replay went on with its name, schema and stubs of its common functions; objects that depend on what it really does are not checked",
    });
  }
  problems.push(...unbuiltWarnings(unbuilt, opts.migrations));
  problems.push(...pendingWarnings(parsed.migrations, live.settings.applied_versions));
  if (parsed.migrations.length === 0) {
    problems.push({ level: "warning", file: opts.migrations, message: "no migrations: every object in the live schema is reported as extra" });
  }

  return buildSchemaReport({
    expected,
    actual: live.snapshot,
    problems,
    schemas: filter,
    now: deps.now(),
    migrationsDir: opts.migrations,
    ignoreOwners: opts.ignoreOwners,
    shadow: {
      kind: shadow.kind,
      server_version_num: expected.server_version_num,
      migrations: replayed.migrations,
      statements: replayed.statements,
      ms: Math.round(performance.now() - started),
      timings: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)])),
    },
  });
}

/**
 * The live side from the function's GET /schema: the snapshot the function read with
 * db/catalog.ts (the same SQL as --db-url), and the platform settings the shadow copies.
 * The digest is checked against the objects, so a cut-off or altered body is refused.
 */
async function readLiveFromFunction(
  target: ReturnType<typeof requireFunctionTarget>,
  opts: SchemaDiffOptions,
  filter: SchemaFilter,
): Promise<{ settings: PlatformSettings; snapshot: CatalogSnapshot }> {
  const query = new URLSearchParams();
  if (opts.includeSchema?.length) query.set("include_schema", opts.includeSchema.join(","));
  if (opts.excludeSchema?.length) query.set("exclude_schema", opts.excludeSchema.join(","));
  let body: unknown;
  try {
    [, body] = await callFunction(target, "GET", `schema${query.size ? `?${query}` : ""}`);
  } catch (err) {
    if (err instanceof DriftGuardError && err.code === "not_found") {
      throw new DriftGuardError("unreachable", `${err.message} (the function has no GET /schema)`, "deploy the current migration-drift function, or use --db-url");
    }
    throw err;
  }
  const fp = body as Partial<SchemaFingerprint> | null;
  const settings = fp?.settings as Partial<PlatformSettings> | undefined;
  const wellFormed = fp && typeof fp === "object" && Array.isArray(fp.objects) && typeof fp.server_version_num === "number" &&
    typeof fp.schema_digest === "string" && settings && typeof settings === "object" && typeof settings.search_path === "string" &&
    Array.isArray(settings.default_privileges) && Array.isArray(settings.roles) && Array.isArray(settings.extensions) &&
    (settings.applied_versions === null || Array.isArray(settings.applied_versions));
  if (!wellFormed) {
    throw new DriftGuardError("unreachable", "the function's GET /schema answered with an unexpected body", "is --url the migration-drift function, and is it current?");
  }
  if (schemaDigest({ objects: fp.objects! }) !== fp.schema_digest) {
    throw new DriftGuardError("unreachable", "the function's schema snapshot does not match its schema_digest", "retry; if it persists, redeploy the function");
  }
  if (JSON.stringify(fp.schemas) !== JSON.stringify(filter)) {
    throw new DriftGuardError("unreachable", "the function read the schema with other schema filters than asked", "deploy the current migration-drift function");
  }
  return { settings: settings as PlatformSettings, snapshot: { server_version_num: fp.server_version_num!, objects: fp.objects! } };
}

async function replayProblem(deps: CliDeps, err: ReplayError, kind: Shadow["kind"], standIns: ReadonlyArray<{ name: string; schema: string }>, unbuilt: readonly UnbuiltPlatformObject[]): Promise<DriftGuardError> {
  const first = stripLeadingComments(err.sqlText).split("\n")[0].slice(0, 120);
  const where = kind === "embedded" ? "the embedded shadow (PGlite)" : "the shadow database";
  let line: number | null = null;
  try {
    line = statementLine(await deps.fs.readFile(resolve(deps.cwd, err.file), "utf8"), err.statement, err.position);
  } catch {
    // the file went away: no line
  }
  const { cause, hint } = classifyReplayFailure({ shadow: kind, sqlState: err.sqlState, message: err.detail, statement: err.sqlText, standIns, unbuilt });
  const causeText = cause === "migration" ? "the migration's own error" : cause === "pglite" ? "a PGlite limitation" : "the shadow lacks part of the platform";
  return new DriftGuardError(
    "bad_input",
    `${err.file}${line ? `:${line}` : ""}: cannot be replayed in ${where}: statement ${err.statement} (${first}) failed: ${err.detail} [cause: ${causeText}]`,
    hint,
  );
}

/** Platform objects the live database has and the shadow could not build: replay went on without them. */
function unbuiltWarnings(unbuilt: readonly UnbuiltPlatformObject[], dir: string): Problem[] {
  if (!unbuilt.length) return [];
  const shown = unbuilt.slice(0, 5).map((u) => `${u.object} (${u.error})`).join("; ");
  return [{
    level: "warning",
    file: dir,
    message: `${unbuilt.length} platform object(s) of the live database could not be built in the shadow: ${shown}${unbuilt.length > 5 ? "; …" : ""}; ` +
      "a migration that uses one fails here though it runs live: pass --shadow-url (a database made by `supabase start`) to replay on the real platform",
  }];
}

function pendingWarnings(migrations: readonly LocalMigration[], applied: string[] | null): Problem[] {
  if (applied === null) return [];
  const set = new Set(applied);
  const pending = migrations.filter((m) => !set.has(m.version));
  if (!pending.length) return [];
  const names = pending.slice(0, 5).map((m) => m.version).join(", ") + (pending.length > 5 ? `, … (${pending.length} in all)` : "");
  return [{
    level: "warning",
    file: pending[0].path,
    message: `${pending.length} local migration(s) are not in the live migration history (${names}): what they create shows as missing until they are pushed; see drift-guard check`,
  }];
}

function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join("\n");
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];

export const definition: CommandDefinition = {
  name: "schema-diff",
  description: "compare the live schema with what supabase/migrations build (replayed into a shadow database; no Docker)",
  options: () => [
    dbUrlOption(),
    functionUrlOption(),
    tokenOption(),
    migrationsOption(),
    new Option("--shadow-url <url>", "an empty Postgres to replay into, instead of the embedded PGlite shadow"),
    new Option("--format <format>", "output format").choices(["text", "json", "markdown", "junit"]).default("text"),
    new Option("--include-schema <schemas...>", "compare only these schemas (repeat or comma-separate)").argParser(collect),
    new Option("--exclude-schema <schemas...>", "also leave out these schemas").argParser(collect),
    new Option("--output <file>", "also write --format to FILE; the terminal gets text"),
    new Option("--ignore-owners", "do not report objects whose owner differs (kind owner)"),
  ],
  help: `Compared: schemas, tables, columns (type, default, not null, identity, generated), constraints, indexes,
views, materialized views, functions (signature, language, security definer, search_path, body), triggers,
enums and other types, sequences, extensions (with their schema, platform schemas included), replica
identity, row level security (enabled/forced), policies, grants (tables, columns, functions, schemas),
publication membership (realtime), owners other than the migration role (--ignore-owners leaves them
out) and comments. Not compared: default privileges (copied from the live database into the shadow), data.

The shadow starts as the platform does: the live database's skeleton of Supabase's schemas (tables,
keys, types, function signatures with stub bodies), and the extensions every project has
(uuid-ossp, pgcrypto, pgjwt, pg_graphql, supabase_vault…) as the live database has them. An extension
the shadow lacks gets a stand-in (its name, schema and stubs of its common functions), reported as a
warning. A --shadow-url database must hold no user objects; the platform's schemas and extensions are
fine, so a database made by \`supabase start\` (before migrations ran in it) can be the shadow.
${wrap(`Left out by default: ${DEFAULT_EXCLUDED_SCHEMAS.join(", ")}, pg_*, information_schema, and objects that extensions own. Policies and triggers that migrations attach to auth and storage tables are compared.`)}

With --url and --token, the live schema comes from the deployed function's GET /schema (read scope):
CI needs no database credentials. The shadow is still built locally from --migrations.

${TARGET_RULE_HELP}`,
  exitCodes: [0, 1, 2, 3],
  zeroMeans: "in sync",
  oneMeans: "schema drift found",
  examples: [
    'drift-guard schema-diff --db-url "$SUPABASE_DB_URL"',
    "drift-guard schema-diff --format json > schema-drift.json",
    'drift-guard schema-diff --url https://<ref>.supabase.co/functions/v1/migration-drift --token "$DRIFT_GUARD_TOKEN"',
    "drift-guard schema-diff --shadow-url postgresql://postgres:postgres@localhost:5432/shadow_empty",
    "drift-guard schema-diff --include-schema public,private --format markdown --output schema-drift.md",
  ],
  target: true,
};
