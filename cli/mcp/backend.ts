/**
 * What the MCP tools call: the same guarded operations as `check`, `repair`, `undo`,
 * `fetch` and `ledger`, reached either through the database (--db-url) or through the
 * deployed function (--url, --token). Both return the shapes `--format json` prints.
 */
import { dirname, join, relative, resolve } from "node:path";
import { fileNameFor, renderMigrationFile } from "../../shared/migration_files.ts";
import type { RepairRequest } from "../../shared/repair_plan.ts";
import { splitStatements } from "../../shared/sql_statements.ts";
import { DriftGuardError, type Report } from "../../shared/types.ts";
import type { LedgerFilter } from "../../shared/ledger.ts";
import type { Actor } from "../../db/repair.ts";
import { writeNewFile } from "../new_file.ts";

export type RepairJson = Record<string, unknown> & { plan_digest: string; history_digest: string; dry_run: boolean };

export interface LedgerQueryInput {
  since?: string;
  until?: string;
  object?: string;
  status?: LedgerFilter;
  limit?: number;
}

export interface FetchResult {
  migrations_dir: string;
  written: Array<{ version: string; path: string; round_trips: boolean }>;
  skipped: Array<{ version: string; why: string }>;
}

/** A row of the history to write out as a file. */
export interface FetchRow {
  version: string;
  name: string | null;
  statements: string[] | null;
}

export interface McpBackend {
  /** "database" (--db-url) or "function" (--url). */
  readonly kind: "database" | "function";
  check(options: { evidence: boolean; since?: Date }): Promise<Report>;
  /** A dry run: writes nothing. */
  plan(request: RepairRequest): Promise<RepairJson>;
  /** Applies only the plan whose plan_digest is `planDigest`. */
  apply(request: RepairRequest, planDigest: string, actor: Actor): Promise<RepairJson>;
  undo(auditId: string, reason: string, actor: Actor): Promise<{ audit_id: string; history_digest: string }>;
  /** The remote_only versions (all of them when `versions` is empty) and their history rows; refuses any other version. */
  remoteOnlyRows(versions: readonly string[]): Promise<FetchRow[]>;
  ledger(query: LedgerQueryInput): Promise<{ ledger: Record<string, unknown> & { active: boolean }; entries: unknown[] }>;
  /** The command a person runs to apply exactly this plan (no secret in it: the URL and token come from the environment). */
  applyCommand(request: RepairRequest, planDigest: string): string;
  undoCommand(auditId: string, reason: string): string;
}

/**
 * The versions `fetch` may write: those the report calls remote_only. A version with a
 * local file, or none in the history, is refused with the reason.
 *
 * @example remoteOnlyVersions(report, []) // every remote_only version
 */
export function remoteOnlyVersions(report: Pick<Report, "migrations">, versions: readonly string[]): string[] {
  const remoteOnly = new Set(report.migrations.filter((m) => m.state === "remote_only").map((m) => m.version));
  const wanted = versions.length ? [...new Set(versions)] : [...remoteOnly];
  for (const v of wanted) {
    if (!remoteOnly.has(v)) {
      const known = report.migrations.some((m) => m.version === v);
      throw new DriftGuardError("unknown_version", known ? `${v} already has a local file; fetch_migrations writes remote_only migrations` : `${v} is not in the migration history`, "call check: its remote_only rows are what fetch_migrations writes");
    }
  }
  return wanted;
}

/**
 * Writes history rows as migration files directly inside `migrationsDir` and nowhere
 * else: the file name comes from fileNameFor (digits, and a name without separators or
 * control characters), the target's folder must be the migrations folder itself, and an
 * existing file or symlink is never written through. Paths are returned relative to `cwd`.
 *
 * @example writeFetchedRows("/repo/supabase/migrations", rows, "/repo").written[0].path // "supabase/migrations/20240101000000_init.sql"
 */
export function writeFetchedRows(migrationsDir: string, rows: readonly FetchRow[], cwd: string): FetchResult {
  const dir = resolve(migrationsDir);
  const result: FetchResult = { migrations_dir: relative(cwd, dir) || ".", written: [], skipped: [] };
  for (const row of rows) {
    const fileName = fileNameFor(row.version, row.name);
    if (row.statements === null || fileName === null) {
      const why = row.statements === null
        ? "the history row has no statements to write out"
        : !/^[0-9]+$/.test(row.version)
        ? "its version is not digits, so it cannot be a migration file name"
        : "its name cannot be a file name (a separator, control character, or . or ..)";
      result.skipped.push({ version: row.version, why });
      continue;
    }
    const path = join(dir, fileName);
    if (dirname(path) !== dir) {
      result.skipped.push({ version: row.version, why: "its file name would leave the migrations folder" });
      continue;
    }
    const text = renderMigrationFile(row.statements);
    const refused = writeNewFile(path, text);
    if (refused) {
      result.skipped.push({ version: row.version, why: refused.replace(path, fileName) });
      continue;
    }
    result.written.push({ version: row.version, path: relative(cwd, path), round_trips: JSON.stringify(splitStatements(text)) === JSON.stringify(row.statements) });
  }
  return result;
}
