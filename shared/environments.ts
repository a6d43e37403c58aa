/**
 * Several environments (production, staging, dev, preview branches) checked together:
 * which target a name means, one report over all of them, the version-by-environment
 * matrix, and the findings that no single target shows. Pure: the environment
 * variables and config.toml's remotes are passed in; the CLI reads them.
 */
import { compareVersions } from "./drift.ts";
import type { DriftState, Report } from "./types.ts";
import { DRIFT_STATES, DriftGuardError, ERROR_CODES, EXIT, isErrorCode } from "./types.ts";

export type TargetKind = "database" | "function";

/** What `--fail-on` and `--fail-on-target` can name: the drift states, and `untracked` for DDL outside any migration. */
export const FAIL_ON_STATES: readonly string[] = [...DRIFT_STATES.filter((s) => s !== "in_sync"), "untracked"];

/** A target name: a letter, then letters, digits, `_` or `-` (it becomes part of an environment variable's name). */
const TARGET_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/** The name `--all-targets` gives the database in SUPABASE_DB_URL (or the function in DRIFT_GUARD_URL). */
export const PRODUCTION = "production";

/** `--target NAME=URL` or `--target NAME`, as typed. */
export interface TargetSpec {
  name: string;
  url?: string;
}

/** A target with its URL (and, for a function, its token), ready to check. */
export interface ResolvedTarget {
  name: string;
  kind: TargetKind;
  url: string;
  token?: string;
  /** Where the URL came from, for messages and suggested commands: an environment variable's name, or `--target`. Never the URL. */
  source: string;
  /** Where the token came from (function targets). */
  tokenSource?: string;
}

/** A `[remotes.<name>]` table of supabase/config.toml. */
export interface RemoteConfig {
  name: string;
  project_id?: string;
}

/**
 * A name as it appears in an environment variable: upper case, `-` as `_`.
 *
 * @example envSuffix("preview-42") // "PREVIEW_42"
 */
export function envSuffix(name: string): string {
  return name.toUpperCase().replace(/-/g, "_");
}

/**
 * The environment variables a named target reads.
 *
 * @example targetEnvNames("staging").dbUrl // "DRIFT_GUARD_DB_URL_STAGING"
 */
export function targetEnvNames(name: string): { dbUrl: string; url: string; token: string } {
  const s = envSuffix(name);
  return { dbUrl: `DRIFT_GUARD_DB_URL_${s}`, url: `DRIFT_GUARD_URL_${s}`, token: `DRIFT_GUARD_TOKEN_${s}` };
}

/** A name fit to quote in a message: what was typed, unless it may hold a URL or a password. */
function shown(name: string): string {
  return /^[\w .-]{1,64}$/.test(name) ? JSON.stringify(name) : "(not shown: it looks like a URL or holds characters a name cannot)";
}

/** Throws a usage error unless `name` is a valid target name. */
export function checkTargetName(name: string, where: string): void {
  if (!TARGET_NAME.test(name)) {
    throw new DriftGuardError(
      "usage",
      `${where}: ${shown(name)} is not a valid target name`,
      "a name starts with a letter and has only letters, digits, _ and - (it becomes part of an environment variable), e.g. --target staging=postgresql://…",
    );
  }
}

/**
 * Parses one `--target` value. The URL is never put in an error message.
 *
 * @example parseTargetSpec("staging=postgresql://u:p@h/db") // { name: "staging", url: "postgresql://u:p@h/db" }
 * @example parseTargetSpec("dev") // { name: "dev" }
 */
export function parseTargetSpec(spec: string): TargetSpec {
  const at = spec.indexOf("=");
  const name = at < 0 ? spec : spec.slice(0, at);
  if (at < 0 && /:\/\//.test(spec)) {
    throw new DriftGuardError("usage", "--target takes NAME=URL (or NAME alone); this one has a URL and no name", "e.g. --target production=postgresql://…");
  }
  checkTargetName(name, "--target");
  const url = at < 0 ? undefined : spec.slice(at + 1);
  if (url === "") throw new DriftGuardError("usage", `--target ${name}= has an empty URL`, `give NAME=URL, or NAME alone to read ${targetEnvNames(name).dbUrl}`);
  return url === undefined ? { name } : { name, url };
}

/**
 * Parses one `--fail-on-target NAME=STATE,…` value.
 *
 * @example parseFailOnTarget("production=remote_only,edited") // { name: "production", states: ["remote_only", "edited"] }
 */
export function parseFailOnTarget(spec: string): { name: string; states: string[] } {
  const at = spec.indexOf("=");
  if (at < 0) throw new DriftGuardError("usage", `--fail-on-target takes NAME=STATE,… (e.g. production=remote_only,edited); got ${shown(spec)}`);
  const name = spec.slice(0, at);
  checkTargetName(name, "--fail-on-target");
  const states = spec.slice(at + 1).split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = states.filter((s) => !FAIL_ON_STATES.includes(s));
  if (states.length === 0 || unknown.length) {
    throw new DriftGuardError("usage", `--fail-on-target ${name}: expected drift states from ${FAIL_ON_STATES.join(", ")}${unknown.length ? `, not ${unknown.map(shown).join(", ")}` : ""}`);
  }
  return { name, states };
}

/** Database or function, by the URL's scheme. */
function kindOf(url: string, name: string, source: string): TargetKind {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") return "database";
  if (scheme === "https" || scheme === "http") return "function";
  throw new DriftGuardError("usage", `target ${JSON.stringify(name)}: the URL in ${source} is neither a database URL (postgresql://…) nor a function URL (https://…)`);
}

const present = (v: string | undefined): v is string => v !== undefined && v !== "";

export interface ResolveInput {
  specs: readonly TargetSpec[];
  /** `--all-targets`: every remote, plus production when SUPABASE_DB_URL (or DRIFT_GUARD_URL) is set. */
  allTargets: boolean;
  remotes: readonly RemoteConfig[];
  env: Readonly<Record<string, string | undefined>>;
  /** `--token`, the function token for targets without DRIFT_GUARD_TOKEN_<NAME>. */
  token?: string;
}

/**
 * Every target to check, each with its URL: `--target NAME=URL` as typed; a bare
 * name from DRIFT_GUARD_DB_URL_<NAME>, else DRIFT_GUARD_URL_<NAME> (a function,
 * whose token is DRIFT_GUARD_TOKEN_<NAME>, else --token); `production` also from
 * SUPABASE_DB_URL, else DRIFT_GUARD_URL and DRIFT_GUARD_TOKEN. Names given twice, or
 * two names that share their variables (`my-db`, `my_db`), are an error; so is any
 * target without a URL, and the error lists every variable to set.
 *
 * @example
 * resolveTargets({ specs: [{ name: "staging" }], allTargets: false, remotes: [], env: { DRIFT_GUARD_DB_URL_STAGING: "postgresql://…" } })
 * // => [{ name: "staging", kind: "database", url: "postgresql://…", source: "DRIFT_GUARD_DB_URL_STAGING" }]
 */
export function resolveTargets(input: ResolveInput): ResolvedTarget[] {
  const bySuffix = new Map<string, string>();
  for (const spec of input.specs) {
    const other = bySuffix.get(envSuffix(spec.name));
    if (other !== undefined) {
      throw new DriftGuardError(
        "usage",
        other === spec.name ? `--target ${spec.name} is given twice` : `--target ${other} and --target ${spec.name} are the same target (both read ${targetEnvNames(spec.name).dbUrl})`,
        "name each target once",
      );
    }
    bySuffix.set(envSuffix(spec.name), spec.name);
  }
  const wanted: TargetSpec[] = [...input.specs];
  if (input.allTargets) {
    const env = input.env;
    const extra = [...input.remotes.map((r) => r.name)];
    const prod = targetEnvNames(PRODUCTION);
    if (present(env.SUPABASE_DB_URL) || present(env.DRIFT_GUARD_URL) || present(env[prod.dbUrl]) || present(env[prod.url])) extra.push(PRODUCTION);
    for (const name of extra) {
      checkTargetName(name, "supabase/config.toml [remotes.<name>]");
      if (!bySuffix.has(envSuffix(name))) {
        bySuffix.set(envSuffix(name), name);
        wanted.push({ name });
      }
    }
  }
  if (wanted.length === 0) {
    throw new DriftGuardError(
      "usage",
      "--all-targets found no target: supabase/config.toml has no [remotes.<name>] table, and SUPABASE_DB_URL is not set",
      "add [remotes.staging] with project_id to supabase/config.toml and set DRIFT_GUARD_DB_URL_STAGING, or pass --target NAME=URL",
    );
  }
  const missing: string[] = [];
  const resolved: ResolvedTarget[] = [];
  for (const spec of wanted) {
    const target = resolveOne(spec, input);
    if (typeof target === "string") missing.push(target);
    else resolved.push(target);
  }
  if (missing.length) {
    throw new DriftGuardError("usage", missing.join("; "), "set the variable (a repository secret in CI), or pass --target NAME=URL; URLs and tokens are never printed");
  }
  return resolved;
}

/** The target, or the sentence saying which variable to set. */
function resolveOne(spec: TargetSpec, input: ResolveInput): ResolvedTarget | string {
  const env = input.env;
  const names = targetEnvNames(spec.name);
  const isProduction = envSuffix(spec.name) === envSuffix(PRODUCTION);
  let url: string | undefined;
  let source = "";
  const candidates: Array<[string, string | undefined]> = spec.url !== undefined
    ? [[`--target ${spec.name}=…`, spec.url]]
    : [[names.dbUrl, env[names.dbUrl]], [names.url, env[names.url]], ...(isProduction ? [["SUPABASE_DB_URL", env.SUPABASE_DB_URL], ["DRIFT_GUARD_URL", env.DRIFT_GUARD_URL]] as Array<[string, string | undefined]> : [])];
  for (const [from, value] of candidates) {
    if (present(value)) {
      url = value;
      source = from;
      break;
    }
  }
  if (url === undefined) {
    return `target ${JSON.stringify(spec.name)} has no URL: set ${names.dbUrl} (a database URL) or ${names.url} (its migration-drift function, with ${names.token})${isProduction ? ", or SUPABASE_DB_URL" : ""}`;
  }
  const kind = kindOf(url, spec.name, source);
  if (kind === "database") return { name: spec.name, kind, url, source };
  const tokens: Array<[string, string | undefined]> = [[names.token, env[names.token]], ["--token", input.token], ...(isProduction ? [["DRIFT_GUARD_TOKEN", env.DRIFT_GUARD_TOKEN]] as Array<[string, string | undefined]> : [])];
  const token = tokens.find(([, v]) => present(v));
  if (!token) return `target ${JSON.stringify(spec.name)} is a function and has no token: set ${names.token}, or pass --token`;
  return { name: spec.name, kind, url, source, token: token[1], tokenSource: token[0] };
}

/**
 * Replaces a target's URL, its host and its token wherever a message quotes them:
 * output names the variable they came from instead.
 *
 * @example redactTarget("cannot reach the database at db.x.co:5432/postgres", target) // "cannot reach the database at (the URL in DRIFT_GUARD_DB_URL_STAGING)"
 */
export function redactTarget(text: string, target: Pick<ResolvedTarget, "url" | "token" | "source">): string {
  const secrets: string[] = [target.url, target.token ?? ""];
  try {
    const u = new URL(target.url);
    secrets.push(decodeURIComponent(u.password), u.password, `${u.hostname}:${u.port || "5432"}${u.pathname || "/postgres"}`, u.host, u.hostname);
  } catch {
    // Not a URL: only the whole string can be recognised.
  }
  let out = text;
  for (const s of secrets.filter((x) => x.length >= 3).sort((a, b) => b.length - a.length)) out = out.split(s).join(`(the URL in ${target.source})`);
  return out;
}

/** A version's state on one target: a drift state, `absent` (that target neither has the file's version nor a row), `unknown` (not reached). */
export type CellState = DriftState | "absent" | "unknown";

/** One target of the combined report: its usual report, or why it could not be checked. */
export type TargetEntry =
  & { name: string; kind: TargetKind; source: string; token_source?: string }
  & (
    | (Report & { manifest_digest?: string; fail_on: string[] | null; fails: boolean })
    | { status: "error"; error: { code: string; message: string; hint?: string }; fails: true }
  );

export interface VersionRow {
  version: string;
  name: string;
  states: Record<string, CellState>;
}

/** What only a comparison of environments shows. */
export interface CrossFinding {
  kind: "not_applied" | "hotfix" | "content_differs";
  version: string;
  name: string;
  /** not_applied: where it is recorded; hotfix: where the row is; content_differs: every target with a row. */
  on: string[];
  /** not_applied and hotfix: the reached targets without it. */
  missing_on?: string[];
  /** not_applied: the repository's file. */
  file?: string;
  /** content_differs: each distinct checksum and the targets that recorded it. */
  checksums?: Array<{ checksum: string; targets: string[]; matches_file: boolean }>;
  explain: string;
}

export interface EnvironmentsReport {
  /** drift: some target drifts; incomplete: none drifts but one could not be checked; in_sync: every target is in sync. */
  status: "in_sync" | "drift" | "incomplete";
  targets: TargetEntry[];
  /** Every version any reached target knows, with its state on each target. */
  versions: VersionRow[];
  /** Versions in sync on every target that was reached (the rows the matrix collapses). */
  in_sync_everywhere: number;
  findings: CrossFinding[];
}

/** The outcome of checking one target, before it is combined. */
export type TargetOutcome =
  & Pick<ResolvedTarget, "name" | "kind" | "source" | "tokenSource">
  & ({ report: Report & { manifest_digest?: string } } | { error: { code: string; message: string; hint?: string } });

const RECORDED: ReadonlySet<string> = new Set(["in_sync", "edited", "renamed"]);

/**
 * The states that drifted in a report: its migrations' states but in_sync, and
 * `untracked` when the ledger saw DDL outside migrations.
 *
 * @example driftedStates(reportWithOnePending) // ["pending"]
 */
export function driftedStates(report: { migrations?: ReadonlyArray<{ state: string }>; untracked_changes?: ReadonlyArray<unknown> }): string[] {
  const drifted = new Set((report.migrations ?? []).map((m) => m.state).filter((s) => s !== "in_sync"));
  if (report.untracked_changes?.length) drifted.add("untracked");
  return [...drifted];
}

/**
 * Combines the targets' reports into one: each target's report with whether it fails
 * under its `--fail-on` (a `--fail-on-target NAME=…` entry, else `failOn`, else every
 * drift state), the version-by-environment states, and the cross-environment findings.
 *
 * @example
 * combineEnvironments([{ name: "production", kind: "database", source: "SUPABASE_DB_URL", report }], {})
 * // => { status: "in_sync", targets: [...], versions: [...], in_sync_everywhere: 3, findings: [] }
 */
export function combineEnvironments(
  outcomes: readonly TargetOutcome[],
  policy: { failOn?: readonly string[]; failOnTarget?: Readonly<Record<string, readonly string[]>> },
): EnvironmentsReport {
  const targets: TargetEntry[] = outcomes.map((o) => {
    const base = { name: o.name, kind: o.kind, source: o.source, ...(o.tokenSource ? { token_source: o.tokenSource } : {}) };
    if ("error" in o) return { ...base, status: "error", error: o.error, fails: true };
    const failOn = policy.failOnTarget?.[o.name] ?? policy.failOn ?? null;
    const drifted = driftedStates(o.report);
    const fails = o.report.status === "drift" && (failOn === null || drifted.some((s) => failOn.includes(s)));
    return { ...base, ...o.report, fail_on: failOn ? [...failOn] : null, fails };
  });
  const reached = outcomes.filter((o): o is Extract<TargetOutcome, { report: unknown }> => "report" in o);
  const versions = versionRows(outcomes);
  const inSyncEverywhere = versions.filter((v) => reached.every((t) => v.states[t.name] === "in_sync")).length;
  const status = reached.some((o) => o.report.status === "drift") ? "drift" : reached.length < outcomes.length ? "incomplete" : "in_sync";
  return { status, targets, versions, in_sync_everywhere: inSyncEverywhere, findings: crossFindings(reached, versions) };
}

function versionRows(outcomes: readonly TargetOutcome[]): VersionRow[] {
  const rows = new Map<string, VersionRow>();
  for (const o of outcomes) {
    if (!("report" in o)) continue;
    for (const m of o.report.migrations) {
      const row = rows.get(m.version) ?? { version: m.version, name: m.name, states: {} };
      if (m.local) row.name = m.name;
      row.states[o.name] = m.state;
      rows.set(m.version, row);
    }
  }
  const sorted = [...rows.values()].sort((a, b) => compareVersions(a.version, b.version));
  for (const row of sorted) {
    const states: Record<string, CellState> = {};
    for (const o of outcomes) states[o.name] = "error" in o ? "unknown" : row.states[o.name] ?? "absent";
    row.states = states;
  }
  return sorted;
}

const list = (names: readonly string[]) => names.join(", ");

function crossFindings(reached: ReadonlyArray<Extract<TargetOutcome, { report: unknown }>>, versions: readonly VersionRow[]): CrossFinding[] {
  if (reached.length < 2) return [];
  const findings: CrossFinding[] = [];
  const entry = (target: string, version: string) => reached.find((t) => t.name === target)!.report.migrations.find((m) => m.version === version);
  for (const row of versions) {
    const names = reached.map((t) => t.name);
    const state = (n: string) => row.states[n];
    const recorded = names.filter((n) => RECORDED.has(state(n)));
    const notApplied = names.filter((n) => state(n) === "pending" || state(n) === "out_of_order");
    if (recorded.length && notApplied.length) {
      const file = entry(notApplied[0], row.version)?.local?.path;
      findings.push({
        kind: "not_applied",
        version: row.version,
        name: row.name,
        on: recorded,
        missing_on: notApplied,
        ...(file ? { file } : {}),
        explain: `applied on ${list(recorded)} but not on ${list(notApplied)}${file ? `; its file is ${file}` : ""}`,
      });
    }
    const hotfixOn = names.filter((n) => state(n) === "remote_only");
    const without = names.filter((n) => state(n) === "absent");
    if (hotfixOn.length && without.length) {
      findings.push({
        kind: "hotfix",
        version: row.version,
        name: row.name,
        on: hotfixOn,
        missing_on: without,
        explain: `applied on ${list(hotfixOn)} only, and no file in the repository has it (a hotfix nobody committed): fetch it from ${hotfixOn[0]} and commit it, or ${list(without)} will never get it`,
      });
    }
    const sums = new Map<string, string[]>();
    let fileSum: string | undefined;
    for (const n of names) {
      const m = entry(n, row.version);
      if (m?.local) fileSum = m.local.checksum;
      const sum = m?.remote?.checksum;
      if (sum) sums.set(sum, [...(sums.get(sum) ?? []), n]);
    }
    if (sums.size > 1) {
      const checksums = [...sums].map(([checksum, targets]) => ({ checksum, targets, matches_file: checksum === fileSum }));
      findings.push({
        kind: "content_differs",
        version: row.version,
        name: row.name,
        on: checksums.flatMap((c) => c.targets),
        checksums,
        explain: `recorded with different content: ${checksums.map((c) => `${list(c.targets)} ${c.checksum.slice(0, 19)}…${c.matches_file ? " (as the file)" : ""}`).join(" vs ")}`,
      });
    }
  }
  return findings;
}

/**
 * The run's exit code: 2 when the migration files have errors (every target reads the
 * same files), else the first unchecked target's (3 when it could not be reached or
 * authenticated to), else 1 when a target fails
 * under its --fail-on, else 0.
 *
 * @example environmentsExitCode(reportWhereStagingIsUnreachable) // 3
 */
export function environmentsExitCode(report: EnvironmentsReport): number {
  const reports = report.targets.filter((t): t is Extract<TargetEntry, { problems: unknown }> => t.status !== "error");
  if (reports.some((t) => t.problems.some((p) => p.level === "error"))) return EXIT.usage;
  const failed = report.targets.find((t): t is Extract<TargetEntry, { error: unknown }> => t.status === "error");
  if (failed) return isErrorCode(failed.error.code) ? ERROR_CODES[failed.error.code].exit : EXIT.unreachable;
  if (report.targets.some((t) => t.fails)) return EXIT.drift;
  return EXIT.ok;
}
