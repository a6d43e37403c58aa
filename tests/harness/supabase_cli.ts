/** The Supabase CLI (npm `supabase`) as our oracle: a project dir, push, repair, and `migration list` as JSON. */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SUPABASE_BIN = fileURLToPath(new URL("../../node_modules/.bin/supabase", import.meta.url));

export function makeProject(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), "drift-guard-proj-"));
  mkdirSync(join(dir, "supabase", "migrations"), { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, "supabase", "migrations", name), content);
  return dir;
}

export function supabase(args: string[], workdir: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(SUPABASE_BIN, [...args, "--workdir", workdir, "--yes"], {
    cwd: workdir,
    encoding: "utf8",
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", NO_COLOR: "1" },
    timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: ReturnType<typeof supabase>, what: string) {
  if (r.status !== 0) throw new Error(`supabase ${what} failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  return r;
}

export function supabasePush(dbUrl: string, workdir: string, extra: string[] = []) {
  return ok(supabase(["db", "push", "--db-url", dbUrl, ...extra], workdir), "db push");
}

export function supabaseRepair(dbUrl: string, workdir: string, status: "applied" | "reverted", versions: string[]) {
  return ok(supabase(["migration", "repair", "--db-url", dbUrl, "--status", status, ...versions], workdir), "migration repair");
}

/** `supabase migration list` reduced to the local and remote version sets. */
export function supabaseList(dbUrl: string, workdir: string): { local: string[]; remote: string[] } {
  const r = ok(supabase(["migration", "list", "--db-url", dbUrl, "--output-format", "json"], workdir), "migration list");
  const parsed = JSON.parse(r.stdout) as { migrations: Array<{ local: string; remote: string }> };
  return {
    local: parsed.migrations.map((m) => m.local).filter(Boolean).sort(),
    remote: parsed.migrations.map((m) => m.remote).filter(Boolean).sort(),
  };
}
