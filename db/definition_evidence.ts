/**
 * Evidence by definition, the I/O part: replays the local migrations into the
 * embedded shadow (as schema-diff does), reads both catalogs with the same SQL,
 * and lets shared/definition_evidence.ts compare the objects each local-only
 * migration creates or alters.
 *
 * Replay order: every local migration that is in the history or out of order,
 * by version (what the live database should have been built from); then the
 * pending ones (newer than the newest applied), read separately, so that a
 * migration not yet pushed never makes an older one look different.
 *
 * A migration that fails in the shadow does not stop the others: its verdict is
 * `unknown`, with the error. When it fails because an object it uses exists live
 * but no migration creates it (a table made in the dashboard), that object is
 * copied from the live catalog into the shadow, without the columns the failing
 * migration adds, and the migration is retried.
 */
import { extractTouchedObjects } from "../shared/evidence.ts";
import { evidencePhases, judgeDefinitions } from "../shared/definition_evidence.ts";
import { type CatalogObject, type CatalogSnapshot, quoteIdent, quoteLiteral, schemaFilter } from "../shared/schema_diff.ts";
import type { Evidence, LocalMigration } from "../shared/types.ts";
import { type LiveCatalog, liveCatalogOnce, readCatalog } from "./catalog.ts";
import type { Sql } from "./connect.ts";
import type { ReplayPass } from "./report.ts";
import { bootstrapShadow, createdExtension, missingRoleRepair, openEmbeddedShadow, ReplayError, replayMigrations, type Shadow } from "./shadow.ts";
import { cachedReplay, replayCacheFile, writeReplayCache } from "./shadow/replay_cache.ts";
import { alignViewSpelling, type ViewSpellings } from "./view_spelling.ts";

export interface DefinitionEvidenceOptions {
  now?: Date;
  migrationsDir?: string;
  /** Opens the shadow (default: the embedded PGlite shadow). */
  openShadow?: (extensions: string[]) => Promise<Shadow>;
  /** Wall time of each phase, for the benchmark. */
  timings?: Record<string, number>;
  /** The live catalog, when the report reads it once for every comparison (db/catalog.ts liveCatalogOnce). */
  live?: () => Promise<LiveCatalog>;
  /** The report's replay of the repository from zero (db/history_replay.ts replayRepository), judged from when clean. */
  pass?: () => Promise<ReplayPass>;
}

/**
 * Evidence by definition for each local-only migration, by version.
 *
 * @example
 * const evidence = await collectDefinitionEvidence(sql, local, localOnly, new Set(history.map((r) => r.version)));
 * evidence.get("004")?.verdict // "identical"
 */
export async function collectDefinitionEvidence(
  sql: Sql,
  local: readonly LocalMigration[],
  /** The migrations to judge (local-only ones). */
  localOnly: readonly LocalMigration[],
  /** Versions in the history: the others are local-only, and those newer than the newest of these are pending. */
  remoteVersions: ReadonlySet<string>,
  options: DefinitionEvidenceOptions = {},
): Promise<Map<string, Evidence>> {
  const result = new Map<string, Evidence>();
  if (!localOnly.length) return result;
  const now = options.now ?? new Date();
  const t = options.timings ?? {};
  const started = performance.now();
  const filter = schemaFilter(undefined, undefined);
  const phases = evidencePhases(local, remoteVersions);
  const judged = new Set(localOnly.map((m) => m.version));
  const pendingJudged = phases.pending.some((m) => judged.has(m.version));
  const prefixes = [phases.applied.length, ...(pendingJudged ? [local.length] : [])];
  /** Judges every migration from catalogs a clean replay read (after the applied ones, and after all); false when one is missing. */
  const judgedFrom = (snapshots: ReadonlyMap<number, CatalogSnapshot>, liveSnapshot: CatalogSnapshot) => {
    if (!prefixes.every((k) => snapshots.has(k))) return false;
    for (const [phase, k] of [[phases.applied, phases.applied.length], [phases.pending, local.length]] as const) {
      for (const m of phase) {
        if (judged.has(m.version)) result.set(m.version, judgeDefinitions({ migration: m, shadow: snapshots.get(k)!, live: liveSnapshot, now, migrationsDir: options.migrationsDir }));
      }
    }
    t.total_ms = performance.now() - started;
    return true;
  };

  // The report's one replay of the repository from zero, when it built exactly what this would.
  const pass = options.pass ? await options.pass().catch(() => undefined) : undefined;
  if (pass?.clean && judgedFrom(pass.snapshots, pass.live)) return result;
  const extensions = local.flatMap((m) => m.statements.map(createdExtension).filter((e): e is string => e !== null));
  const live: LiveCatalog = await (options.live ?? liveCatalogOnce(sql, filter))();
  t.live_ms = performance.now() - started;

  // What an earlier clean replay of the same files on the same platform built (db/shadow/replay_cache.ts).
  const cacheFile = options.openShadow ? null : replayCacheFile([...phases.applied, ...phases.pending], live.settings, extensions);
  const cached = cachedReplay(cacheFile, prefixes, live.snapshot, true);
  if (cached && judgedFrom(cached.snapshots, live.snapshot)) return result;

  const judge = (m: LocalMigration, shadow: CatalogSnapshot | null, replayFailure?: string) =>
    result.set(m.version, judgeDefinitions({ migration: m, shadow, live: live.snapshot, replayFailure, now, migrationsDir: options.migrationsDir }));

  let shadow: Shadow;
  try {
    shadow = await (options.openShadow ?? openEmbeddedShadow)(extensions);
  } catch (err) {
    const why = `the embedded shadow (PGlite) could not start here (${(err as Error).message}); run drift-guard check --db-url on a machine with Node`;
    for (const m of localOnly) judge(m, null, why);
    return result;
  }
  t.shadow_start_ms = performance.now() - started;

  try {
    await bootstrapShadow(shadow, live.settings);
    const phaseA = phases.applied;
    const phaseB = phases.pending;
    const failures = new Map<string, string>();
    const liveRoles = new Set(live.settings.roles);
    const liveIndex = new Map(live.snapshot.objects.map((o) => [`${o.kind}:${o.name}`, o]));

    // Clean: every migration ran and nothing was copied from live, so the snapshots depend on the files alone.
    let copiedFromLive = false;
    const replay = async (migrations: readonly LocalMigration[]) => {
      for (const m of migrations) {
        const roles = missingRoleRepair(shadow, liveRoles);
        const seed = liveObjectRepair(shadow, liveIndex, m);
        const copy = async (err: unknown) => {
          const done = await seed(err);
          if (done !== null) copiedFromLive = true;
          return done;
        };
        try {
          await replayMigrations(shadow, [m], { repair: async (err) => (await roles(err)) ?? (await copy(err)) });
        } catch (err) {
          if (!(err instanceof ReplayError)) throw err;
          failures.set(m.version, `statement ${err.statement} failed: ${err.detail}`);
        }
      }
    };
    const snapshots = new Map<number, CatalogSnapshot>();
    const spellings = new Map<number, ViewSpellings>();
    const snapshot = async (k: number) => {
      const s = await readCatalog(shadow.catalog, filter);
      spellings.set(k, await alignViewSpelling(shadow, s, live.snapshot));
      snapshots.set(k, s);
      return s;
    };

    let mark = performance.now();
    await replay(phaseA);
    t.replay_ms = performance.now() - mark;
    mark = performance.now();
    const built = await snapshot(phaseA.length);
    t.shadow_catalog_ms = performance.now() - mark;
    for (const m of phaseA) if (judged.has(m.version)) judge(m, built, failures.get(m.version));
    if (pendingJudged) {
      await replay(phaseB);
      const withPending = await snapshot(local.length);
      for (const m of phaseB) if (judged.has(m.version)) judge(m, withPending, failures.get(m.version));
    }
    if (!failures.size && !copiedFromLive) writeReplayCache(cacheFile, { snapshots, spellings, clean: true });
  } finally {
    await shadow.close().catch(() => {});
  }
  t.total_ms = performance.now() - started;
  return result;
}

const LIVE_SOURCE = "copied from the live database into the shadow (no migration creates it; the migration uses it)";

/**
 * When a migration fails in the shadow because a schema, table, view, type or
 * function it uses does not exist there but does live, creates that object in
 * the shadow from the live catalog, so that the migration replays. A table gets
 * its live columns except those the migration adds (so `add column if not
 * exists` still adds the file's definition); no constraints, defaults,
 * policies or triggers, which the migration may create itself.
 */
export function liveObjectRepair(shadow: Shadow, live: ReadonlyMap<string, CatalogObject>, migration: LocalMigration): (err: unknown) => Promise<string | null> {
  const added = extractTouchedObjects(migration.statements).filter((o) => o.kind === "column" && !o.altered);
  const searchPath = ["public", "extensions"];
  const resolve = (raw: string, kinds: string[]): CatalogObject | undefined => {
    const dot = raw.indexOf(".");
    const names = dot > 0 ? [`${quoteIdent(raw.slice(0, dot))}.${quoteIdent(raw.slice(dot + 1))}`] : searchPath.map((s) => `${quoteIdent(s)}.${quoteIdent(raw)}`);
    for (const n of names) for (const k of kinds) {
      const o = live.get(`${k}:${n}`);
      if (o) return o;
    }
    return undefined;
  };
  const run = async (sql: string, what: string) => {
    try {
      await shadow.exec(sql);
      return `${what} ${LIVE_SOURCE}`;
    } catch {
      return null;
    }
  };

  return async (err) => {
    const e = err as { code?: string; message?: string };
    const message = e?.message ?? "";
    const name = /"((?:[^"]|"")+)"/.exec(message)?.[1]?.replace(/""/g, '"');
    switch (e?.code) {
      case "3F000": {
        if (!name || !live.has(`schema:${quoteIdent(name)}`)) return null;
        return await run(`create schema if not exists ${quoteIdent(name)}`, `schema ${name}`);
      }
      case "42P01": {
        if (!name) return null;
        const rel = resolve(name, ["table", "view"]);
        if (!rel) return null;
        if (rel.kind === "view") return await run(`create view ${rel.name} as ${String(rel.props.definition).trim().replace(/;+$/, "")}`, `view ${rel.name}`);
        const [schema] = rel.name.split(".");
        const skip = new Set(added.map((o) => `${quoteIdent(o.schema)}.${quoteIdent(o.table ?? "")}.${quoteIdent(o.name)}`));
        const columns = [...live.values()]
          .filter((c) => c.kind === "column" && c.parent === `table:${rel.name}` && !skip.has(c.name))
          .sort((a, b) => Number(a.info?.position) - Number(b.info?.position))
          .map((c) => `${c.info?.column} ${c.props.type}${c.props.not_null ? " not null" : ""}`);
        return await run(`create schema if not exists ${schema}; create table ${rel.name} (${columns.join(", ")})`, `table ${rel.name}`);
      }
      case "42704": {
        const type = name ? resolve(name, ["enum", "domain"]) : undefined;
        if (!type) return null;
        if (type.kind === "enum") {
          return await run(`create type ${type.name} as enum (${(type.props.labels as string[]).map(quoteLiteral).join(", ")})`, `type ${type.name}`);
        }
        return await run(`create domain ${type.name} as ${type.props.base}`, `domain ${type.name}`);
      }
      case "42883": {
        const fn = /function ([^\s(]+)\(/.exec(message)?.[1];
        if (!fn) return null;
        const prefix = fn.includes(".") ? fn : `public.${fn}`;
        const candidates = [...live.values()].filter((o) => o.kind === "function" && o.name.startsWith(`${prefix}(`) && typeof o.info?.definition === "string");
        if (candidates.length !== 1) return null;
        return await run(`set check_function_bodies = off; ${candidates[0].info!.definition}; reset check_function_bodies`, `function ${candidates[0].name}`);
      }
    }
    return null;
  };
}
