/** Local migrations + history rows -> the drift report. Reads like the contract's table of states. */
import { shellArg } from "./shell_arg.ts";
import { compareCodePoints, historyDigest, statementsChecksum } from "./checksum.ts";
import type {
  Action,
  DriftState,
  Evidence,
  HistoryFinding,
  LocalMigration,
  MigrationEntry,
  Problem,
  RemoteMigration,
  Report,
  Summary,
  UntrackedChange,
} from "./types.ts";
import { DRIFT_STATES } from "./types.ts";
import { matchHistory } from "./history_matching.ts";

export interface DriftInput {
  local: readonly LocalMigration[];
  /** null when the database has no history table yet: everything local is pending. */
  remote: readonly RemoteMigration[] | null;
  problems?: readonly Problem[];
  /** Catalog evidence for local-only migrations, by version. */
  evidence?: ReadonlyMap<string, Evidence>;
  /** Shown in suggested commands when it is not the default. */
  migrationsDir?: string;
  /** Untracked DDL from the ledger (db/ledger.ts): drift until acknowledged. */
  untracked?: readonly UntrackedChange[];
  /**
   * The history digest as the database computes it (drift_guard.history_digest()). Needed
   * when local migrations carry statementsHash: the matching rows' statements were never read.
   */
  historyDigest?: string;
  /** How printed commands rename a file: `git mv` (default) or `mv` when the project is no git repository. */
  fileMove?: "git mv" | "mv" | ((path: string) => "git mv" | "mv");
}

export const DEFAULT_MIGRATIONS_DIR = "supabase/migrations";

/**
 * Versions compare as strings, as `supabase db push` compares them when it
 * decides whether a local file is pending or out of order.
 */
export const compareVersions = compareCodePoints;

/** The checksum of a row's statements; identical statements share the local file's checksum without a rescan. */
function remoteChecksum(remote: RemoteMigration, local: LocalMigration | undefined): string | null {
  if (remote.statements === null) return null;
  const same = local !== undefined && (local.statements === remote.statements ||
    (local.statements.length === remote.statements.length && local.statements.every((s, i) => s === remote.statements![i])));
  return same ? local.checksum : statementsChecksum(remote.statements);
}

function classify(local: LocalMigration | undefined, remote: RemoteMigration | undefined, remoteSum: string | null, newestRemote: string | undefined): DriftState {
  if (local && remote) {
    const sameName = local.name === (remote.name ?? "");
    // A row without statements cannot be content-checked: names decide, and a tool that
    // recorded only the version recorded no name to disagree with.
    if (remoteSum === null) return sameName || remote.name === null ? "in_sync" : "renamed";
    if (remoteSum !== local.checksum) return "edited";
    return sameName ? "in_sync" : "renamed";
  }
  if (local) {
    return newestRemote !== undefined && compareVersions(local.version, newestRemote) < 0 ? "out_of_order" : "pending";
  }
  return "remote_only";
}

export function computeDrift(input: DriftInput): Report {
  const remoteRows = input.remote ?? [];
  const localBy = new Map(input.local.map((m) => [m.version, m]));
  const remoteBy = new Map(remoteRows.map((r) => [r.version, r]));
  const versions = [...new Set([...localBy.keys(), ...remoteBy.keys()])].sort(compareVersions);
  const newestRemote = remoteRows.length ? remoteRows.map((r) => r.version).sort(compareVersions).at(-1) : undefined;

  const problems: Problem[] = [...(input.problems ?? [])];
  const summary = Object.fromEntries(DRIFT_STATES.map((s) => [s, 0])) as Summary;
  const migrations: MigrationEntry[] = versions.map((version) => {
    const local = localBy.get(version);
    const remote = remoteBy.get(version);
    const remoteSum = remote ? remoteChecksum(remote, local) : null;
    const state = classify(local, remote, remoteSum, newestRemote);
    summary[state] += 1;
    if (local && remote && remote.statements === null) {
      problems.push({
        level: "warning",
        file: local.path,
        message: `history row ${version} has no statements (some tools record only the version), so its content was not checked`,
      });
    }
    const evidence = local && !remote ? input.evidence?.get(version) : undefined;
    return {
      version,
      name: local?.name ?? remote?.name ?? "",
      state,
      local: local ? { path: local.path, checksum: local.checksum } : null,
      remote: remote
        ? { name: remote.name ?? "", checksum: remoteSum }
        : null,
      ...(evidence ? { evidence } : {}),
    };
  });

  const untracked = [...(input.untracked ?? [])];
  const migrationsDir = input.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  // Whole-history findings first: the versions they cover get no per-version advice, which would contradict them.
  const match = input.remote
    ? matchHistory({ local: input.local, remote: remoteRows, evidence: input.evidence, migrationsDir, dirFlag: dirFlagFor(migrationsDir), fileMove: input.fileMove })
    : { findings: [], covered: new Set<string>() };
  const actions = [...findingActions(match.findings), ...suggestActions(migrations.filter((m) => !match.covered.has(m.version)), migrationsDir)];
  if (untracked.length) actions.push(reviewUntracked(untracked));
  return {
    status: migrations.every((m) => m.state === "in_sync") && untracked.length === 0 ? "in_sync" : "drift",
    summary,
    history_digest: input.historyDigest ?? historyDigest(remoteRows),
    migrations,
    actions,
    problems,
    untracked_changes: untracked,
    findings: match.findings,
  };
}

/** The action kind each repairable finding is listed under in `actions`. */
const FINDING_ACTION = { moved: "move_history", squashed: "record_squash", renumber: "renumber_file" } as const;
/** A finding whose repair could not be verified here points at the check that verifies it. */
const UNVERIFIED_FINDING_ACTION = "verify_replay";

/**
 * The report with these findings, and their actions in place of the old findings' actions.
 * @example withFindings(report, verified).actions[0].kind // "move_history"
 */
export function withFindings(report: Report, findings: HistoryFinding[]): Report {
  const kinds = new Set<string>([...Object.values(FINDING_ACTION), UNVERIFIED_FINDING_ACTION]);
  return { ...report, findings, actions: [...findingActions(findings), ...report.actions.filter((a) => !kinds.has(a.kind))] };
}

/** Findings that carry a repair, as actions (the same explain and command); one not verified here points at the check that verifies it. */
export function findingActions(findings: readonly HistoryFinding[]): Action[] {
  return findings.flatMap((f) =>
    f.command !== null && f.kind !== "ambiguous"
      ? [{ kind: f.verification?.status === "skipped" ? UNVERIFIED_FINDING_ACTION : FINDING_ACTION[f.kind], versions: [...f.versions], explain: f.explain, command: f.command }]
      : []
  );
}

/**
 * The flag a printed command carries for a non-default migrations directory.
 * @example dirFlagFor("db/migrations") // " --migrations db/migrations"
 */
export function dirFlagFor(migrationsDir: string): string {
  return migrationsDir === DEFAULT_MIGRATIONS_DIR ? "" : ` --migrations ${shellArg(migrationsDir)}`;
}

/** Untracked DDL: put it in a migration (or find the one that made it) and acknowledge it. */
function reviewUntracked(untracked: readonly UntrackedChange[]): Action {
  const ids = untracked.flatMap((g) => g.changes.map((c) => c.id)).sort((a, b) => Number(a) - Number(b));
  return {
    kind: "ledger_ack",
    versions: [],
    explain:
      `${ids.length} schema change(s) on ${untracked.length} object(s) ran outside any migration. Make sure a migration in the ` +
      `repository does the same (or \`drift-guard repair --mark-applied\` the one that does, which links them), then acknowledge them.`,
    command: `drift-guard ledger ack --id ${ids.slice(0, 20).join(" ")}${ids.length > 20 ? " …" : ""} --reason "<why>"`,
  };
}


/** The fix for each kind of drift, with the exact command. Never suggests deleting history blindly. */
export function suggestActions(migrations: readonly MigrationEntry[], migrationsDir: string): Action[] {
  const dirFlag = dirFlagFor(migrationsDir);
  const of = (state: DriftState) => migrations.filter((m) => m.state === state);
  const list = (ms: readonly MigrationEntry[]) => ms.map((m) => m.version);
  const actions: Action[] = [];

  const remoteOnly = of("remote_only");
  if (remoteOnly.length) {
    actions.push({
      kind: "fetch",
      versions: list(remoteOnly),
      explain:
        `${remoteOnly.length} migration(s) ran on the database but have no file. Write them out from their stored statements, ` +
        `review and commit them. Do not run \`supabase migration repair --status reverted\` for these: it DELETES the history ` +
        `rows, and once their files reach the repository \`db push\` would run that SQL a second time.`,
      // Without versions, fetch writes every remote-only migration: the short command for the common case.
      command: `drift-guard fetch${dirFlag}`,
    });
  }

  const verdict = (m: MigrationEntry) => m.evidence?.verdict;
  // A pending file whose objects are already live (a saved schema-diff suggestion) fails `db push`:
  // its advice is the out-of-order one, so that the table's verdict and the next step agree.
  // The file `drift-guard fetch --live-definitions V` wrote for a `different` V: marked applied together with V.
  const companionOf = new Map(migrations.filter((m) => m.local && /^record_live_definitions_[0-9]+$/.test(m.name) && !m.remote)
    .map((m) => [m.name.slice("record_live_definitions_".length), m]));
  const companions = new Set([...companionOf.entries()].filter(([v]) => migrations.some((m) => m.version === v && verdict(m) === "different")).map(([, m]) => m));
  const pendingLive = of("pending").filter((m) => m.evidence !== undefined && verdict(m) !== "absent" && !companions.has(m));
  const outOfOrder = [...of("out_of_order").filter((m) => !companions.has(m)), ...pendingLive];
  const identical = outOfOrder.filter((m) => verdict(m) === "identical");
  const looksUnapplied = outOfOrder.filter((m) => verdict(m) === "absent");
  const different = outOfOrder.filter((m) => verdict(m) === "different");
  const byNameOnly = outOfOrder.filter((m) => verdict(m) === "present");
  const doubtful = outOfOrder.filter((m) => verdict(m) === "partial" || verdict(m) === "unknown");
  // No evidence at all (--no-evidence, or no history rows): both fixes, each with its condition.
  const undecided = outOfOrder.filter((m) => m.evidence === undefined);
  const markApplied = [...identical, ...undecided];
  if (markApplied.length) {
    actions.push({
      kind: "mark_applied",
      versions: list(markApplied),
      explain: (identical.length && !undecided.length
        ? `What these build is identical to the live database (compared definition by definition in a shadow): their SQL ran outside the CLI. Mark them applied. `
        : `If this SQL already ran on the database (by hand, or in the dashboard), and built what is live, mark it applied. `) +
        `\`--mark-applied\` records the row exactly as \`supabase migration repair --status applied\` does, without running any SQL. ` +
        `Run it without --apply first to preview the change.`,
      command: `drift-guard repair${dirFlag} --mark-applied ${list(markApplied).join(" ")} --reason "<why>"`,
    });
  }
  for (const m of different) {
    const e = m.evidence!;
    const shown = (e.differences ?? []).slice(0, 5);
    const more = (e.differences?.length ?? 0) - shown.length;
    const live = e.live_migration;
    const saved = companionOf.get(m.version);
    actions.push({
      kind: "record_live_definition",
      versions: [m.version],
      explain:
        `${m.version}'s objects exist, but not as the file builds them (${shown.join("; ")}${more > 0 ? `; ${more} more` : ""}). ` +
        `Marking it applied alone would record SQL that never ran this way and hide the difference. Two steps: ` +
        (saved
          ? `1. ${saved.local!.path} records what the live database has (review it); 2. mark both applied (no SQL runs; the live database already has both): `
          : live
          ? `1. save the SQL that records what the live database has (printed under Evidence) as ${live.file}: the command below writes it; review it; ` +
            `2. mark both applied (check again: it then prints that command; no SQL runs, the live database already has both). `
          : `1. write a new migration that records what the live database has (drift-guard schema-diff suggests the SQL); 2. mark the file and that migration applied. `) +
        `--force-different confirms that you recorded the live definitions.`,
      command: saved
        ? `drift-guard repair${dirFlag} --mark-applied ${m.version} ${saved.version} --force-different --reason "<why>"`
        : live
        ? `drift-guard fetch${dirFlag} --live-definitions ${m.version}`
        : `drift-guard schema-diff${dirFlag}`,
    });
  }
  if (byNameOnly.length) {
    actions.push({
      kind: "compare_definitions",
      versions: list(byNameOnly),
      explain:
        `Objects with these names exist, but only their names were looked up: the live definitions may differ from what the files build. ` +
        `Compare definitions before marking anything applied: drift-guard check --db-url does (or GET /status?evidence=full).`,
      command: `drift-guard check${dirFlag} --db-url "$SUPABASE_DB_URL"`,
    });
  }
  if (doubtful.length) {
    const why = doubtful.map((m) => `${m.version}: ${m.evidence!.verdict === "partial" ? "only part of what it builds is live" : m.evidence!.reason ?? "cannot tell"}`);
    actions.push({
      kind: "review_evidence",
      versions: list(doubtful),
      explain:
        `Cannot tell whether these ran (${why.slice(0, 3).join("; ")}${why.length > 3 ? "; …" : ""}). Compare by hand before choosing: mark applied only if ` +
        `what the file builds is what is live; otherwise finish the missing part in a new migration.`,
      command: `drift-guard schema-diff${dirFlag}`,
    });
  }
  const pushAll = [...looksUnapplied, ...undecided];
  if (pushAll.length) {
    actions.push({
      kind: "push_include_all",
      versions: list(pushAll),
      explain: (looksUnapplied.length && !undecided.length
        ? `Objects absent: a db push will apply these. `
        : `If this SQL never ran, apply it. `) +
        `They are older than the newest applied migration, so \`supabase db push\` refuses them without --include-all.`,
      command: `supabase db push --include-all`,
    });
  }

  const pending = of("pending").filter((m) => !pendingLive.includes(m) && !companions.has(m));
  if (pending.length) {
    actions.push({
      kind: "push",
      versions: list(pending),
      explain: `${pending.length} new migration(s) not yet applied. A normal db push applies them.`,
      command: `supabase db push`,
    });
  }

  for (const m of of("edited")) {
    actions.push({
      kind: "restore_edited",
      versions: [m.version],
      explain:
        `${m.local!.path} changed after it was applied, and applied migrations are never re-run. Restore the file to what ` +
        `ran (the stored statements: drift-guard fetch or GET /history/${m.version}), and put the change in a new migration.`,
      command: `supabase migration new ${shellArg(`${m.name}_followup`)}`,
    });
  }

  for (const m of of("renamed")) {
    const target = `${migrationsDir}/${m.version}_${m.remote!.name}.sql`;
    actions.push({
      kind: "rename_file",
      versions: [m.version],
      explain: `Same content as applied, but the history records the name "${m.remote!.name}". Rename the file back.`,
      command: `git mv ${shellArg(m.local!.path)} ${shellArg(target)}`,
    });
  }
  return actions;
}
