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
import { type ReplayScenario, scenario, simulate } from "../shared/history_verification.ts";
import { type CatalogSnapshot, compareSnapshots, schemaFilter } from "../shared/schema_diff.ts";
import { statementLine } from "../shared/sql_statements.ts";
import type { HistoryFinding, LocalMigration, RemoteMigration, ReplayStatus } from "../shared/types.ts";
import { type PlatformSettings, postgresCatalog, readCatalog, readPlatformSettings } from "./catalog.ts";
import type { Sql } from "./connect.ts";
import type { ReplayVerifier, ReplayVerifierOptions } from "./report.ts";
import { bootstrapShadow, createdExtension, missingExtensionRepair, missingRoleRepair, openEmbeddedShadow, ReplayError, replayMigrations, type Shadow } from "./shadow.ts";
import { alignViewSpelling } from "./view_spelling.ts";

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
  const conn = postgresCatalog(sql);
  const settings = await readPlatformSettings(conn);
  const live = await readCatalog(conn, filter);
  t.live_ms = performance.now() - started;

  const current = scenario(local, remote);
  const repairable = findings.filter((f) => f.command !== null);
  const combined = repairable.length ? simulate(repairable, local, remote) : null;
  const outcomes = new Map<ReplayScenario, ReplayStatus>();
  const run = async (scenarios: ReplayScenario[]) => {
    const byOrder = new Map<string, ReplayScenario[]>();
    for (const s of scenarios) if (!outcomes.has(s)) byOrder.set(s.orderKey, [...(byOrder.get(s.orderKey) ?? []), s]);
    for (const group of byOrder.values()) {
      for (const [s, status] of await replayGroup(group, settings, live, options)) outcomes.set(s, status);
    }
  };
  await run(combined ? [current, combined] : [current]);
  let verified: HistoryFinding[] = findings.map((f) => f);
  if (combined && outcomes.get(combined)!.status === "ok") {
    const v = outcomes.get(combined)!;
    verified = findings.map((f) => (f.command !== null ? { ...f, verification: v } : f));
  } else if (combined) {
    const single = new Map(repairable.map((f) => [f, simulate([f], local, remote)]));
    await run([...single.values()].filter((s): s is ReplayScenario => s !== null));
    verified = findings.map((f) => {
      const s = single.get(f);
      return s ? { ...f, verification: outcomes.get(s)! } : f;
    });
  }
  t.total_ms = performance.now() - started;
  return { replay: outcomes.get(current)!, findings: verified };
};

/** One replay for scenarios that share a file order; the catalog is read at each scenario's recorded prefix. */
async function replayGroup(
  group: readonly ReplayScenario[],
  settings: PlatformSettings,
  live: CatalogSnapshot,
  options: HistoryReplayOptions,
): Promise<Map<ReplayScenario, ReplayStatus>> {
  const files = group[0].files;
  const extensions = files.flatMap((m) => m.statements.map(createdExtension).filter((e): e is string => e !== null));
  const shadow = await (options.openShadow ?? openEmbeddedShadow)(extensions);
  const result = new Map<ReplayScenario, ReplayStatus>();
  const snapshots = new Map<number, CatalogSnapshot>();
  const wanted = new Set(group.map((s) => s.comparePrefix).filter((k): k is number => k !== null));
  const filter = schemaFilter(undefined, undefined);
  const snapshotAt = async (k: number) => {
    if (!wanted.has(k) || snapshots.has(k)) return;
    const s = await readCatalog(shadow.catalog, filter);
    await alignViewSpelling(shadow, s, live);
    snapshots.set(k, s);
  };
  try {
    await bootstrapShadow(shadow, settings);
    const roles = missingRoleRepair(shadow, new Set(settings.roles));
    const exts = missingExtensionRepair(shadow, settings.extensions);
    await snapshotAt(0);
    for (let i = 0; i < files.length; i++) {
      try {
        await replayMigrations(shadow, [files[i]], { repair: async (err) => (await roles(err)) ?? (await exts(err)) });
      } catch (err) {
        if (!(err instanceof ReplayError)) throw err;
        const failure = failureStatus(err, files[i], i);
        for (const s of group) result.set(s, failure);
        return result;
      }
      await snapshotAt(i + 1);
    }
  } finally {
    await shadow.close().catch(() => {});
  }
  for (const s of group) {
    if (s.comparePrefix === null) {
      const unapplied = s.files.filter((f) => !s.applied.has(f.version)).length;
      result.set(s, {
        status: "ok",
        migrations: files.length,
        summary: `ok (${files.length} migrations replay from zero; not compared with live: ${unapplied} of them, older than applied ones, never ran there)`,
      });
      continue;
    }
    const cmp = compareSnapshots(snapshots.get(s.comparePrefix)!, live);
    const differences = cmp.differences.flatMap(describeDefinitionDifference);
    const pending = files.length - s.comparePrefix;
    const tail = pending ? `, ${pending} not applied yet replay after them` : "";
    result.set(s, differences.length
      ? {
        status: "differs",
        migrations: files.length,
        summary: `differs from live (${differences.length} difference(s) after the ${s.comparePrefix} applied migrations: ${differences.slice(0, 3).join("; ")}${differences.length > 3 ? "; …" : ""})`,
        differences: differences.slice(0, MAX_DIFFERENCES),
      }
      : { status: "ok", migrations: files.length, summary: `ok (${files.length} migrations, equals live${tail})` });
  }
  return result;
}

function failureStatus(err: ReplayError, file: LocalMigration, index: number): ReplayStatus {
  let line: number | null = null;
  try {
    line = statementLine(readFileSync(file.path, "utf8"), err.statement, err.position);
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
