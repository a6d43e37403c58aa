/**
 * A user who follows drift-guard's advice literally: run `check --format json`,
 * run every action's command as printed (the reason filled in), apply each
 * repair with the exact `--apply --expect-digest` line its dry run printed, and
 * repeat until check exits 0. Then the oracles: the Supabase CLI's `db push
 * --dry-run` has nothing to do, and a database built from the repository alone
 * has the schema live has (pg_dump -s).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Report } from "../../shared/types.ts";
import { BIN } from "./drift_guard_cli.ts";

const SUPABASE_BIN = resolve(import.meta.dirname, "../../node_modules/.bin/supabase");
const PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump";

export interface Step {
  command: string;
  status: number;
  output: string;
}

/**
 * A PATH with `drift-guard` (this checkout) and `supabase` (the npm CLI, pointed at the
 * database as a linked project would be). Returns the directory; remove it when done.
 */
export function userPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "drift-guard-user-bin-"));
  writeFileSync(join(dir, "drift-guard"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  // `supabase db push` as printed: the linked project is the test database.
  writeFileSync(join(dir, "supabase"), `#!/bin/sh\nexec "${SUPABASE_BIN}" "$@" --db-url "$SUPABASE_DB_URL" --workdir . --yes\n`);
  chmodSync(join(dir, "drift-guard"), 0o755);
  chmodSync(join(dir, "supabase"), 0o755);
  return dir;
}

function sh(command: string, cwd: string, env: Record<string, string>): Step {
  const r = spawnSync("sh", ["-c", command], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", ...env },
    timeout: 180_000,
  });
  return { command, status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/**
 * Follows the advice until check exits 0 (at most `maxRounds` checks). Throws with the whole
 * transcript when a printed command fails or the advice does not converge.
 */
export function followAdvice(project: string, dbUrl: string, maxRounds = 5): { steps: Step[]; reports: Report[] } {
  const bin = userPath();
  const env = { SUPABASE_DB_URL: dbUrl, PATH: `${bin}:${process.env.PATH}` };
  const steps: Step[] = [];
  const reports: Report[] = [];
  const fail = (why: string) => new Error(`${why}\n\n${steps.map((s) => `$ ${s.command}\n(exit ${s.status})\n${s.output}`).join("\n")}`);
  try {
    for (let round = 0; round < maxRounds; round++) {
      const check = sh("drift-guard check --format json", project, env);
      steps.push({ ...check, output: check.output.slice(0, 4000) });
      if (check.status === 0) return { steps, reports };
      if (check.status !== 1) throw fail("check failed");
      const report = JSON.parse(check.output.slice(0, check.output.lastIndexOf("}") + 1)) as Report;
      reports.push(report);
      if (!report.actions.length) throw fail("drift, but no action to follow");
      for (const action of report.actions) {
        const command = action.command.replace(/"<why>"/g, `"following drift-guard's advice: ${action.kind}"`);
        if (/<[a-z ]+>/.test(command)) throw fail(`an action's command is not runnable as printed: ${command}`);
        const step = sh(command, project, env);
        steps.push(step);
        if (step.status !== 0) throw fail(`a printed command failed: ${command}`);
        const apply = /^\s*(drift-guard repair .* --apply --expect-digest sha256:[0-9a-f]{64})\s*$/m.exec(step.output);
        if (command.startsWith("drift-guard repair") && !command.includes("--apply")) {
          if (!apply) throw fail(`the dry run printed no --apply line: ${command}`);
          const applied = sh(apply[1], project, env);
          steps.push(applied);
          if (applied.status !== 0) throw fail(`the printed --apply line failed: ${apply[1]}`);
        }
      }
    }
    throw fail(`check still reports drift after ${maxRounds} rounds`);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

/** `supabase db push --dry-run` against the database: its output (the caller asserts nothing is left to do). */
export function pushDryRun(project: string, dbUrl: string): { status: number; output: string } {
  const r = spawnSync(SUPABASE_BIN, ["db", "push", "--dry-run", "--db-url", dbUrl, "--workdir", project, "--yes"], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", NO_COLOR: "1" },
    timeout: 120_000,
  });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** The public schema as pg_dump -s prints it, without comments and blank lines. */
export function dumpSchema(dbUrl: string): string {
  const out = execFileSync(PG_DUMP, ["-s", "-n", "public", "--no-owner", dbUrl], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.trim() && !l.startsWith("--") && !l.startsWith("\\restrict") && !l.startsWith("\\unrestrict")).join("\n");
}
