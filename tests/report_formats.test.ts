/**
 * `check --format markdown | junit`: snapshots of a fixed report, the JUnit read
 * back by a real XML parser, Markdown that no name can break, and `--output FILE`
 * through the real CLI (the file gets the format, the terminal gets text).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDrift } from "../shared/drift.ts";
import { parseMigrationFiles } from "../shared/migration_files.ts";
import { renderReport } from "../shared/report_formats/index.ts";
import { formatJunit } from "../shared/report_formats/junit.ts";
import { formatMarkdown } from "../shared/report_formats/markdown.ts";
import { codeSpan, prose } from "../shared/report_formats/markdown_escape.ts";
import type { Evidence, RemoteMigration, Report } from "../shared/types.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const enc = new TextEncoder();
const file = (fileName: string, sql: string | Uint8Array) => ({
  path: `supabase/migrations/${fileName}`,
  fileName,
  bytes: typeof sql === "string" ? enc.encode(sql) : sql,
});

/** A report with every state, evidence, a warning, and a name built to break markup. */
function fixedReport(): Report {
  const hostileName = "pipes_|_<b>tags</b>_&_`ticks`_\"quotes\"";
  const parsed = parseMigrationFiles([
    file("004_automation_rules.sql", "create table public.automation_rules (id uuid primary key);\ncreate index automation_rules_event_idx on public.automation_rules (id);\n"),
    file("005_legacy_seed_data.sql", "insert into public.settings values (1);\n"),
    file("20240101000000_init.sql", "create table public.accounts (id bigint primary key);\n"),
    file("20240102000000_add_email.sql", "alter table public.accounts add column email citext;\n"),
    file("20240103000000_new_name.sql", "create index accounts_email_idx on public.accounts (email);\n"),
    file(`20240201000000_${hostileName}.sql`, "select 1;\n"),
    file("notes.txt", "not a migration"),
  ]);
  const remote: RemoteMigration[] = [
    { version: "20240101000000", name: "init", statements: ["create table public.accounts (id bigint primary key)"] },
    { version: "20240102000000", name: "add_email", statements: ["alter table public.accounts add column email text"] },
    { version: "20240103000000", name: "old_name", statements: ["create index accounts_email_idx on public.accounts (email)"] },
    { version: "20240105000000", name: "remote_only_feature", statements: ["create table public.feature (id int)"] },
  ];
  const evidence = new Map<string, Evidence>([
    ["004", {
      verdict: "identical",
      basis: "definition",
      objects: [
        { kind: "table", name: "public.automation_rules", present: true, state: "identical" },
        { kind: "index", name: "automation_rules_event_idx on public.automation_rules", present: true, state: "identical" },
      ],
    }],
  ]);
  return computeDrift({ local: parsed.migrations, remote, problems: parsed.problems, evidence });
}

const report = fixedReport();
const drifted = report.migrations.filter((m) => m.state !== "in_sync");

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", textNodeName: "#text", isArray: (name) => ["testsuite", "testcase", "property"].includes(name) });

interface JunitCase {
  name: string;
  classname: string;
  file?: string;
  failure?: { type: string; message: string; "#text": string };
  error?: { type: string; message: string; "#text": string };
  skipped?: { message: string } | string;
}
interface JunitSuite {
  name: string;
  tests: string;
  failures: string;
  errors: string;
  skipped: string;
  testcase?: JunitCase[];
  properties?: { property: Array<{ name: string; value: string }> };
}
const parseJunit = (text: string) => xml.parse(text).testsuites as { tests: string; failures: string; errors: string; testsuite: JunitSuite[] };

describe("the fixed report", () => {
  it("has every drift state, so the snapshots cover them all", async () => {
    expect(report.summary).toEqual({ in_sync: 1, edited: 1, renamed: 1, pending: 1, out_of_order: 2, remote_only: 1 });
    expect(report.problems).toEqual([expect.objectContaining({ level: "warning", file: "supabase/migrations/notes.txt" })]);
  });
});

describe("markdown", () => {
  const md = formatMarkdown(report);

  it("matches the snapshot", async () => {
    await expect(md).toMatchFileSnapshot("__snapshots__/report_formats.drift.md");
  });

  it("has one table row per drifted migration, and no name adds a column or markup", async () => {
    const rows = md.split("\n").filter((l) => /^\| `/.test(l));
    expect(rows).toHaveLength(drifted.length);
    for (const row of rows) {
      // Five cells: six unescaped pipes.
      expect(row.match(/(?<!\\)\|/g)).toHaveLength(6);
    }
    // Outside code spans, no raw tag survives.
    const outsideCode = md.replace(/(`+)[\s\S]*?\1/g, "");
    expect(outsideCode).not.toMatch(/<b>/);
    expect(outsideCode.replace(/<\/?sub>/g, "")).not.toMatch(/<[a-z/]/i);
  });

  it("shows the evidence and each fix with its command", async () => {
    expect(md).toContain("- `004`: **identical** ✓ table `public.automation_rules`, ✓ index `automation_rules_event_idx on public.automation_rules`");
    for (const a of report.actions) expect(md).toContain(`   ${a.command}`);
  });

  it("in sync: a one-line verdict and the counts", async () => {
    const inSync = computeDrift({
      local: parseMigrationFiles([file("1_a.sql", "select 1;")]).migrations,
      remote: [{ version: "1", name: "a", statements: ["select 1"] }],
    });
    await expect(formatMarkdown(inSync)).toMatchFileSnapshot("__snapshots__/report_formats.in_sync.md");
    expect(formatMarkdown(inSync)).toMatch(/^## ✅ Migrations in sync: 1 migration\(s\) match the history\n/);
  });

  it("an error in the files is called out even when the history is in sync", async () => {
    const bad = computeDrift({ local: [], remote: [], problems: [{ level: "error", file: "supabase/migrations/2_b.sql", message: "duplicate version 2" }] });
    expect(formatMarkdown(bad)).toMatch(/^## ⚠️ Migrations in sync, but 1 file error\(s\) must be fixed/);
  });

  it("code spans hold any backticks; prose escapes tags outside code", async () => {
    expect(codeSpan("a`b")).toBe("``a`b``");
    expect(codeSpan("`x`")).toBe("`` `x` ``");
    expect(prose("run `a <b>` not <script>")).toBe("run `a <b>` not &lt;script>");
    expect(prose("_init_ *bold* [link](x) a_b ~x~ back\\slash")).toBe("\\_init\\_ \\*bold\\* \\[link\\](x) a_b \\~x\\~ back\\\\slash");
  });
});

describe("junit", () => {
  const text = formatJunit(report);

  it("matches the snapshot", async () => {
    await expect(text).toMatchFileSnapshot("__snapshots__/report_formats.drift.junit.xml");
  });

  it("is well-formed XML", async () => {
    expect(XMLValidator.validate(text)).toBe(true);
  });

  it("one testcase per migration; a failure with an explanation for each drifted one", async () => {
    const root = parseJunit(text);
    const history = root.testsuite.find((s) => s.name === "migration history")!;
    const cases = history.testcase!;
    expect(cases.map((c) => c.name)).toEqual(report.migrations.map((m) => `${m.version}_${m.name}`));
    expect(history.tests).toBe(String(report.migrations.length));
    expect(history.failures).toBe(String(drifted.length));
    expect(root.failures).toBe(String(drifted.length));
    expect(history.properties!.property).toContainEqual({ name: "history_digest", value: report.history_digest });

    for (const m of report.migrations) {
      const c = cases.find((x) => x.name === `${m.version}_${m.name}`)!;
      expect(c.classname).toBe("drift-guard.migrations");
      expect(c.file).toBe(m.local?.path);
      if (m.state === "in_sync") {
        expect(c.failure).toBeUndefined();
        continue;
      }
      expect(c.failure!.type).toBe(m.state);
      expect(c.failure!.message).toMatch(new RegExp(`^${m.version} is ${m.state}: .+`));
      const body = c.failure!["#text"];
      expect(body).toContain(`is ${m.state}`);
      // Every fix that names this version, with its command.
      for (const a of report.actions.filter((a) => a.versions.includes(m.version))) {
        expect(body).toContain(a.explain);
        expect(body).toContain(`$ ${a.command}`);
      }
      expect(body).toMatch(/\$ (drift-guard|supabase|git) /);
    }
  });

  it("an out_of_order migration without evidence gets both fixes, not just the last one", async () => {
    const c = parseJunit(text).testsuite[0].testcase!.find((x) => x.name === "005_legacy_seed_data")!;
    expect(c.failure!["#text"]).toMatch(/--mark-applied [0-9 ]*\b005\b/);
    expect(c.failure!["#text"]).toContain("supabase db push --include-all");
  });

  it("names with markup characters survive the round trip", async () => {
    const hostile = report.migrations.find((m) => m.state === "pending")!;
    const names = parseJunit(text).testsuite[0].testcase!.map((c) => c.name);
    expect(names).toContain(`${hostile.version}_${hostile.name}`);
    expect(hostile.name).toContain("<b>");
  });

  it("problems get their own suite: warnings skipped, errors as errors", async () => {
    const parsed = parseMigrationFiles([file("1_a.sql", "select 1"), file("1_b.sql", "select 2"), file("readme.md", "x")]);
    const r = computeDrift({ local: parsed.migrations, remote: [], problems: parsed.problems });
    const root = parseJunit(formatJunit(r));
    const files = root.testsuite.find((s) => s.name === "migration files")!;
    expect(files.tests).toBe("3");
    expect(root.errors).toBe("2");
    const bad = files.testcase!.find((c) => c.file === "supabase/migrations/1_a.sql")!;
    expect(bad.error!.message).toMatch(/duplicate version 1/);
    expect(files.testcase!.find((c) => c.file === "supabase/migrations/readme.md")!.skipped).toBeDefined();
  });

  it("in sync: no failures", async () => {
    const inSync = computeDrift({ local: parseMigrationFiles([file("1_a.sql", "select 1;")]).migrations, remote: [{ version: "1", name: "a", statements: ["select 1"] }] });
    const root = parseJunit(formatJunit(inSync));
    expect(root.failures).toBe("0");
    expect(root.testsuite[0].testcase).toEqual([{ classname: "drift-guard.migrations", name: "1_a", file: "supabase/migrations/1_a.sql" }]);
  });
});

describe("hostile names, reasons and messages", () => {
  const injected = "x\n\n## Approved by security team\n![x](https://evil.example/p.png)";
  const terminal = "y\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x1b[2J\x9b31m\u202eevil";
  function hostileReport(): Report {
    const parsed = parseMigrationFiles([file("1_a.sql", "select 1;\n")]);
    return computeDrift({
      local: parsed.migrations,
      remote: [
        { version: "1", name: injected, statements: ["select 1"] }, // renamed: the name reaches detail and the git mv command
        { version: "2", name: terminal, statements: ["select 2"] }, // remote_only
      ],
      problems: [{ level: "warning", file: terminal, message: injected }],
    });
  }
  const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

  it("markdown: no heading, image or raw newline from a name; no control character", async () => {
    const md = formatMarkdown(hostileReport());
    const lines = md.split("\n");
    expect(lines.filter((l) => /^\s{0,3}#{1,6}\s/.test(l)).every((l) => /^#{2,3} (❌|🕓|⚠️|✅|Evidence|Problems|How to fix)/u.test(l)), md).toBe(true);
    expect(lines.some((l) => /Approved by security team/.test(l) && !/^\|/.test(l) && !/^- /.test(l) && !/^\d+\. /.test(l) && !/^ {3}/.test(l)), md).toBe(false);
    // Outside code blocks and code spans, no image or link syntax survives unescaped.
    const outsideCode = md.replace(/^ *(`{3,})[^\n]*\n[\s\S]*?^ *\1$/gm, "").replace(/(`+)[^`]*?\1/g, "");
    expect(outsideCode).not.toMatch(/(^|[^\\])!\[x(\\)?\]\(/m);
    for (const line of lines) expect(line, line).not.toMatch(CONTROL);
    expect(md).toContain("\\x1b]8;;");
  });

  it("text: control characters are shown as escapes, never sent to the terminal", async () => {
    const text = renderReport(hostileReport(), "text");
    for (const line of text.split("\n")) expect(line, line).not.toMatch(CONTROL);
    expect(text).toContain("y\\x1b]8;;https://evil.example\\x07click");
    expect(text).toContain("\\x9b31m\\u202eevil");
    expect(text).not.toMatch(/^## Approved/m);
  });

  it("junit: still well-formed XML with nothing XML cannot carry", async () => {
    const out = formatJunit(hostileReport());
    expect(XMLValidator.validate(out)).toBe(true);
    expect(out).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f]/);
    const parsed = xml.parse(out);
    const names = parsed.testsuites.testsuite[0].testcase.map((c: JunitCase) => c.name);
    expect(names).toContain(`1_a`);
    expect(names.some((n: string) => n.includes("click"))).toBe(true);
  });
});

describe("check --output FILE (the real CLI)", () => {
  let db: TestDatabase;
  let project: string;
  let out: string;
  beforeAll(async () => {
    db = await createTestDatabase("formats");
    project = makeProject({ "20240101000000_a.sql": "create table a(id int);", "20240102000000_b.sql": "create table b(id int);" });
    supabasePush(db.url, project);
    writeFileSync(join(project, "supabase/migrations/20240101000000_a.sql"), "create table a(id bigint);");
    writeFileSync(join(project, "supabase/migrations/20240103000000_c.sql"), "create table c(id int);");
    out = mkdtempSync(join(tmpdir(), "drift-guard-formats-"));
  });
  afterAll(async () => {
    await db?.drop();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const terminalText = (stdout: string) => {
    expect(stdout.split("\n")[0]).toBe("drift: 2 of 3 migration(s) differ from the history");
    expect(stdout).toMatch(/20240101000000\s+edited\s+a\s+file changed after it was applied/);
  };

  it("markdown to the file, text to the terminal, exit 1 on drift", async () => {
    const path = join(out, "drift.md");
    const r = await runCli(["check", "--db-url", db.url, "--format", "markdown", "--output", path], { cwd: project });
    expect(r.status).toBe(1);
    terminalText(r.stdout);
    const md = readFileSync(path, "utf8");
    expect(md).toMatch(/^## ❌ Migration drift: 2 of 3 migration\(s\) differ from the history\n/);
    expect(md).toContain("| `20240101000000` | edited | `a` | file changed after it was applied | `supabase/migrations/20240101000000_a.sql` |");
    expect(md).toContain("| `20240103000000` | pending | `c` |");
    expect(r.stdout).not.toContain("##");
  });

  it("junit to the file: one testcase per migration, failures for the drifted", async () => {
    const path = join(out, "drift.xml");
    const r = await runCli(["check", "--db-url", db.url, "--format", "junit", "--output", path], { cwd: project });
    expect(r.status).toBe(1);
    terminalText(r.stdout);
    const root = parseJunit(readFileSync(path, "utf8"));
    const cases = root.testsuite[0].testcase!;
    expect(cases.map((c) => [c.name, c.failure?.type ?? "ok"])).toEqual([
      ["20240101000000_a", "edited"],
      ["20240102000000_b", "ok"],
      ["20240103000000_c", "pending"],
    ]);
  });

  it("json to the file parses as the contract's report", async () => {
    const path = join(out, "drift.json");
    const r = await runCli(["check", "--db-url", db.url, "--format", "json", "--output", path], { cwd: project });
    expect(r.status).toBe(1);
    terminalText(r.stdout);
    const json = JSON.parse(readFileSync(path, "utf8"));
    expect(json).toMatchObject({ status: "drift", summary: { in_sync: 1, edited: 1, pending: 1 } });
  });

  it("to stdout without --output: the format itself", async () => {
    const r = await runCli(["check", "--db-url", db.url, "--format", "markdown"], { cwd: project });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^## ❌ Migration drift/);
  });
});
