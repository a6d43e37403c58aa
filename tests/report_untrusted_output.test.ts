/**
 * Output that cannot be turned against its reader: every field that comes from a file,
 * the database or a caller is rendered by a real Markdown renderer (markdown-it, with raw
 * HTML and linkify on) and by a real XML parser, and no HTML, link or element comes from it.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import MarkdownIt from "markdown-it";
import { describe, expect, it } from "vitest";
import { computeDrift } from "../shared/drift.ts";
import { parseMigrationFiles } from "../shared/migration_files.ts";
import { formatJunit } from "../shared/report_formats/junit.ts";
import { renderLedger } from "../shared/report_formats/ledger.ts";
import { formatMarkdown } from "../shared/report_formats/markdown.ts";
import { codeSpan, prose } from "../shared/report_formats/markdown_escape.ts";
import { formatText } from "../shared/report_formats/text.ts";
import type { LedgerEntry } from "../shared/ledger.ts";
import type { Report } from "../shared/types.ts";

const HOSTILE = [
  "``<img src=x onerror=alert(1)>`",
  "`<img src=x onerror=alert(2)>``",
  "x`` <b>bold</b>",
  "[click](https://evil.invalid/a)",
  "![i](https://evil.invalid/i.png)",
  "<https://evil.invalid/auto>",
  "see https://evil.invalid/bare and www.evil.invalid",
  "mail a@evil.invalid",
  "<script>alert(3)</script>",
  "a\n# heading\n<div>block</div>",
  "\\`<i>escaped</i>",
];

function hostileReport(field: string): Report {
  const enc = new TextEncoder();
  const parsed = parseMigrationFiles([
    { path: "supabase/migrations/20240101000000_init.sql", fileName: "20240101000000_init.sql", bytes: enc.encode("create table a (id int);") },
  ]);
  const base = computeDrift({ local: parsed.migrations, remote: [{ version: "20240102000000", name: field, statements: ["select 1"] }], problems: [] });
  return {
    ...base,
    migrations: base.migrations.map((m) => ({
      ...m,
      name: field,
      ...(m.local ? { local: { ...m.local, path: `supabase/migrations/${field}` } } : {}),
      evidence: { verdict: "different", basis: "definition", reason: field, differences: [field], objects: [{ kind: "table", name: field, present: true, state: "different" }],
        live_migration: { file: field, version: m.version, sql: `-- ${field}\ncreate table a (\n  id int\n);\n`, notes: [field] } },
    })),
    problems: [{ level: "error", file: field, message: `${field} is wrong` }, { level: "warning", file: "x.sql", message: field }],
    actions: [{ kind: "fetch", versions: ["20240102000000"], explain: `fetch ${field}`, command: `drift-guard fetch ${field}` }],
    untracked_changes: [{
      object: `table ${field}`, object_type: "table", object_identity: field, schema: "public", first_at: "2025-01-01T00:00:00Z", last_at: "2025-01-01T00:00:00Z",
      who: [`postgres via ${field} from 127.0.0.1`], changes: [],
    }],
  } as Report;
}

const md = new MarkdownIt({ html: true, linkify: true });

/** Every token markdown-it makes, inline children included. */
function tokens(markdown: string) {
  return md.parse(markdown, {}).flatMap((t) => [t, ...(t.children ?? [])]);
}

function assertInert(markdown: string) {
  const all = tokens(markdown);
  // The one tag drift-guard writes itself: the footer's <sub>.
  const bad = all.filter((t) => (t.type.startsWith("html_") && !/^<\/?sub>$/.test(t.content)) || t.type === "link_open" || t.type === "image");
  expect(bad.map((t) => `${t.type} ${t.content}`), markdown).toEqual([]);
  const rendered = md.render(markdown);
  expect(rendered).not.toMatch(/<(img|script|b|i|div|a|h1)\b/);
}

describe("markdown", () => {
  it.each(HOSTILE)("no HTML or link from an untrusted field: %j", (field) => {
    assertInert(formatMarkdown(hostileReport(field)));
  });

  it.each(HOSTILE)("the ledger listing is inert too: %j", (field) => {
    const entry = {
      id: "1", recorded_at: "2025-01-01T00:00:00Z", status: "untracked", object_identity: field, object_type: "table", command_tag: "CREATE TABLE",
      session_user: field, application_name: field, client_addr: null, statement: field, tracked_by: [], linked_version: null,
    } as unknown as LedgerEntry;
    assertInert(renderLedger([entry], "markdown"));
  });

  it("a code span's fence is longer than any backtick run inside it", () => {
    const span = codeSpan("a ``` b ` c");
    expect(span.startsWith("````")).toBe(true);
    const [code] = tokens(span).filter((t) => t.type === "code_inline");
    expect(code.content).toBe("a ``` b ` c");
  });

  it("prose keeps balanced code spans and escapes unbalanced backticks", () => {
    const [inline] = tokens(prose("run `drift-guard fetch` then ``<img src=x>`")).filter((t) => t.type === "inline");
    expect(inline.children!.filter((t) => t.type === "code_inline").map((t) => t.content)).toEqual(["drift-guard fetch"]);
    expect(md.renderInline(prose("``<img src=x>`"))).toBe("``&lt;img src=x&gt;`");
  });
});

describe("junit", () => {
  it.each(HOSTILE)("untrusted fields stay text: %j", (field) => {
    const xml = formatJunit(hostileReport(field));
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, preserveOrder: false }).parse(xml);
    const elements = new Set<string>();
    const walk = (v: unknown) => {
      if (v && typeof v === "object") for (const [k, child] of Object.entries(v)) {
        if (!k.startsWith("@_") && k !== "#text" && !/^[0-9]+$/.test(k)) elements.add(k);
        walk(child);
      }
    };
    walk(doc);
    for (const name of elements) expect(["?xml", "testsuites", "testsuite", "testcase", "failure", "error", "skipped", "properties", "property", "system-out"]).toContain(name);
  });
});

describe("text", () => {
  it("prints the live SQL as indented lines, each escaped for the terminal", () => {
    const report = hostileReport("x");
    report.migrations[0].evidence!.live_migration!.sql = "create table a (\n  id int,\n  note text default '\x1b[2J'\n);\n";
    const out = formatText(report);
    expect(out).toContain("        create table a (\n          id int,\n          note text default '\\x1b[2J'\n        );");
    expect(out).not.toContain("\x1b");
    expect(out).not.toContain("create table a (\\n");
  });
});
