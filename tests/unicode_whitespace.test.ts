/**
 * End to end: an edit made with Unicode whitespace changes what
 * Postgres runs, so `check` must call it drift. Pushed with the real Supabase
 * CLI, checked with the real drift-guard CLI, replayed on a fresh database.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createTestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const FILE = "20240101000000_secrets.sql";
const PUSHED = "create table public.secrets (id int, v text); alter table if exists public.secrets enable row level security;\n";
const EDITED = PUSHED.replace(" enable", "\uFEFF enable");

describe("a U+FEFF before `enable`", () => {
  it("is drift to check, and a fresh db push of the edited file leaves RLS off", async () => {
    const applied = await createTestDatabase("feff_applied");
    const fresh = await createTestDatabase("feff_fresh");
    const project = makeProject({ [FILE]: PUSHED });
    try {
      supabasePush(applied.url, project);
      expect((await runCli(["check", "--db-url", applied.url], { cwd: project })).status).toBe(0);

      writeFileSync(join(project, "supabase/migrations", FILE), EDITED);
      const check = await runCli(["check", "--db-url", applied.url, "--format", "json"], { cwd: project });
      expect(check.status, check.stdout).toBe(1);
      expect(JSON.parse(check.stdout).migrations[0].state).toBe("edited");

      // What Postgres makes of the edited file: `secrets\uFEFF` is one identifier, the table does not exist, RLS stays off.
      supabasePush(fresh.url, project);
      const [row] = await fresh.sql`select relrowsecurity from pg_class where oid = 'public.secrets'::regclass`;
      expect(row.relrowsecurity).toBe(false);
      const [original] = await applied.sql`select relrowsecurity from pg_class where oid = 'public.secrets'::regclass`;
      expect(original.relrowsecurity).toBe(true);
    } finally {
      rmSync(project, { recursive: true, force: true });
      await applied.drop();
      await fresh.drop();
    }
  }, 300_000); // two databases and two real `supabase db push` runs on a loaded CI machine
});
