/**
 * The seed incident, end to end on real Postgres with the real Supabase CLI:
 * 78 migrations only in the database, 11 legacy files whose SQL ran by hand.
 * check -> fetch -> plan -> apply; then the CLI pairs every version and
 * `db push --dry-run` has nothing to do; then undo restores the exact history.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../shared/types.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject, supabase, supabaseList, supabasePush } from "./harness/supabase_cli.ts";

const LEGACY = ["004", "008", "009", "010", "011", "012", "017", "018", "019", "020", "021"];

/** 78 timestamps from 20250828095134 to 20251025212010, as in the write-up. */
function remoteVersions(): string[] {
  const first = Date.UTC(2025, 7, 28, 9, 51, 34);
  const last = Date.UTC(2025, 9, 25, 21, 20, 10);
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return Array.from({ length: 78 }, (_, i) => stamp(first + Math.round(((last - first) * i) / 77)));
}

describe("the seed incident", () => {
  let db: TestDatabase;
  let project: string;
  const remote = remoteVersions();
  const run = (...args: string[]) => runCli([...args], { cwd: project, env: { SUPABASE_DB_URL: db.url } });

  beforeAll(async () => {
    db = await createTestDatabase("seed");
    expect((await runCli(["install", "--db-url", db.url])).status).toBe(0);
    // A colleague's laptop pushed 78 migrations that never reached git.
    const colleague = makeProject(Object.fromEntries(remote.map((v, i) => [
      `${v}_feature_${i}.sql`,
      `create table public.feature_${i} (id bigint generated always as identity primary key, note text default 'v${i}; ok');\n` +
      `alter table public.feature_${i} enable row level security;\n` +
      `create policy "read ${i}" on public.feature_${i} for select using (true);\n`,
    ])));
    supabasePush(db.url, colleague);
    // Eleven legacy files whose SQL ran by hand and was never recorded.
    project = makeProject(Object.fromEntries(LEGACY.map((v) => [
      `${v}_legacy_${v}.sql`,
      `create table if not exists public.legacy_${v} (id int primary key);\ncreate index legacy_${v}_idx on public.legacy_${v} (id);\n`,
    ])));
    for (const v of LEGACY) await db.sql.unsafe(`create table public.legacy_${v} (id int primary key); create index legacy_${v}_idx on public.legacy_${v} (id);`);
  });
  afterAll(() => db.drop());

  let before: Report;
  it("check: 78 remote_only, 11 out_of_order with their objects present; fetch the 78, mark the 11 applied", async () => {
    const r = await run("check", "--format", "json");
    expect(r.status).toBe(1);
    before = JSON.parse(r.stdout);
    expect(before.summary).toMatchObject({ remote_only: 78, out_of_order: 11, in_sync: 0 });
    for (const m of before.migrations.filter((m) => m.state === "out_of_order")) {
      expect(m.evidence).toMatchObject({ verdict: "identical", basis: "definition" });
      expect(m.evidence!.objects.map((o) => o.name)).toContain(`public.legacy_${m.version}`);
    }
    expect(before.actions.map((a) => [a.kind, a.versions.length])).toEqual([["fetch", 78], ["mark_applied", 11], ["ledger_ack", 0]]);
    // The DDL ledger saw the legacy SQL run by hand (untracked); the 78 pushed migrations are tracked.
    expect(before.untracked_changes.map((g) => g.object)).toEqual(LEGACY.flatMap((v) => [
      `table public.legacy_${v}`, `index public.legacy_${v}_pkey`, `index public.legacy_${v}_idx`,
    ]));
    expect(before.actions[1].command).toBe(`drift-guard repair --mark-applied ${LEGACY.join(" ")} --reason "<why>"`);
    expect(before.actions.map((a) => a.command).join("\n")).not.toMatch(/--status reverted|--mark-reverted/);
  });

  let plannedDigest: string;
  let plannedPlanDigest: string;
  let auditId: string;
  it("fetch writes the 78, then the plan previews inserts for the 11 and writes nothing", async () => {
    const f = await run("fetch");
    expect(f.status).toBe(0);
    expect(f.stdout).toMatch(/78 file\(s\) written/);
    const plan = await run("repair", "--mark-applied", ...LEGACY, "--reason", "seed incident: SQL ran by hand in 2025", "--format", "json");
    expect(plan.status).toBe(0);
    const p = JSON.parse(plan.stdout);
    expect(p.dry_run).toBe(true);
    expect(p.audit_id).toBeNull();
    expect(p.changes).toEqual(LEGACY.map((v) => ({ op: "insert", version: v, name: `legacy_${v}`, statements_checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) })));
    expect(p.history_digest).toBe(before.history_digest);
    plannedDigest = p.history_digest;
    plannedPlanDigest = p.plan_digest;
    const [{ n }] = await db.sql`select count(*)::int as n from supabase_migrations.schema_migrations`;
    expect(n).toBe(78);
  });

  it("apply against the previewed digest; then the Supabase CLI agrees everything is paired and up to date", async () => {
    const applied = await run("repair", "--mark-applied", ...LEGACY, "--reason", "seed incident: SQL ran by hand in 2025", "--apply", "--expect-digest", plannedDigest, "--expect-plan-digest", plannedPlanDigest, "--format", "json");
    expect(applied.status).toBe(0);
    const a = JSON.parse(applied.stdout);
    expect(a.dry_run).toBe(false);
    expect(a.history_digest).not.toBe(plannedDigest);
    expect(a.ledger_linked).toBe(33); // each legacy table, its primary key's index and its index
    auditId = a.audit_id;

    const after = await run("check", "--format", "json");
    expect(after.status).toBe(0);
    expect(JSON.parse(after.stdout).summary.in_sync).toBe(89);

    const list = supabaseList(db.url, project);
    expect(list.local).toEqual(list.remote);
    expect(list.local).toHaveLength(89);
    const dry = supabase(["db", "push", "--db-url", db.url, "--dry-run"], project);
    expect(dry.status).toBe(0);
    expect(dry.stdout + dry.stderr).toMatch(/up to date/i);
  });

  it("the audit shows the reason; undo restores the previous history exactly", async () => {
    const audit = JSON.parse((await run("audit", "--format", "json")).stdout);
    expect(audit[0]).toMatchObject({ id: auditId, kind: "repair", reason: "seed incident: SQL ran by hand in 2025", digest_before: plannedDigest });
    const undo = await run("undo", "--audit-id", auditId, "--reason", "rehearsal", "--format", "json");
    expect(undo.status).toBe(0);
    expect(JSON.parse(undo.stdout).history_digest).toBe(plannedDigest);
    const check = JSON.parse((await run("check", "--format", "json")).stdout);
    expect(check.history_digest).toBe(plannedDigest);
    expect(check.summary).toMatchObject({ out_of_order: 11, in_sync: 78 });
  });
});
