/**
 * Replays repositories from zero in the embedded shadow, as `supabase db reset`
 * and preview branches build them, and compares what the applied migrations
 * build with the live catalog: whether the current repository replays
 * (Report.replay) and whether each whole-history suggestion's repaired project
 * does (shared/history_verification.ts builds those projects).
 *
 * Scenarios with the same file order share one replay: the shadow is built
 * once, migration by migration, and its catalog is read after as many
 * migrations as each scenario's history records. All repaired projects are
 * tried together first; only when that fails is each tried on its own.
 */
import { readFileSync } from "node:fs";
import { describeDefinitionDifference } from "../shared/definition_evidence.ts";
import { DEFAULT_MIGRATIONS_DIR, dirFlagFor } from "../shared/drift.ts";
import { type ReplayScenario, scenario, simulate, squashLiveDefinitions, squashProven, withLiveDefinitionsStep } from "../shared/history_verification.ts";
import { type CatalogSnapshot, type Comparison, compareSnapshots, schemaFilter } from "../shared/schema_diff.ts";
import { statementLine } from "../shared/sql_statements.ts";
import type { HistoryFinding, LocalMigration, RemoteMigration, ReplayStatus } from "../shared/types.ts";
import { liveCatalogOnce, type PlatformSettings, readCatalog } from "./catalog.ts";
import type { Sql } from "./connect.ts";
import type { ReplayPass, ReplayVerifier, ReplayVerifierOptions } from "./report.ts";
import { bootstrapShadow, createdExtension, missingExtensionRepair, missingRoleRepair, openEmbeddedShadow, ReplayError, replayMigrations, type Shadow } from "./shadow.ts";
import { cachedReplay, replayCacheFile, writeReplayCache } from "./shadow/replay_cache.ts";
import { alignViewSpelling, type ViewSpellings } from "./view_spelling.ts";

export interface HistoryReplayOptions extends ReplayVerifierOptions {
  /** Opens a shadow (default: the embedded PGlite shadow). */
  openShadow?: (extensions: string[]) => Promise<Shadow>;
}

const MAX_DIFFERENCES = 20;

/**
 * Whether the repository replays from zero to what is live, and each finding's verification.
 *
 * @example
 * const { replay, findings } = await verifyHistoryReplay(sql, local, remote, report.findings);
 * replay.summary // "ok (12 migrations, equals live)"
 */
export const verifyHistoryReplay = async (
  sql: Sql,
  local: readonly LocalMigration[],
  remote: readonly RemoteMigration[],
  findings: readonly HistoryFinding[],
  options: HistoryReplayOptions = {},
): ReturnType<ReplayVerifier> => {
  const t = options.timings ?? {};
  const started = performance.now();
  const filter = schemaFilter(undefined, undefined);
  const pass = options.pass ? await options.pass() : undefined;
  const { settings, snapshot: live } = pass ? { settings: pass.settings, snapshot: pass.live } : await (options.live ?? liveCatalogOnce(sql, filter))();
  t.live_ms = performance.now() - started;

  const current = scenario(local, remote);
  const repairable = findings.filter((f) => f.command !== null);
  const combined = repairable.length ? simulate(repairable, local, remote) : null;
  const outcomes = new Map<ReplayScenario, Outcome>();
  // A scenario with the repository's own file order is read off the report's one replay, where it read that prefix.
  const fromPass = (group: readonly ReplayScenario[]) =>
    pass !== undefined && group[0].orderKey === pass.orderKey &&
    group.every((s) => pass.failure !== null || s.comparePrefix === null || pass.snapshots.has(s.comparePrefix));
  const run = async (scenarios: ReplayScenario[]) => {
    const byOrder = new Map<string, ReplayScenario[]>();
    for (const s of scenarios) if (!outcomes.has(s)) byOrder.set(s.orderKey, [...(byOrder.get(s.orderKey) ?? []), s]);
    for (const group of byOrder.values()) {
      const replayed = fromPass(group) ? outcomesOf(group, pass!, live) : await replayGroup(group, settings, live, options);
      for (const [s, outcome] of replayed) outcomes.set(s, outcome);
    }
  };
  await run(combined ? [current, combined] : [current]);
  let verified: HistoryFinding[] = findings.map((f) => f);
  if (combined && outcomes.get(combined)!.status.status === "ok") {
    const v = outcomes.get(combined)!.status;
    verified = findings.map((f) => (f.command !== null ? { ...f, verification: v } : f));
  } else if (combined) {
    const single = new Map(repairable.map((f) => [f, simulate([f], local, remote)]));
    await run([...single.values()].filter((s): s is ReplayScenario => s !== null));
    verified = [];
    // One after the other: each replay has the shadow to itself.
    for (const f of findings) {
      const s = single.get(f);
      const outcome = s ? outcomes.get(s)! : undefined;
      verified.push(
        !outcome ? f : outcome.status.status === "differs" && outcome.comparison && f.kind === "squashed"
          ? await recordingWhatIsLeftLive(f, outcome, local, remote, run, outcomes, options)
          : { ...f, verification: outcome.status },
      );
    }
  }
  t.total_ms = performance.now() - started;
  const dirFlag = dirFlagFor(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  return { replay: outcomes.get(current)!.status, findings: verified.map((f) => squashProven(f, dirFlag)) };
};

interface Outcome {
  status: ReplayStatus;
  /** differs: the comparison with live, to write what live has from. */
  comparison?: Comparison;
}

/**
 * A squash whose replay differs from live only by what live has and no file builds: offered as two
 * steps (write the file recording it, then record the squash with that file) once the replay with
 * that file equals live; otherwise not offered, with the squash's own replay as the reason.
 */
async function recordingWhatIsLeftLive(
  finding: HistoryFinding,
  outcome: Outcome,
  local: readonly LocalMigration[],
  remote: readonly RemoteMigration[],
  run: (scenarios: ReplayScenario[]) => Promise<void>,
  outcomes: ReadonlyMap<ReplayScenario, Outcome>,
  options: HistoryReplayOptions,
): Promise<HistoryFinding> {
  const migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const live = squashLiveDefinitions(finding, outcome.comparison!, local, remote, migrationsDir, options.now ?? new Date());
  if (typeof live === "string") return { ...finding, verification: outcome.status };
  const withFile = simulate([{ ...finding, live_migration: live }], local, remote);
  if (!withFile) return { ...finding, verification: outcome.status };
  await run([withFile]);
  const replayed = outcomes.get(withFile)!.status;
  if (replayed.status !== "ok") return { ...finding, verification: replayed };
  return withLiveDefinitionsStep(finding, live, dirFlagFor(migrationsDir), outcome.status.differences ?? [], {
    ...replayed,
    summary: `${replayed.summary.replace(/\)$/, "")}, once ${live.file} records what the squash leaves out)`,
  });
}

/** One replay for scenarios that share a file order; the catalog is read at each scenario's recorded prefix. */
async function replayGroup(
  group: readonly ReplayScenario[],
  settings: PlatformSettings,
  live: CatalogSnapshot,
  options: HistoryReplayOptions,
): Promise<Map<ReplayScenario, Outcome>> {
  const pass = await replayFiles(group[0].files, group.map((s) => s.comparePrefix).filter((k): k is number => k !== null), settings, live, options);
  return outcomesOf(group, pass, live);
}

/**
 * Replays `files` from zero, in order, on a shadow bootstrapped with the live settings, and reads
 * its catalog (aligned with live's view spelling) after the first k files for each k in `prefixes`.
 * Stops at the first failing file. `clean`: no file failed and no missing extension was stood in
 * for, so each snapshot is also what evidence by definition builds for that prefix.
 */
async function replayFiles(
  files: readonly LocalMigration[],
  prefixes: readonly number[],
  settings: PlatformSettings,
  live: CatalogSnapshot,
  options: HistoryReplayOptions,
): Promise<Pick<ReplayPass, "snapshots" | "failure" | "clean">> {
  const extensions = files.flatMap((m) => m.statements.map(createdExtension).filter((e): e is string => e !== null));
  const wanted = new Set(prefixes);
  // The embedded shadow only: another server's catalog (--shadow-url) is not what the cache keeps.
  const cacheFile = options.openShadow ? null : replayCacheFile(files, settings, extensions);
  const cached = cachedReplay(cacheFile, [...wanted].sort((a, b) => a - b), live);
  if (cached) {
    const f = cached.failure;
    const failure = f ? await failingFile(new ReplayError(files[f.index].path, files[f.index].version, f.statement, f.detail, f.sqlText, f.sqlState, f.position), files, f.index, options) : null;
    return { snapshots: cached.snapshots, clean: failure === null && cached.clean, failure };
  }

  const shadow = await (options.openShadow ?? openEmbeddedShadow)(extensions);
  const snapshots = new Map<number, CatalogSnapshot>();
  const spellings = new Map<number, ViewSpellings>();
  const filter = schemaFilter(undefined, undefined);
  const snapshotAt = async (k: number) => {
    if (!wanted.has(k) || snapshots.has(k)) return;
    const s = await readCatalog(shadow.catalog, filter);
    spellings.set(k, await alignViewSpelling(shadow, s, live));
    snapshots.set(k, s);
  };
  let clean = true;
  try {
    await bootstrapShadow(shadow, settings);
    const roles = missingRoleRepair(shadow, new Set(settings.roles));
    const exts = missingExtensionRepair(shadow, settings.extensions);
    const standIn = async (err: unknown) => {
      const done = await exts(err);
      if (done !== null) clean = false;
      return done;
    };
    await snapshotAt(0);
    for (let i = 0; i < files.length; i++) {
      try {
        await replayMigrations(shadow, [files[i]], { repair: async (err) => (await roles(err)) ?? (await standIn(err)) });
      } catch (err) {
        if (!(err instanceof ReplayError)) throw err;
        const failure = { index: i, statement: err.statement, detail: err.detail, sqlText: err.sqlText, sqlState: err.sqlState, position: err.position };
        writeReplayCache(cacheFile, { snapshots, spellings, failure, clean: false });
        return { snapshots, clean: false, failure: await failingFile(err, files, i, options) };
      }
      await snapshotAt(i + 1);
    }
  } finally {
    await shadow.close().catch(() => {});
  }
  writeReplayCache(cacheFile, { snapshots, spellings, clean });
  return { snapshots, clean, failure: null };
}

/** Each scenario's replay status from one replay of their common file order. */
function outcomesOf(group: readonly ReplayScenario[], pass: Pick<ReplayPass, "snapshots" | "failure">, live: CatalogSnapshot): Map<ReplayScenario, Outcome> {
  const result = new Map<ReplayScenario, Outcome>();
  const files = group[0].files;
  for (const s of group) {
    if (pass.failure) {
      result.set(s, { status: pass.failure });
      continue;
    }
    if (s.comparePrefix === null) {
      const unapplied = s.files.filter((f) => !s.applied.has(f.version)).length;
      result.set(s, {
        status: {
          status: "ok",
          migrations: files.length,
          summary: `ok (${files.length} migrations replay from zero; not compared with live: ${unapplied} of them, older than applied ones, never ran there)`,
        },
      });
      continue;
    }
    const cmp = compareSnapshots(pass.snapshots.get(s.comparePrefix)!, live);
    const differences = cmp.differences.flatMap(describeDefinitionDifference);
    const pending = files.length - s.comparePrefix;
    const tail = pending ? `, ${pending} not applied yet replay after them` : "";
    result.set(s, differences.length
      ? {
        status: {
          status: "differs",
          migrations: files.length,
          summary: `differs from live (${differences.length} difference(s) after the ${s.comparePrefix} applied migrations: ${differences.slice(0, 3).join("; ")}${differences.length > 3 ? "; …" : ""})`,
          differences: differences.slice(0, MAX_DIFFERENCES),
        },
        comparison: cmp,
      }
      : { status: { status: "ok", migrations: files.length, summary: `ok (${files.length} migrations, equals live${tail})` } });
  }
  return result;
}

/**
 * The repository as it is, replayed from zero once per report: the current replay status, and
 * the catalog after the first k files for each k evidence by definition asks for, which
 * db/definition_evidence.ts judges from instead of replaying again when the replay was clean.
 *
 * @example
 * const pass = await replayRepository(sql, local, remote, { prefixes: [90, 91] });
 * pass.status.summary // "ok (91 migrations, equals live)"
 */
export async function replayRepository(
  sql: Sql,
  local: readonly LocalMigration[],
  remote: readonly RemoteMigration[],
  options: HistoryReplayOptions & { prefixes: readonly number[] },
): Promise<ReplayPass> {
  const filter = schemaFilter(undefined, undefined);
  const { settings, snapshot: live } = await (options.live ?? liveCatalogOnce(sql, filter))();
  const current = scenario(local, remote);
  const pass = await replayFiles(current.files, [...options.prefixes, ...(current.comparePrefix === null ? [] : [current.comparePrefix])], settings, live, options);
  const outcome = outcomesOf([current], pass, live).get(current)!;
  return { ...pass, orderKey: current.orderKey, status: outcome.status, comparison: outcome.comparison, live, settings };
}

/** The failure of files[index], its line read with options.readText (else from the path as given). */
async function failingFile(err: ReplayError, files: readonly LocalMigration[], index: number, options: HistoryReplayOptions): Promise<ReplayStatus> {
  const text = options.readText ? await options.readText(files[index].path).catch(() => undefined) : undefined;
  return failureStatus(err, files[index], index, text === undefined ? undefined : () => text);
}

function failureStatus(err: ReplayError, file: LocalMigration, index: number, readText: (path: string) => string = (p) => readFileSync(p, "utf8")): ReplayStatus {
  let line: number | null = null;
  try {
    line = statementLine(readText(file.path), err.statement, err.position);
  } catch {
    // a simulated path (renumbered) or a file that went away: the original path may still be there
  }
  return {
    status: "failed",
    migrations: index,
    summary: `fails at ${file.path}${line ? `:${line}` : ""} (statement ${err.statement}): ${err.detail}`,
    file: file.path,
    line,
  };
}

/**
 * A Supabase project as it starts, before any migration: what a preview branch and
 * `supabase db reset` build on. Its roles, schemas and preinstalled extensions; no
 * live database is read.
 */
export const FRESH_PROJECT: PlatformSettings = {
  current_user: "postgres",
  search_path: '"$user", public, extensions',
  default_privileges: [],
  roles: ["postgres", "anon", "authenticated", "service_role", "authenticator", "supabase_admin", "supabase_auth_admin", "supabase_storage_admin", "dashboard_user"],
  schemas: ["public", "extensions", "graphql", "graphql_public", "vault"],
  extensions: [
    { name: "pg_stat_statements", schema: "extensions" },
    { name: "pgcrypto", schema: "extensions" },
    { name: "uuid-ossp", schema: "extensions" },
    { name: "pg_graphql", schema: "graphql" },
    { name: "supabase_vault", schema: "vault" },
  ],
  supabase: true,
  applied_versions: null,
};

/**
 * Replays `local` from zero, file after file, on a fresh project (FRESH_PROJECT) in the
 * embedded shadow, as a preview branch does; stops at the first failing statement,
 * with its file:line. Nothing is compared with a live database. `readText` reads a
 * migration's file (its path as `local` gives it) to find the failing line.
 *
 * @example (await replayFromZero(parsed.migrations, { readText: (p) => deps.fs.readFile(p, "utf8") })).summary
 * // "fails at supabase/migrations/20240101000000_lines.sql:2 (statement 1): relation \"public.invoices\" does not exist (SQLSTATE 42P01)"
 */
export async function replayFromZero(
  local: readonly LocalMigration[],
  options: { openShadow?: (extensions: string[]) => Promise<Shadow>; readText?: (path: string) => Promise<string> } = {},
): Promise<ReplayStatus> {
  const extensions = local.flatMap((m) => m.statements.map(createdExtension).filter((e): e is string => e !== null));
  const shadow = await (options.openShadow ?? openEmbeddedShadow)(extensions);
  try {
    await bootstrapShadow(shadow, FRESH_PROJECT);
    const roles = missingRoleRepair(shadow, new Set(FRESH_PROJECT.roles));
    const exts = missingExtensionRepair(shadow, FRESH_PROJECT.extensions);
    for (let i = 0; i < local.length; i++) {
      try {
        await replayMigrations(shadow, [local[i]], { repair: async (err) => (await roles(err)) ?? (await exts(err)) });
      } catch (err) {
        if (!(err instanceof ReplayError)) throw err;
        const text = options.readText ? await options.readText(local[i].path).catch(() => undefined) : undefined;
        return failureStatus(err, local[i], i, text === undefined ? undefined : () => text);
      }
    }
  } finally {
    await shadow.close().catch(() => {});
  }
  return { status: "ok", migrations: local.length, summary: `ok (${local.length} migrations replay from zero on a fresh project)` };
}
