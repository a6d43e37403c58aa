/**
 * Reading extension statements out of migration SQL: which extensions a
 * migration creates (at the top level, or anywhere: inside DO blocks and
 * function bodies), with which schema and version, and which it drops.
 *
 * Extension names are matched case-insensitively unless double-quoted, as
 * Postgres does. Over-matching (a `create extension` inside a comment or a
 * string) is harmless: it only makes an extension available to the shadow.
 */
import { stripLeadingComments } from "./sql_statements.ts";

export { stripLeadingComments };

const NAME = String.raw`(?:"((?:[^"]|"")+)"|([A-Za-z_][\w$-]*))`;
const VALUE = String.raw`(?:"((?:[^"]|"")+)"|'((?:[^']|'')*)'|([A-Za-z0-9_.$-]+))`;

export interface CreateExtension {
  name: string;
  ifNotExists: boolean;
  schema: string | null;
  version: string | null;
  cascade: boolean;
}

const unquoteName = (quoted: string | undefined, bare: string | undefined) => (quoted !== undefined ? quoted.replace(/""/g, '"') : bare!.toLowerCase());
const unquoteValue = (dq?: string, sq?: string, bare?: string) => (dq !== undefined ? dq.replace(/""/g, '"') : sq !== undefined ? sq.replace(/''/g, "'") : bare!.toLowerCase());

function parseCreate(text: string, anchored: boolean): CreateExtension[] {
  const re = new RegExp(String.raw`${anchored ? "^\\s*" : "\\b"}create\s+extension\s+(if\s+not\s+exists\s+)?${NAME}`, anchored ? "i" : "gi");
  const out: CreateExtension[] = [];
  for (let m = re.exec(text); m; m = anchored ? null : re.exec(text)) {
    const e: CreateExtension = { name: unquoteName(m[2], m[3]), ifNotExists: Boolean(m[1]), schema: null, version: null, cascade: false };
    // Options follow in any order: [with] [schema s] [version v] [cascade]
    const opt = new RegExp(String.raw`^\s*(?:(with)\b|(schema)\s+${VALUE}|(version)\s+${VALUE}|(cascade)\b)`, "i");
    let rest = text.slice(m.index + m[0].length);
    for (let o = opt.exec(rest); o && o[0].length; o = opt.exec(rest)) {
      if (o[2]) e.schema = unquoteValue(o[3], o[4], o[5]);
      if (o[6]) e.version = o[7] ?? o[8] ?? o[9]!;
      if (o[10]) e.cascade = true;
      rest = rest.slice(o[0].length);
    }
    out.push(e);
  }
  return out;
}

/**
 * The `create extension` a top-level statement is, or null.
 * @example parseCreateExtension(`create extension if not exists "uuid-ossp" with schema extensions version '1.1'`)
 *   // { name: "uuid-ossp", ifNotExists: true, schema: "extensions", version: "1.1", cascade: false }
 */
export function parseCreateExtension(statement: string): CreateExtension | null {
  return parseCreate(stripLeadingComments(statement), true)[0] ?? null;
}

/**
 * Every `create extension` anywhere in the text: top level, DO blocks, function bodies.
 * @example extensionsMentioned("do $$ begin create extension if not exists moddatetime; end $$").map((e) => e.name) // ["moddatetime"]
 */
export function extensionsMentioned(text: string): CreateExtension[] {
  return parseCreate(text, false);
}

/**
 * The extensions a top-level `drop extension` drops, or null.
 * @example parseDropExtension("drop extension if exists pgjwt cascade") // { names: ["pgjwt"], ifExists: true }
 */
export function parseDropExtension(statement: string): { names: string[]; ifExists: boolean } | null {
  const m = new RegExp(String.raw`^\s*drop\s+extension\s+(if\s+exists\s+)?((?:${NAME}\s*,\s*)*${NAME})\s*(?:cascade|restrict)?\s*$`, "i").exec(stripLeadingComments(statement));
  if (!m) return null;
  const names = [...m[2].matchAll(new RegExp(NAME, "g"))].map((n) => unquoteName(n[1], n[2]));
  return { names, ifExists: Boolean(m[1]) };
}

/**
 * The extension an `alter extension` or `comment on extension` statement names, or null.
 * @example alteredExtension("comment on extension pg_net is 'async http'") // "pg_net"
 */
export function alteredExtension(statement: string): string | null {
  const m = new RegExp(String.raw`^\s*(?:comment\s+on|alter)\s+extension\s+${NAME}`, "i").exec(stripLeadingComments(statement));
  return m ? unquoteName(m[1], m[2]) : null;
}
