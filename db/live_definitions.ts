/**
 * `drift-guard fetch --live-definitions V`: the migration that records what the live
 * database has for the objects V builds differently (evidence `different`), computed
 * as check computes it (db/definition_evidence.ts), for the CLI to write as a file.
 * When V is a squash file, it records what the squashed rows (or the dashboard) left
 * live and no file builds, as the replay of the squash finds it (db/history_replay.ts).
 */
import { basename } from "node:path";
import { DEFAULT_MIGRATIONS_DIR } from "../shared/drift.ts";
import { matchHistory } from "../shared/history_matching.ts";
import type { LocalMigration } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import type { Sql } from "./connect.ts";
import { collectDefinitionEvidence } from "./definition_evidence.ts";
import { knownStatements, readHistory } from "./history.ts";
import { verifyHistoryReplay } from "./history_replay.ts";

/**
 * The file name (inside the migrations folder) and SQL of V's live definitions.
 *
 * @example
 * const { fileName, sql: text } = await liveDefinitionsMigration(sql, local, "20240101000000");
 * // fileName "20260104120000_record_live_definitions_20240101000000.sql"
 */
export async function liveDefinitionsMigration(sql: Sql, local: readonly LocalMigration[], version: string, migrationsDir?: string): Promise<{ fileName: string; version: string; sql: string; next: string }> {
  if (!/^[0-9]+$/.test(version)) throw new DriftGuardError("unknown_version", `"${version}" is not a migration version (digits, as in <version>_<name>.sql)`);
  const file = local.find((m) => m.version === version);
  if (!file) throw new DriftGuardError("unknown_version", `no local migration file has version ${version}`, "--live-definitions takes the version of a local-only file whose evidence is `different`, or of a squash file");
  const remote = await readHistory(sql, knownStatements(local));
  const squash = matchHistory({ local, remote: remote ?? [], migrationsDir: migrationsDir ?? DEFAULT_MIGRATIONS_DIR, dirFlag: "" }).findings
    .find((f) => f.kind === "squashed" && f.to === version && (f.into ?? []).length <= 1);
  if (squash) {
    const [verified] = (await verifyHistoryReplay(sql, local, remote!, [squash], { migrationsDir })).findings;
    if (!verified.live_migration) {
      throw new DriftGuardError(
        "bad_input",
        `the squash into ${version} leaves nothing live that no file builds, so there are no live definitions to record (replay: ${verified.verification?.summary ?? "not run"})`,
        "drift-guard check shows the squash's repair",
      );
    }
    return {
      fileName: basename(verified.live_migration.file),
      version: verified.live_migration.version,
      sql: verified.live_migration.sql,
      next: `it suggests recording the squash into ${version} together with ${verified.live_migration.version}`,
    };
  }
  const remoteVersions = new Set((remote ?? []).map((r) => r.version));
  if (remoteVersions.has(version)) throw new DriftGuardError("bad_input", `${version} is in the history: its live definitions are what it recorded`, "drift-guard check shows what to do for it");
  const evidence = (await collectDefinitionEvidence(sql, local, [file], remoteVersions, { migrationsDir })).get(version);
  const live = evidence?.live_migration;
  if (!evidence || evidence.verdict !== "different" || !live) {
    throw new DriftGuardError("bad_input", `${version}'s objects are not live with other definitions (evidence: ${evidence?.verdict ?? "none"}), so there are no live definitions to record`, "drift-guard check says what to do for it");
  }
  return { fileName: basename(live.file), version: live.version, sql: live.sql, next: `it suggests marking ${version} and ${live.version} applied` };
}
