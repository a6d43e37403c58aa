/**
 * Whole-history matching: pairs history rows and local files by content as
 * well as by version, so that one migration that moved (an agent ran the
 * committed SQL and recorded it under its own timestamp, and maybe its own
 * name) is one finding, not a `remote_only` row plus an `out_of_order` file
 * whose fixes together break every fresh build of the repository.
 *
 *   moved      the same canonical SQL under another version: one row, one file
 *   squashed   history rows without files whose objects one local file builds (what else they
 *              left live is recorded by a second file, which `fetch --live-definitions` writes)
 *   renumber   a file older than the newest applied version that never ran anywhere
 *              (its objects are absent live) and uses objects a newer migration creates
 *   ambiguous  the same SQL under three or more versions, or a squash file that also builds what
 *              none of the rows did (it matches only partly):
 *              what could be verified is said, and no repair is suggested
 *
 * The six drift states stay as they are for every migration; findings are a
 * separate list (Report.findings), and the versions they cover get no other
 * action. Pure: the replay that verifies each suggestion is db/history_replay.ts.
 */
import { shellArg } from "./shell_arg.ts";
import { compareCodePoints, statementsChecksum } from "./checksum.ts";
import { extractCreatedObjects } from "./evidence.ts";
import { scanSql } from "./sql_statements.ts";
import type { Evidence, HistoryFinding, LocalMigration, RemoteMigration } from "./types.ts";

export interface HistoryMatchInput {
  local: readonly LocalMigration[];
  remote: readonly RemoteMigration[];
  /** Evidence for local-only migrations, by version (renumber needs "absent"). */
  evidence?: ReadonlyMap<string, Evidence>;
  migrationsDir: string;
  /** The flag suggested commands carry for a non-default migrations directory ("" or " --migrations dir"). */
  dirFlag: string;
  /** How a file is renamed in a printed command: `git mv` in a git repository, `mv` elsewhere. */
  fileMove?: "git mv" | "mv" | ((path: string) => "git mv" | "mv");
}

export interface HistoryMatch {
  findings: HistoryFinding[];
  /** Versions a finding covers: no per-version action is suggested for them. */
  covered: Set<string>;
}

/** The file `drift-guard fetch --live-definitions S` writes for squash file S. */
const COMPANION = /^record_live_definitions_([0-9]+)$/;
const sample = (keys: readonly string[]) => `${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", …" : ""}`;

/**
 * The repair that records a squash, as printed.
 * @example squashCommand("", ["1", "2"], ["3"]) // 'drift-guard repair --squash 1 2 --into 3 --reason "<why>"'
 */
export function squashCommand(dirFlag: string, rows: readonly string[], into: readonly string[]): string {
  return `drift-guard repair${dirFlag} --squash ${rows.join(" ")} --into ${into.join(" ")} --reason "<why>"`;
}

const byVersion = <T extends { version: string }>(a: T, b: T) => compareCodePoints(a.version, b.version);

/**
 * The findings for a local repository and its history.
 *
 * @example
 * matchHistory({ local: [file("001", "create table t ()")], remote: [row("20260101000000", "create table t ()")], migrationsDir: "supabase/migrations", dirFlag: "" })
 *   .findings[0].kind // "moved"
 */
export function matchHistory(input: HistoryMatchInput): HistoryMatch {
  const findings: HistoryFinding[] = [];
  const covered = new Set<string>();
  const localBy = new Map(input.local.map((m) => [m.version, m]));
  const remoteBy = new Map(input.remote.map((r) => [r.version, r]));
  const localOnly = input.local.filter((m) => !remoteBy.has(m.version)).sort(byVersion);
  const remoteOnly = input.remote.filter((r) => !localBy.has(r.version)).sort(byVersion);
  // A row whose statements are its file's (readHistory hands back the file's own array when they match) has its checksum.
  const rowChecksum = (r: RemoteMigration) => {
    const file = localBy.get(r.version);
    return file !== undefined && file.statements === r.statements ? file.checksum : statementsChecksum(r.statements!);
  };
  const rowSum = new Map(input.remote.filter((r) => r.statements !== null).map((r) => [r.version, rowChecksum(r)]));

  // --- moved / ambiguous: group every version by the canonical checksum of its SQL.
  const groups = new Map<string, { files: LocalMigration[]; rows: RemoteMigration[] }>();
  const group = (sum: string) => groups.get(sum) ?? groups.set(sum, { files: [], rows: [] }).get(sum)!;
  for (const m of input.local) if (m.statements.length || m.statementsHash) group(m.checksum).files.push(m);
  for (const r of input.remote) if (r.statements !== null && r.statements.length) group(rowSum.get(r.version)!).rows.push(r);
  for (const { files, rows } of groups.values()) {
    const unpairedFiles = files.filter((f) => !remoteBy.has(f.version));
    const unpairedRows = rows.filter((r) => !localBy.has(r.version));
    if (!unpairedFiles.length || !unpairedRows.length) continue;
    const versions = [...new Set([...files.map((f) => f.version), ...rows.map((r) => r.version)])].sort(compareCodePoints);
    if (versions.length === 2 && unpairedFiles.length === 1 && unpairedRows.length === 1) {
      findings.push(moved(unpairedRows[0], unpairedFiles[0], input));
    } else {
      findings.push({
        kind: "ambiguous",
        versions,
        from: unpairedRows.map((r) => r.version),
        to: null,
        files: files.map((f) => f.path),
        explain:
          `The same SQL is under ${versions.length} versions (${versions.join(", ")}: files ${files.map((f) => f.version).join(", ") || "none"}, ` +
          `history rows ${rows.map((r) => r.version).join(", ") || "none"}). drift-guard cannot tell which one is the migration that ran, so it suggests no repair: ` +
          `keep one file and one history row for it (drift-guard repair --move, or --mark-reverted for the extra rows after checking what they ran).`,
        command: null,
      });
    }
    for (const v of versions) covered.add(v);
  }

  // --- squashed: rows without files whose objects one local file builds (with, once it is written,
  // the file recording what else they left live). Whether the rows left anything live that no file
  // builds is the replay's to say (db/history_replay.ts): objects a later migration dropped are not.
  const freeRows = remoteOnly.filter((r) => !covered.has(r.version) && r.statements !== null && r.statements.length);
  const objectKeys = (statements: readonly string[]) => new Set(extractCreatedObjects(statements).map((o) => `${o.kind} ${o.schema}.${o.table ? `${o.table}.` : ""}${o.name}`));
  const companionOf = new Map(localOnly.filter((m) => !covered.has(m.version) && COMPANION.test(m.name)).map((m) => [m.name.replace(COMPANION, "$1"), m]));
  const companions = new Set(companionOf.values());
  const candidates = input.local
    .filter((m) => !covered.has(m.version) && !companions.has(m) && m.statements.length)
    .filter((m) => {
      const row = remoteBy.get(m.version);
      return row === undefined || (row.statements !== null && rowSum.get(m.version) !== m.checksum);
    })
    .sort(byVersion)
    .reverse();
  const usedRows = new Set<string>();
  for (const file of candidates) {
    const built = objectKeys(file.statements);
    if (!built.size) continue;
    const rows = freeRows.filter((r) => !usedRows.has(r.version) && [...objectKeys(r.statements!)].some((k) => built.has(k)));
    if (!rows.length) continue;
    const companion = companionOf.get(file.version);
    const recorded = companion ? new Set([...built, ...objectKeys(companion.statements)]) : built;
    const own = remoteBy.get(file.version);
    const fromRows = new Set([...rows, ...(own ? [own] : [])].flatMap((r) => [...objectKeys(r.statements ?? [])]));
    const leftLive = [...fromRows].filter((k) => !recorded.has(k));
    const notBuilt = [...built].filter((k) => !fromRows.has(k));
    for (const r of rows) usedRows.add(r.version);
    const into = companion ? [file.version, companion.version] : [file.version];
    const versions = [...rows.map((r) => r.version), ...into].sort(compareCodePoints);
    for (const v of versions) covered.add(v);
    const rowList = rows.map((r) => r.version).join(", ");
    if (!notBuilt.length) {
      findings.push({
        kind: "squashed",
        versions,
        from: rows.map((r) => r.version),
        to: file.version,
        into,
        files: [file.path, ...(companion ? [companion.path] : [])],
        explain:
          `${file.path} folds ${rows.length} applied migration(s) without files (${rowList}) into one` +
          (companion ? `, and ${companion.path} records what else they left live. ` : leftLive.length
            ? `, but the rows built ${leftLive.length} object(s) the file does not (${sample(leftLive)}): what of it is still live needs a file that records it, ` +
              `which drift-guard fetch --live-definitions ${file.version} writes from the live catalog. `
            : `: it builds the same ${built.size} object(s) they built. `) +
          `Record the squash: the ${rows.length} row(s) are deleted and ${into.join(" and ")} recorded with the file's statements, in one audited repair (no SQL runs; drift-guard undo reverses it). ` +
          `Fetching the rows back as files would make every fresh build run that SQL twice.`,
        // Until the replay shows that nothing the rows built is left live, the first step is the file that records it.
        command: leftLive.length && !companion
          ? `drift-guard fetch${input.dirFlag} --live-definitions ${file.version}`
          : squashCommand(input.dirFlag, rows.map((r) => r.version), into),
      });
    } else {
      findings.push({
        kind: "ambiguous",
        versions,
        from: rows.map((r) => r.version),
        to: file.version,
        files: [file.path],
        explain:
          `${file.path} looks like a squash of ${rowList}, but only partly: it builds ${notBuilt.length} object(s) those rows did not (${sample(notBuilt)}), ` +
          `so it is not only what ran` +
          (leftLive.length ? `, and the rows built ${leftLive.length} object(s) it does not (${sample(leftLive)})` : "") +
          `. Recording it as applied would claim SQL that never ran; pushing it would fail on what already exists. No repair is suggested: ` +
          `move what is new into a migration of its own (supabase migration new), so that the file is the squash alone, then check again.`,
        command: null,
      });
    }
  }

  // --- renumber: out-of-order files that never ran and use what a newer migration creates.
  const newestRemote = input.remote.map((r) => r.version).sort(compareCodePoints).at(-1);
  if (newestRemote !== undefined) {
    const creators = [
      ...input.local.map((m) => ({ version: m.version, statements: m.statements })),
      ...remoteOnly.map((r) => ({ version: r.version, statements: r.statements ?? [] })),
    ];
    const taken = new Set([...localBy.keys(), ...remoteBy.keys()]);
    let after = [newestRemote, ...input.local.map((m) => m.version)].sort(compareCodePoints).at(-1)!;
    for (const m of localOnly) {
      if (covered.has(m.version) || compareCodePoints(m.version, newestRemote) >= 0) continue;
      if (!neverRan(input.evidence?.get(m.version))) continue;
      const own = new Set(extractCreatedObjects(m.statements).map((o) => `${o.schema}.${o.name}`));
      const code = codeOnly(m.statements.join("\n"));
      const uses = creators
        .filter((c) => compareCodePoints(c.version, m.version) > 0)
        .flatMap((c) => extractCreatedObjects(c.statements).filter((o) => o.kind !== "column" && o.kind !== "index" && o.kind !== "policy" && o.kind !== "trigger")
          .filter((o) => !own.has(`${o.schema}.${o.name}`) && mentions(code, o.schema, o.name))
          .map((o) => ({ version: c.version, object: `${o.kind} ${o.schema}.${o.name}` })));
      if (!uses.length) continue;
      const target = nextVersion(after, taken);
      taken.add(target);
      after = target;
      const dest = `${input.migrationsDir}/${target}_${m.name}.sql`;
      const move = moveCommand(input, m.path);
      covered.add(m.version);
      findings.push({
        kind: "renumber",
        versions: [m.version],
        from: [m.version],
        to: target,
        files: [m.path],
        file_ops: [{ from: m.path, to: dest }],
        explain:
          `${m.path} is older than the newest applied migration (${newestRemote}) but never ran (none of its objects is live), and it uses ` +
          `${uses.slice(0, 3).map((u) => `${u.object} (created by ${u.version})`).join(", ")}${uses.length > 3 ? ", …" : ""}. ` +
          `\`db push --include-all\` would apply it here, yet every fresh build (db reset, preview branches) runs it first and fails. ` +
          `Renumber it after the newest applied version; this is safe because it never ran anywhere. Then \`supabase db push\` applies it.`,
        command: `${move} ${shellArg(m.path)} ${shellArg(dest)}`,
      });
    }
  }
  return { findings, covered };
}

/** One row and one file with the same SQL: the default repair rewrites the history row, so no reviewed file changes. */
function moved(row: RemoteMigration, file: LocalMigration, input: HistoryMatchInput): HistoryFinding {
  const renamed = (row.name ?? "") !== file.name;
  const dest = `${input.migrationsDir}/${row.version}_${row.name ?? file.name}.sql`;
  return {
    kind: "moved",
    versions: [row.version, file.version].sort(compareCodePoints),
    from: [row.version],
    to: file.version,
    files: [file.path],
    explain:
      `${file.path} ran on the database under another version: history row ${row.version}${renamed ? ` (named "${row.name ?? ""}")` : ""} has the same SQL ` +
      `(tools such as an MCP server's apply_migration record their own timestamp${renamed ? " and name" : ""}). It is one migration, not two: do not fetch ${row.version} and ` +
      `mark ${file.version} applied, which would make every fresh build run it twice. The suggested repair rewrites the history row to the file's version ` +
      `(no committed file changes; no SQL runs). The other way, which keeps the history untouched and renames the committed file: ` +
      `${moveCommand(input, file.path)} ${shellArg(file.path)} ${shellArg(dest)}.`,
    command: `drift-guard repair${input.dirFlag} --move ${row.version} --to ${file.version} --reason "<why>"`,
  };
}

/**
 * None of what the file builds is live: absent, or unknown only because the shadow could not
 * replay it (which a file that depends on a newer migration's objects often cannot) with every
 * object it creates looked up and missing.
 */
function neverRan(e: Evidence | undefined): boolean {
  if (!e) return false;
  if (e.verdict === "absent") return true;
  return e.verdict === "unknown" && e.objects.length > 0 && e.objects.every((o) => !o.present);
}

function moveCommand(input: HistoryMatchInput, path: string): "git mv" | "mv" {
  return typeof input.fileMove === "function" ? input.fileMove(path) : input.fileMove ?? "git mv";
}

/** SQL without comments and string literals: what names an object. */
function codeOnly(sql: string): string {
  const { comments, literals } = scanSql(sql);
  const spans = [...comments, ...literals.filter(([s]) => sql[s] !== '"')].sort((a, b) => a[0] - b[0]);
  let out = "";
  let pos = 0;
  for (const [s, e] of spans) {
    if (s < pos) continue;
    out += sql.slice(pos, s) + " ";
    pos = e;
  }
  return (out + sql.slice(pos)).toLowerCase();
}

function mentions(code: string, schema: string, name: string): boolean {
  const esc = (s: string) => s.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const ident = (s: string) => `(?:${esc(s)}|"${esc(s)}")`;
  const re = schema === "public"
    ? new RegExp(`(?<![A-Za-z0-9_$."])(?:${ident("public")}\\s*\\.\\s*)?${ident(name)}(?![A-Za-z0-9_$"])`)
    : new RegExp(`${ident(schema)}\\s*\\.\\s*${ident(name)}(?![A-Za-z0-9_$"])`);
  return re.test(code);
}

/**
 * The first free version after `after`, with as many digits (14-digit timestamps stay timestamps).
 * @example nextVersion("20260102000000", new Set()) // "20260102000001"
 */
export function nextVersion(after: string, taken: ReadonlySet<string>): string {
  let n = BigInt(after) + 1n;
  for (;; n++) {
    const v = n.toString().padStart(after.length, "0");
    if (!taken.has(v)) return v;
  }
}
