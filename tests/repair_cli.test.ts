/** `drift-guard repair / undo / fetch` through the real CLI, with the Supabase CLI as oracle where it has an equivalent. */
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { canonicalChecksum } from "../shared/checksum.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject, supabasePush, supabaseRepair } from "./harness/supabase_cli.ts";

const FILES = {
  "20240101000000_base.sql": "create table public.base(id int);",
  "20240102000000_more.sql": "-- a comment first\ncreate table public.more(id int); insert into public.more values (1);",
};
const REPAIR_LOCK_KEY = "7225869907141945714";

async function setup(label: string, install = true) {
  const db = await createTestDatabase(label);
  const project = makeProject(FILES);
  supabasePush(db.url, project);
  if (install) expect((await runCli(["install", "--db-url", db.url])).status).toBe(0);
  const run = (...args: string[]) => runCli(args, { cwd: project, env: { SUPABASE_DB_URL: db.url } });
  return { db, project, run };
}

const digestOf = (r: { stdout: string }) => JSON.parse(r.stdout).history_digest as string;
/** The flags that apply exactly the reviewed plan (a --format json dry run): its plan digest pins history and content. */
const applyFlags = (r: { stdout: string }) => ["--apply", "--expect-digest", JSON.parse(r.stdout).plan_digest as string];
const rows = (db: TestDatabase) => db.sql`select version, name, statements from supabase_migrations.schema_migrations order by version`;

describe("mark applied", () => {
  it("writes exactly the row `supabase migration repair --status applied` writes", async () => {
    const ours = await setup("mark_ours");
    const theirs = await setup("mark_theirs", false);
    const file = "20240103000000_handmade.sql";
    const text = "/* ran by hand */\ncreate function public.f() returns int language sql begin atomic select 1; end;\nselect 'x;y';\r\n";
    for (const p of [ours.project, theirs.project]) writeFileSync(join(p, "supabase/migrations", file), text);
    const plan = await ours.run("repair", "--mark-applied", "20240103000000", "--reason", "hand-run", "--format", "json");
    expect((await ours.run("repair", "--mark-applied", "20240103000000", "--reason", "hand-run", ...applyFlags(plan))).status).toBe(0);
    supabaseRepair(theirs.db.url, theirs.project, "applied", ["20240103000000"]);
    expect(await rows(ours.db)).toEqual(await rows(theirs.db));
    await ours.db.drop();
    await theirs.db.drop();
  });
});

describe("the reviewed plan pins its content", () => {
  it("a file swapped after review is refused with exit 4 and nothing is written", async () => {
    const { db, project, run } = await setup("plan_pin");
    try {
      const file = join(project, "supabase/migrations", "20240103000000_handmade.sql");
      writeFileSync(file, "create table public.handmade (id int);\n");
      const plan = await run("repair", "--mark-applied", "20240103000000", "--reason", "hand-run", "--format", "json");
      const planned = JSON.parse(plan.stdout);
      expect(planned.plan_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(planned.changes).toEqual([{ op: "insert", version: "20240103000000", name: "handmade", statements_checksum: canonicalChecksum("create table public.handmade (id int);") }]);
      const text = await run("repair", "--mark-applied", "20240103000000", "--reason", "hand-run");
      expect(text.stdout).toContain(`Plan digest ${planned.plan_digest}`);
      expect(text.stdout).toContain(`statements ${planned.changes[0].statements_checksum}`);
      expect(text.stdout).toContain(`--apply --expect-digest ${planned.plan_digest}`);

      const before = await rows(db);
      writeFileSync(file, "grant all on all tables in schema public to anon;\n");
      const swapped = await run("repair", "--mark-applied", "20240103000000", "--reason", "hand-run", ...applyFlags(plan));
      expect(swapped.status, swapped.stderr).toBe(4);
      expect(swapped.stderr).toMatch(/plan changed since it was reviewed/);
      expect(await rows(db)).toEqual(before);
      // The history digest alone is no longer enough to apply.
      const historyOnly = await run("repair", "--mark-applied", "20240103000000", "--reason", "hand-run", "--apply", "--expect-digest", digestOf(plan));
      expect(historyOnly.status).toBe(2);
      expect(historyOnly.stderr).toMatch(/history digest, which does not pin what the repair writes/);
      expect(await rows(db)).toEqual(before);
      // Both digests, each in its own flag, pin the same: the swapped file is still refused.
      const both = await run("repair", "--mark-applied", "20240103000000", "--reason", "hand-run", "--apply", "--expect-digest", digestOf(plan), "--expect-plan-digest", planned.plan_digest);
      expect(both.status).toBe(4);
      expect(await rows(db)).toEqual(before);
    } finally {
      await db.drop();
      rmSync(project, { recursive: true, force: true });
    }
  });
});

describe("mark reverted", () => {
  it("deletes the row as `--status reverted` does; the audit keeps it and undo brings it back", async () => {
    const ours = await setup("revert_ours");
    const theirs = await setup("revert_theirs", false);
    const original = await rows(ours.db);
    const plan = await ours.run("repair", "--mark-reverted", "20240102000000", "--reason", "never ran here", "--format", "json");
    expect(JSON.parse(plan.stdout).changes).toEqual([{ op: "delete", version: "20240102000000", name: "more", statements_checksum: null }]);
    const applied = await ours.run("repair", "--mark-reverted", "20240102000000", "--reason", "never ran here", ...applyFlags(plan), "--format", "json");
    expect(applied.status).toBe(0);
    supabaseRepair(theirs.db.url, theirs.project, "reverted", ["20240102000000"]);
    expect(await rows(ours.db)).toEqual(await rows(theirs.db));

    const [audit] = await ours.db.sql`select rows_before from drift_guard.audit_log where id = ${JSON.parse(applied.stdout).audit_id}`;
    expect(JSON.stringify(audit.rows_before)).toContain("insert into public.more values (1)");
    expect((await ours.run("undo", "--audit-id", JSON.parse(applied.stdout).audit_id, "--reason", "it did run")).status).toBe(0);
    expect(await rows(ours.db)).toEqual(original);
    await ours.db.drop();
    await theirs.db.drop();
  });
});

describe("guards", () => {
  it("bad input changes nothing and says why", async () => {
    const { db, run } = await setup("guards");
    const before = await rows(db);
    const cases: Array<[string[], number, RegExp]> = [
      [["repair", "--mark-applied", "99990101000000", "--reason", "x"], 2, /no local migration file has that version/],
      [["repair", "--mark-reverted", "99990101000000", "--reason", "x"], 2, /not in the migration history/],
      [["repair", "--mark-applied", "abc", "--reason", "x"], 2, /not a migration version/],
      [["repair", "--mark-applied", "20240101000000"], 2, /reason is required/],
      [["repair", "--mark-applied", "20240101000000", "--reason", "   "], 2, /reason is required/],
      [["repair", "--mark-applied", "20240101000000", "--reason", "x", "--apply"], 2, /--apply needs --expect-digest P: the plan_digest/],
      [["repair", "--mark-reverted", "20240101000000", "--reason", "x", "--apply", "--expect-digest", `sha256:${"0".repeat(64)}`], 4, /plan changed since it was reviewed/],
      [["repair", "--mark-applied", "20240101000000", "--mark-reverted", "20240102000000", "--reason", "x"], 2, /not both/],
      [["repair", "--reason", "x"], 2, /nothing to repair/],
      [["repair", "--mark-reverted", "20240101000000", "--reason", "x", "--apply", "--expect-digest", `sha256:${"0".repeat(64)}`, "--expect-plan-digest", `sha256:${"0".repeat(64)}`], 4, /history changed since the plan/],
      [["repair", "--mark-reverted", "20240101000000", "--reason", "x", "--apply", "--expect-plan-digest", `sha256:${"0".repeat(64)}`], 4, /plan changed since it was reviewed/],
      [["undo", "--audit-id", "00000000-0000-0000-0000-000000000000", "--reason", "x"], 2, /audit/],
    ];
    for (const [args, code, message] of cases) {
      const r = await run(...args);
      expect(r.status, args.join(" ")).toBe(code);
      expect(r.stderr, args.join(" ")).toMatch(message);
    }
    expect(await rows(db)).toEqual(before);
    const [{ n }] = await db.sql`select count(*)::int as n from drift_guard.audit_log`;
    expect(n).toBe(0);
    await db.drop();
  });

  it("a database without our schema: apply says to run drift-guard install", async () => {
    const { db, run } = await setup("no_schema", false);
    const plan = await run("repair", "--mark-reverted", "20240101000000", "--reason", "x", "--format", "json");
    expect(plan.status).toBe(0);
    const r = await run("repair", "--mark-reverted", "20240101000000", "--reason", "x", ...applyFlags(plan));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/run drift-guard install/);
    expect(await rows(db)).toHaveLength(2);
    await db.drop();
  });

  it("a user without rights: exit 3 naming the missing privilege", async () => {
    const { db, project } = await setup("rights");
    await db.sql.unsafe(`drop role if exists dg_limited; create role dg_limited login password 'limited-pw'; grant connect on database "${db.name}" to dg_limited`);
    const url = db.url.replace(/postgres:[^@]+@/, "dg_limited:limited-pw@");
    const r = await runCli(["check", "--db-url", url], { cwd: project });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/permission denied for schema supabase_migrations/);
    expect(r.stderr).not.toContain("limited-pw");
    await db.drop();
  });

  it("another repair holding the lock: exit 4, naming its application_name and start time", async () => {
    const { db, run } = await setup("lock");
    const holder = postgres(db.url, { max: 1, connection: { application_name: "colleague-laptop-repair" }, onnotice: () => {} });
    const plan = await run("repair", "--mark-reverted", "20240101000000", "--reason", "x", "--format", "json");
    await holder.begin(async (tx) => {
      await tx.unsafe(`select pg_advisory_xact_lock(${REPAIR_LOCK_KEY})`);
      const r = await runCli(["repair", "--mark-reverted", "20240101000000", "--reason", "x", ...applyFlags(plan)], { env: { SUPABASE_DB_URL: db.url }, cwd: undefined });
      expect(r.status).toBe(4);
      expect(r.stderr).toMatch(/colleague-laptop-repair/);
      expect(r.stderr).toMatch(/20\d\d-\d\d-\d\d/);
    });
    await holder.end();
    expect(await rows(db)).toHaveLength(2);
    await db.drop();
  });

  it("two concurrent applies of one plan: exactly one wins, the other exits 4", async () => {
    const { db, project } = await setup("concurrent");
    const env = { SUPABASE_DB_URL: db.url };
    const plan = await runCli(["repair", "--mark-reverted", "20240101000000", "--reason", "race", "--format", "json"], { cwd: project, env });
    const args = ["repair", "--mark-reverted", "20240101000000", "--reason", "race", ...applyFlags(plan)];
    const results = await Promise.all([runCli(args, { cwd: project, env }), runCli(args, { cwd: project, env })]);
    expect(results.map((r) => r.status).sort()).toEqual([0, 4]);
    const [{ n }] = await db.sql`select count(*)::int as n from drift_guard.audit_log`;
    expect(n).toBe(1);
    await db.drop();
  });
});

describe("fetch", () => {
  it("writes remote-only migrations that check in_sync and split back identically", async () => {
    const { db, run, project } = await setup("fetch");
    await db.sql`insert into supabase_migrations.schema_migrations(version, name, statements)
      values ('20240301000000', 'dash', array['create table public.d(id int) -- trailing comment', 'select $$a;b$$'])`;
    const r = await run("fetch");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/wrote supabase\/migrations\/20240301000000_dash\.sql/);
    expect(r.stdout).not.toMatch(/warning/);
    expect((await run("check")).status).toBe(0);
    expect((await run("fetch", "20240101000000")).status).toBe(2);
    expect((await run("fetch", "123")).status).toBe(2);
    expect(project).toBeTruthy();
    await db.drop();
  });

  it("never writes outside the migrations folder, through a symlink, or over a file", async () => {
    const { db, run, project } = await setup("fetch_escape");
    const outside = mkdtempSync(join(tmpdir(), "drift-guard-outside-"));
    try {
      const migrations = join(project, "supabase/migrations");
      // A version that climbs out of the folder, with SQL chosen by whoever wrote the row.
      await db.sql`insert into supabase_migrations.schema_migrations(version, name, statements)
        values ('../../../escaped', 'pwn', array['grant all on all tables in schema public to anon'])`;
      // A dangling symlink where a fetched file would go.
      const target = join(outside, "written-through.sql");
      symlinkSync(target, join(migrations, "20240401000000_link.sql"));
      await db.sql`insert into supabase_migrations.schema_migrations(version, name, statements)
        values ('20240401000000', 'link', array['select 1'])`;
      // A name too long for any file system, and one ordinary row that must still be written.
      await db.sql`insert into supabase_migrations.schema_migrations(version, name, statements)
        values ('20240402000000', ${"n".repeat(300)}, array['select 2']), ('20240403000000', 'fine', array['select 3'])`;

      const r = await run("fetch");
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/skipped \.\.\/\.\.\/\.\.\/escaped: its version is not digits/);
      expect(r.stderr).toMatch(/skipped 20240401000000: .*already exists \(a file or a symlink\)/);
      expect(r.stderr).toMatch(/skipped 20240402000000: its file name is too long/);
      expect(r.stderr).not.toMatch(/unexpected error/);
      expect(r.stdout).toMatch(/wrote supabase\/migrations\/20240403000000_fine\.sql/);
      expect(r.stdout).toMatch(/1 file\(s\) written, 3 skipped/);
      expect(existsSync(target)).toBe(false);
      for (const up of [join(project, ".."), join(project, "../.."), join(project, "../../..")]) {
        expect(readdirSync(up).filter((f) => f.includes("escaped"))).toEqual([]);
      }
      expect(readdirSync(join(project, "supabase")).filter((f) => f.includes("escaped"))).toEqual([]);
    } finally {
      await db.drop();
      rmSync(project, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("check, fetch, repair and audit show ESC/OSC sequences from names and reasons escaped", async () => {
    const { db, run, project } = await setup("terminal_escape");
    try {
      const evil = "x\x1b]0;pwned\x07\x1b[2J";
      await db.sql`insert into supabase_migrations.schema_migrations(version, name, statements) values ('20240501000000', ${evil}, array['select 5'])`;
      const outputs = [await run("check"), await run("fetch")];
      const plan = await run("repair", "--mark-reverted", "20240501000000", "--reason", `because\x1b[31m red`, "--format", "json");
      outputs.push(await run("repair", "--mark-reverted", "20240501000000", "--reason", `because\x1b[31m red`));
      outputs.push(await run("repair", "--mark-reverted", "20240501000000", "--reason", `because\x1b[31m red`, ...applyFlags(plan)));
      outputs.push(await run("audit"));
      for (const r of outputs) {
        expect(r.stdout + r.stderr).not.toMatch(/[\x07\x1b]/);
      }
      expect(outputs[0].stdout).toContain("x\\x1b]0;pwned\\x07\\x1b[2J");
      expect(outputs[1].stderr).toMatch(/skipped 20240501000000: its name "x\\x1b/);
      expect(outputs.at(-1)!.stdout).toContain("because\\x1b[31m red");
    } finally {
      await db.drop();
      rmSync(project, { recursive: true, force: true });
    }
  });
});
