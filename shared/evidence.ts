/**
 * What a migration creates, read from its SQL: the objects whose presence in
 * the catalog tells "this already ran" from "this never ran". This is the
 * question people in the seed incident could not answer, so they ran the
 * wrong repair.
 */
import { scanSql } from "./sql_statements.ts";
import type { Evidence } from "./types.ts";

export type ObjectKind = "schema" | "table" | "view" | "column" | "function" | "index" | "policy" | "type" | "trigger";

/** What a migration creates or alters; the extra kinds are compared by definition only (see definition_evidence.ts). */
export type TouchedKind = ObjectKind | "rls" | "grant" | "constraint";

export interface CreatedObject {
  kind: ObjectKind;
  schema: string;
  name: string;
  /** The table an index, column, policy or trigger belongs to. */
  table?: string;
}

export interface TouchedObject {
  kind: TouchedKind;
  schema: string;
  name: string;
  /** The table a column, index, policy, trigger, constraint or RLS flag belongs to. */
  table?: string;
  /** Grants: what they are on (the name is the table, function or schema). */
  on?: "table" | "function" | "schema";
  /** Altered, not created (alter table … alter column, alter function, alter policy). */
  altered?: boolean;
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const QNAME = String.raw`(${IDENT})(?:\s*\.\s*(${IDENT}))?`;

/** Code with comments removed and string literals emptied; quoted identifiers stay. */
function codeView(sql: string): string {
  const { comments, literals } = scanSql(sql);
  const spans = [...comments.map(([s, e]) => ({ s, e, keep: false, comment: true })), ...literals.map(([s, e]) => ({ s, e, keep: sql[s] === '"', comment: false }))]
    .sort((a, b) => a.s - b.s);
  let out = "";
  let pos = 0;
  for (const { s, e, keep, comment } of spans) {
    out += sql.slice(pos, s) + (keep ? sql.slice(s, e) : comment ? " " : " '' ");
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
    kind: "trigger",
    re: new RegExp(String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:constraint\s+)?trigger\s+(${IDENT})[\s\S]*?\bon\s+${QNAME}`, "gi"),
    build: (m) => {
      const t = qualified(m[2], m[3]);
      return { kind: "trigger", schema: t.schema, name: unquoteIdent(m[1]), table: t.name };
    },
  },
];

const ALTER_TABLE = new RegExp(String.raw`^\s*alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?${QNAME}([\s\S]*)$`, "i");
const ADD_COLUMN = new RegExp(String.raw`(?:^|,)\s*add\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?(${IDENT})`, "gi");
const ALTER_COLUMN = new RegExp(String.raw`(?:^|,)\s*alter\s+(?:column\s+)?(${IDENT})`, "gi");
const ADD_CONSTRAINT = new RegExp(String.raw`(?:^|,)\s*add\s+constraint\s+(${IDENT})`, "gi");
const RLS_CLAUSE = /(?:^|,)\s*(?:enable|disable|force|no\s+force)\s+row\s+level\s+security/i;
const NOT_A_COLUMN = /^(constraint|primary|unique|foreign|check|exclude)$/;

/** The clauses of `alter table t …`: columns added or altered, constraints added, row level security. */
function alterTableObjects(code: string): TouchedObject[] {
  const m = ALTER_TABLE.exec(code);
  if (!m) return [];
  const t = qualified(m[1], m[2]);
  const rest = m[3];
  const out: TouchedObject[] = [];
  for (const [re, altered] of [[ADD_COLUMN, false], [ALTER_COLUMN, true]] as const) {
    re.lastIndex = 0;
    for (let c = re.exec(rest); c; c = re.exec(rest)) {
      const col = unquoteIdent(c[1]);
      if (!c[1].startsWith('"') && NOT_A_COLUMN.test(col)) continue;
      out.push({ kind: "column", schema: t.schema, name: col, table: t.name, ...(altered ? { altered } : {}) });
    }
  }
  ADD_CONSTRAINT.lastIndex = 0;
  for (let c = ADD_CONSTRAINT.exec(rest); c; c = ADD_CONSTRAINT.exec(rest)) out.push({ kind: "constraint", schema: t.schema, name: unquoteIdent(c[1]), table: t.name });
  if (RLS_CLAUSE.test(rest)) out.push({ kind: "rls", schema: t.schema, name: t.name, table: t.name });
  return out;
}

const ALTERED: Array<{ re: RegExp; build(m: RegExpExecArray): TouchedObject }> = [
  {
    re: new RegExp(String.raw`^\s*alter\s+policy\s+(${IDENT})\s+on\s+${QNAME}`, "i"),
    build: (m) => ({ kind: "policy", ...qualified(m[2], m[3]), table: qualified(m[2], m[3]).name, name: unquoteIdent(m[1]), altered: true }),
  },
  {
    re: new RegExp(String.raw`^\s*alter\s+(?:function|procedure|routine)\s+${QNAME}`, "i"),
    build: (m) => ({ kind: "function", ...qualified(m[1], m[2]), altered: true }),
  },
  {
    re: new RegExp(String.raw`^\s*alter\s+(?:materialized\s+)?view\s+(?:if\s+exists\s+)?${QNAME}`, "i"),
    build: (m) => ({ kind: "view", ...qualified(m[1], m[2]), altered: true }),
  },
  {
    re: new RegExp(String.raw`^\s*(?:alter\s+type|create\s+domain|alter\s+domain)\s+${QNAME}`, "i"),
    build: (m) => ({ kind: "type", ...qualified(m[1], m[2]), altered: /^\s*alter/i.test(m[0]) }),
  },
];

/** `grant …/revoke … on [table] t | function f(…) | schema s`: the grants on that object are compared. */
const GRANT = new RegExp(
  String.raw`^\s*(?:grant|revoke)\s[\s\S]*?\bon\s+(?:(table\s+)|(function\s+|procedure\s+|routine\s+)|(schema\s+)|(?!all\s|sequence\s|type\s|domain\s|database\s|tablespace\s|language\s|foreign\s|large\s))${QNAME}`,
  "i",
);

function grantObject(code: string): TouchedObject | null {
  const m = GRANT.exec(code);
  if (!m) return null;
  if (m[3]) return { kind: "grant", on: "schema", schema: unquoteIdent(m[4]), name: unquoteIdent(m[4]) };
  return { kind: "grant", on: m[2] ? "function" : "table", ...qualified(m[4], m[5]) };
}

/**
 * Everything a migration creates or alters that the catalog can show: the
 * created objects, plus columns altered, constraints added, row level security
 * switched, policies/functions/views/types altered, and the objects it grants on.
 */
export function extractTouchedObjects(statements: readonly string[]): TouchedObject[] {
  const found = new Map<string, TouchedObject>();
  const put = (o: TouchedObject) => {
    const k = `${o.kind}|${o.on ?? ""}|${o.schema}|${o.table ?? ""}|${o.name}`;
    const had = found.get(k);
    // Created somewhere in the migration wins over altered.
    if (!had || (had.altered && !o.altered)) found.set(k, o);
  };
  for (const stmt of statements) {
    const code = codeView(stmt);
    for (const rule of RULES) {
      rule.re.lastIndex = 0;
      for (let m = rule.re.exec(code); m; m = rule.re.exec(code)) {
        const obj = rule.build(m);
        if (obj) put(obj);
      }
    }
    for (const o of alterTableObjects(code)) put(o);
    for (const rule of ALTERED) {
      const m = rule.re.exec(code);
      if (m) put(rule.build(m));
    }
    const g = grantObject(code);
    if (g) put(g);
  }
  return [...found.values()];
}

const PRESENCE_KINDS: ReadonlySet<string> = new Set<ObjectKind>(["schema", "table", "view", "column", "function", "index", "policy", "type", "trigger"]);

/** The objects whose presence the name look-up checks: what a migration creates (and columns it adds). */
export function extractCreatedObjects(statements: readonly string[]): CreatedObject[] {
  return extractTouchedObjects(statements)
    .filter((o) => PRESENCE_KINDS.has(o.kind) && !o.altered)
    .map(({ kind, schema, name, table }) => ({ kind: kind as ObjectKind, schema, name, ...(table !== undefined ? { table } : {}) }));
}

/**
 * Statement kinds the comparison understands. Anything else (a DO block,
 * dynamic SQL, create rule…) may build objects nobody can name from the text.
 */
const UNDERSTOOD = new RegExp(
  String.raw`^\s*(?:` + [
    String.raw`create\s+(?:or\s+replace\s+)?(?:(?:global|local)\s+)?(?:temp\s+|temporary\s+|unlogged\s+)?(?:recursive\s+)?(?:materialized\s+)?(?:constraint\s+)?(?:unique\s+)?` +
      String.raw`(?:table|view|function|procedure|index|policy|type|domain|trigger|schema|extension|sequence)\b`,
    String.raw`alter\s+(?:table|function|procedure|routine|policy|view|materialized\s+view|type|domain|sequence|schema|index)\b`,
    String.raw`(?:grant|revoke|comment|drop|set|reset|select|insert|update|delete|truncate|notify|analyze|vacuum|refresh|begin|commit|start|end)\b`,
  ].join("|") + ")",
  "i",
);

/** Statements that change data (not compared, but not a reason to doubt the schema comparison). */
const DATA = /^\s*(?:insert|update|delete|truncate|select)\b/i;

/** The statements the comparison cannot account for (1-based numbers, with their first words), and those that change data. */
export function statementCoverage(statements: readonly string[]): { unchecked: string[]; data: number } {
  const unchecked: string[] = [];
  let data = 0;
  statements.forEach((stmt, i) => {
    const code = codeView(stmt).replace(/^\s+/, "");
    if (!code) return;
    if (DATA.test(code)) data++;
    if (!UNDERSTOOD.test(code)) unchecked.push(`statement ${i + 1} (${code.split(/\s+/).filter((w) => /^[A-Za-z_]+$/.test(w)).slice(0, 2).join(" ").slice(0, 40)} …)`);
  });
  return { unchecked, data };
}

/**
 * What to call an object a migration creates or touches, in a report.
 *
 * @example describeObject({ kind: "policy", schema: "public", name: "p", table: "orders" }) // "p on public.orders"
 */
export function describeObject(o: CreatedObject | TouchedObject): string {
  const table = o.table ? `${o.schema}.${o.table}` : "";
  switch (o.kind) {
    case "schema":
      return o.name;
    case "column":
      return `${table}.${o.name}`;
    case "index":
    case "policy":
    case "trigger":
    case "constraint":
      return `${o.name} on ${table}`;
    case "grant": {
      const on = "on" in o ? o.on : undefined;
      return `on ${on ?? "table"} ${on === "schema" ? o.name : `${o.schema}.${o.name}`}`;
    }
    default:
      return `${o.schema}.${o.name}`;
  }
}

/** Presence of each object -> a verdict. No objects found means we cannot tell. */
export function judgeEvidence(objects: readonly CreatedObject[], present: readonly boolean[]): Evidence {
  const listed = objects.map((o, i) => ({ kind: o.kind, name: describeObject(o), present: present[i] }));
  const count = present.filter(Boolean).length;
  const verdict = objects.length === 0 ? "unknown" : count === objects.length ? "present" : count === 0 ? "absent" : "partial";
  return { verdict, basis: "name", objects: listed };
}
