/**
 * `drift-guard fetch --live-definitions V`: the migration that records what the live
 * database has for the objects V builds differently (evidence `different`), computed
 * as check computes it (db/definition_evidence.ts), for the CLI to write as a file.
 */
import { basename } from "node:path";
import type { LocalMigration } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import type { Sql } from "./connect.ts";
import { collectDefinitionEvidence } from "./definition_evidence.ts";
import { knownStatements, readHistory } from "./history.ts";

/**
 * The file name (inside the migrations folder) and SQL of V's live definitions.
 *
 * @example
 * const { fileName, sql: text } = await liveDefinitionsMigration(sql, local, "20240101000000");
 * // fileName "20260104120000_record_live_definitions_20240101000000.sql"
 */
export async function liveDefinitionsMigration(sql: Sql, local: readonly LocalMigration[], version: string, migrationsDir?: string): Promise<{ fileName: string; version: string; sql: string }> {
  if (!/^[0-9]+$/.test(version)) throw new DriftGuardError("unknown_version", `"${version}" is not a migration version (digits, as in <version>_<name>.sql)`);
  const file = local.find((m) => m.version === version);
  if (!file) throw new DriftGuardError("unknown_version", `no local migration file has version ${version}`, "--live-definitions takes the version of a local-only file whose evidence is `different`");
  const remote = await readHistory(sql, knownStatements(local));
  const remoteVersions = new Set((remote ?? []).map((r) => r.version));
  if (remoteVersions.has(version)) throw new DriftGuardError("bad_input", `${version} is in the history: its live definitions are what it recorded`, "drift-guard check shows what to do for it");
  const evidence = (await collectDefinitionEvidence(sql, local, [file], remoteVersions, { migrationsDir })).get(version);
  const live = evidence?.live_migration;
  if (!evidence || evidence.verdict !== "different" || !live) {
    throw new DriftGuardError("bad_input", `${version}'s objects are not live with other definitions (evidence: ${evidence?.verdict ?? "none"}), so there are no live definitions to record`, "drift-guard check says what to do for it");
  }
  return { fileName: basename(live.file), version: live.version, sql: live.sql };
}
