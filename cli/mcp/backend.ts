/**
 * What the MCP tools call: the same guarded operations as `check`, `repair`, `undo`,
 * `fetch` and `ledger`, reached either through the database (--db-url) or through the
 * deployed function (--url, --token). Both return the shapes `--format json` prints.
 */
import { dirname, join, relative, resolve } from "node:path";
import type { RepairRequest } from "../../shared/repair_plan.ts";
import type { Report } from "../../shared/types.ts";
import type { LedgerFilter } from "../../shared/ledger.ts";
import type { Actor } from "../../db/repair.ts";
import { type FetchRow, migrationFileFor, writeNewFile } from "../commands/fetch.ts";
import type { CliDeps } from "../deps.ts";

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

export type { FetchRow };

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
  applyCommand(request: RepairRequest, plan: RepairJson): string;
  undoCommand(auditId: string, reason: string): string;
}

/**
 * Writes history rows as migration files directly inside `migrationsDir` and nowhere
 * else, through `fetch`'s own rules: the file name from migrationFileFor, the target's
 * folder must be the migrations folder itself, and writeNewFile never writes through an
 * existing file or symlink. Paths are returned relative to `deps.cwd`.
 *
 * @example (await writeFetchedRows(deps, "/repo/supabase/migrations", rows)).written[0].path // "supabase/migrations/20240101000000_init.sql"
 */
export async function writeFetchedRows(deps: Pick<CliDeps, "fs" | "cwd">, migrationsDir: string, rows: readonly FetchRow[]): Promise<FetchResult> {
  const dir = resolve(deps.cwd, migrationsDir);
  const result: FetchResult = { migrations_dir: relative(deps.cwd, dir) || ".", written: [], skipped: [] };
  for (const row of rows) {
    const file = migrationFileFor(row);
    if ("why" in file) {
      result.skipped.push({ version: row.version, why: file.why });
      continue;
    }
    const path = join(dir, file.fileName);
    if (dirname(path) !== dir) {
      result.skipped.push({ version: row.version, why: "its file name would leave the migrations folder" });
      continue;
    }
    const refused = await writeNewFile(deps.fs, path, file.fileName, file.text);
    if (refused) {
      result.skipped.push({ version: row.version, why: refused });
      continue;
    }
    result.written.push({ version: row.version, path: relative(deps.cwd, path), round_trips: file.roundTrips });
  }
  return result;
}
