/**
 * What a migration creates, read from its SQL: the objects whose presence in
 * the catalog tells "this already ran" from "this never ran". This is the
 * question people in the seed incident could not answer, so they ran the
 * wrong repair.
 */
import { scanSql } from "./sql_statements.ts";
import type { Evidence } from "./types.ts";

export type ObjectKind = "schema" | "table" | "view" | "column" | "function" | "index" | "policy" | "type" | "trigger";

export interface CreatedObject {
  kind: ObjectKind;
  schema: string;
  name: string;
  /** The table an index, column, policy or trigger belongs to. */
  table?: string;
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const QNAME = String.raw`(${IDENT})(?:\s*\.\s*(${IDENT}))?`;

/** Code with comments removed and string literals emptied; quoted identifiers stay. */
function codeView(sql: string): string {
  const { comments, literals } = scanSql(sql);
  const spans = [...comments.map(([s, e]) => ({ s, e, keep: false })), ...literals.map(([s, e]) => ({ s, e, keep: sql[s] === '"' }))]
    .sort((a, b) => a.s - b.s);
  let out = "";
  let pos = 0;
  for (const { s, e, keep } of spans) {
    out += sql.slice(pos, s) + (keep ? sql.slice(s, e) : " '' ");
    pos = e;
  }
  return out + sql.slice(pos);
}

export function unquoteIdent(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1).replace(/""/g, '"') : ident.toLowerCase();
}

function qualified(first: string, second: string | undefined): { schema: string; name: string } {
  return second === undefined ? { schema: "public", name: unquoteIdent(first) } : { schema: unquoteIdent(first), name: unquoteIdent(second) };
}

const RULES: Array<{ kind: ObjectKind; re: RegExp; build(m: RegExpExecArray): CreatedObject | null }> = [
  {
    kind: "schema",
    re: new RegExp(String.raw`\bcreate\s+schema\s+(?:if\s+not\s+exists\s+)?(${IDENT})`, "gi"),
    build: (m) => ({ kind: "schema", schema: unquoteIdent(m[1]), name: unquoteIdent(m[1]) }),
  },
  {
    kind: "table",
    re: new RegExp(String.raw`\bcreate\s+(?:(?:global|local)\s+)?(temp\s+|temporary\s+|unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?${QNAME}`, "gi"),
    build: (m) => (/temp/i.test(m[1] ?? "") ? null : { kind: "table", ...qualified(m[2], m[3]) }),
  },
  {
    kind: "view",
    re: new RegExp(String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:recursive\s+)?(?:materialized\s+)?view\s+(?:if\s+not\s+exists\s+)?${QNAME}`, "gi"),
    build: (m) => ({ kind: "view", ...qualified(m[1], m[2]) }),
  },
  {
    kind: "function",
    re: new RegExp(String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:function|procedure)\s+${QNAME}\s*\(`, "gi"),
    build: (m) => ({ kind: "function", ...qualified(m[1], m[2]) }),
  },
  {
    kind: "index",
    re: new RegExp(String.raw`\bcreate\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?(${IDENT})\s+on\s+(?:only\s+)?${QNAME}`, "gi"),
    build: (m) => {
      const t = qualified(m[2], m[3]);
      return { kind: "index", schema: t.schema, name: unquoteIdent(m[1]), table: t.name };
    },
  },
  {
    kind: "policy",
    re: new RegExp(String.raw`\bcreate\s+policy\s+(${IDENT})\s+on\s+${QNAME}`, "gi"),
    build: (m) => {
      const t = qualified(m[2], m[3]);
      return { kind: "policy", schema: t.schema, name: unquoteIdent(m[1]), table: t.name };
    },
  },
  {
    kind: "type",
    re: new RegExp(String.raw`\bcreate\s+type\s+${QNAME}`, "gi"),
    build: (m) => ({ kind: "type", ...qualified(m[1], m[2]) }),
  },
  {
    kind: "column",
    re: new RegExp(String.raw`\balter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?${QNAME}\s+add\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?(${IDENT})`, "gi"),
    build: (m) => {
      const col = unquoteIdent(m[3]);
      if (!m[3].startsWith('"') && /^(constraint|primary|unique|foreign|check|exclude)$/.test(col)) return null;
      const t = qualified(m[1], m[2]);
      return { kind: "column", schema: t.schema, name: col, table: t.name };
    },
  },
  {
    kind: "trigger",
    re: new RegExp(String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:constraint\s+)?trigger\s+(${IDENT})[\s\S]*?\bon\s+${QNAME}`, "gi"),
    build: (m) => {
      const t = qualified(m[2], m[3]);
      return { kind: "trigger", schema: t.schema, name: unquoteIdent(m[1]), table: t.name };
    },
  },
];

export function extractCreatedObjects(statements: readonly string[]): CreatedObject[] {
  const found = new Map<string, CreatedObject>();
  for (const stmt of statements) {
    const code = codeView(stmt);
    for (const rule of RULES) {
      rule.re.lastIndex = 0;
      for (let m = rule.re.exec(code); m; m = rule.re.exec(code)) {
        const obj = rule.build(m);
        if (obj) found.set(`${obj.kind}|${obj.schema}|${obj.table ?? ""}|${obj.name}`, obj);
      }
    }
  }
  return [...found.values()];
}

export function describeObject(o: CreatedObject): string {
  const table = o.table ? `${o.schema}.${o.table}` : "";
  switch (o.kind) {
    case "schema":
      return o.name;
    case "column":
      return `${table}.${o.name}`;
    case "index":
    case "policy":
    case "trigger":
      return `${o.name} on ${table}`;
    default:
      return `${o.schema}.${o.name}`;
  }
}

/** Presence of each object -> a verdict. No objects found means we cannot tell. */
export function judgeEvidence(objects: readonly CreatedObject[], present: readonly boolean[]): Evidence {
  const listed = objects.map((o, i) => ({ kind: o.kind, name: describeObject(o), present: present[i] }));
  const count = present.filter(Boolean).length;
  const verdict = objects.length === 0 ? "unknown" : count === objects.length ? "present" : count === 0 ? "absent" : "partial";
  return { verdict, objects: listed };
}
