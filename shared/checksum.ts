/**
 * Canonical checksum of a migration, and the digest of a whole history.
 *
 * Each statement, as the CLI splits and stores it, is canonicalised on its own:
 * literals byte for byte, comments dropped, whitespace reduced to the single
 * space (or nothing) that keeps the tokens apart. The splitter's scan proposes
 * that piece; Postgres's lexer (postgres_lexer.ts) must read the same tokens
 * from it as from the statement, or the statement is kept verbatim. So only
 * what Postgres itself sees as whitespace or a comment is ever dropped, and
 * standard_conforming_strings is followed through the file.
 */
import { createHash } from "node:crypto";
import { type PgToken, pgTokens } from "./postgres_lexer.ts";
import { isIdentChar, scanSql, splitStatements, type SqlScan } from "./sql_statements.ts";
import type { RemoteMigration } from "./types.ts";

const OPERATOR_CHARS = "+-*/<>=~!@#%^&|`?";

/**
 * Whitespace as Postgres 15's lexer sees it (scan.l: `space [ \t\n\r\f]`).
 * Nothing else may be dropped inside a statement: U+00A0, U+FEFF, U+3000 and
 * every other non-ASCII character are identifier characters to Postgres, and
 * \v is a token of its own, so dropping them could hide a semantic edit.
 */
function isPostgresSpace(c: string): boolean {
  const cp = c.charCodeAt(0);
  return cp === 32 || cp === 9 || cp === 10 || cp === 13 || cp === 12;
}

/** Whitespace as JavaScript's trim() sees it: what the CLI trims from the edges of each statement. */
const JS_SPACE = /\s/;

/**
 * Marks the characters the CLI's trim() removes from each statement's edges
 * (after its trailing `;`s). Only there may non-Postgres whitespace vanish:
 * the CLI never sends it to the server.
 */
function statementEdges(text: string, scan: SqlScan): Uint8Array | null {
  let edges: Uint8Array | null = null;
  const mark = (i: number) => {
    edges ??= new Uint8Array(text.length);
    edges[i] = 1;
  };
  for (const { start, end } of scan.statements) {
    let e = end;
    while (e > start && text[e - 1] === ";") e--;
    let s = start;
    while (s < e && JS_SPACE.test(text[s])) mark(s++);
    while (e > s && JS_SPACE.test(text[e - 1])) mark(--e);
  }
  return edges;
}

/** Would deleting the whitespace between `a` and `b` merge them into a different token? */
function spaceIsSignificant(a: string, b: string): boolean {
  if (isIdentChar(a) && isIdentChar(b)) return true;
  if (OPERATOR_CHARS.includes(a) && OPERATOR_CHARS.includes(b)) return true;
  const quote = (c: string) => c === "'" || c === '"';
  if ((quote(a) || quote(b)) && (quote(a) || isIdentChar(a)) && (quote(b) || isIdentChar(b))) return true;
  if ((a === "." && /[0-9.]/.test(b)) || (b === "." && /[0-9.]/.test(a))) return true;
  if (a === ":" && (b === ":" || b === "=")) return true;
  return a === "\\" || b === "\\";
}

/**
 * The canonical text of a migration: of its statements as the CLI splits them.
 * @example canonicalSql("select  1; -- why\nselect 2") // "select 1;select 2"
 */
export function canonicalSql(text: string): string {
  return canonicalStatements(splitStatements(text));
}

/**
 * What may change lexing for the statements that follow: the values
 * standard_conforming_strings may have, and whether the client encoding was
 * touched (then bytes may mean other characters, and every later statement is kept verbatim).
 */
interface LexContext {
  conformingStrings: ReadonlySet<boolean>;
  verbatim: boolean;
}

const BOTH = new Set([true, false]);

/** Postgres's parse_bool, for the values SET accepts; null when it is not a boolean we can read. */
function settingBool(token: PgToken): boolean | null {
  let v = token.text.toLowerCase();
  if (token.kind === "string") {
    if (!/^'[^'\\]*'$/.test(token.text)) return null;
    v = v.slice(1, -1);
  } else if (token.kind !== "ident" && token.kind !== "number") return null;
  if (v === "1" || v === "on" || (v.length > 0 && ("true".startsWith(v) || "yes".startsWith(v)))) return true;
  if (v === "0" || v === "of" || v === "off" || (v.length > 0 && ("false".startsWith(v) || "no".startsWith(v)))) return false;
  return null;
}

/**
 * The lexing context after `tokens` ran. `SET [SESSION|LOCAL] standard_conforming_strings
 * TO|= value`, `RESET` and `SET … TO DEFAULT` are followed; any other mention (set_config,
 * a DO block, an unreadable value) leaves both values possible, and every statement after it
 * must canonicalise the same way under both.
 */
function nextContext(tokens: readonly PgToken[], ctx: LexContext): LexContext {
  const word = (t: PgToken | undefined) => (t === undefined ? "" : t.kind === "ident" ? t.text.toLowerCase() : t.kind === "qident" ? t.text.slice(1, -1).replace(/""/g, '"') : t.text);
  const mentions = (pattern: RegExp) => tokens.some((t) => pattern.test(t.text));
  const first = word(tokens[0]);
  // The server converts from the client encoding before it lexes: in SJIS, BIG5, GBK… a `\\` or `'`
  // byte can end a character, so other tokens. pg_dump's `SET client_encoding = 'UTF8'` changes nothing.
  if (mentions(/client_encoding/i) || (first === "set" && word(tokens[1]) === "names")) {
    const names = first === "set" && word(tokens[1]) === "names";
    const utf8 = (t: PgToken | undefined) => t !== undefined && /^'?(utf-?8|unicode)'?$/i.test(t.text);
    const declaresUtf8 = names
      ? tokens.length === 3 && utf8(tokens[2])
      : first === "set" && tokens.length === 4 && word(tokens[1]) === "client_encoding" && /^(to|=)$/.test(word(tokens[2])) && utf8(tokens[3]);
    if (!declaresUtf8) return { ...ctx, verbatim: true };
  }
  const union = (v: boolean) => new Set([...ctx.conformingStrings, v]);
  if ((first === "reset" && word(tokens[1]) === "all" && tokens.length === 2) || (first === "discard" && word(tokens[1]) === "all")) {
    return { ...ctx, conformingStrings: union(true) };
  }
  // A Unicode-escaped identifier in a SET could spell the setting's name.
  if (!mentions(/standard_conforming_strings/i) && !(first === "set" && mentions(/^[uU]&"/))) return ctx;
  if (first === "reset" && word(tokens[1]) === "standard_conforming_strings" && tokens.length === 2) return { ...ctx, conformingStrings: new Set([true]) };
  if (first === "set") {
    const scope = word(tokens[1]);
    const k = scope === "session" || scope === "local" ? 2 : 1;
    const to = word(tokens[k + 1]);
    if (word(tokens[k]) === "standard_conforming_strings" && (to === "to" || to === "=") && tokens.length === k + 3) {
      const value = word(tokens[k + 2]) === "default" ? true : settingBool(tokens[k + 2]);
      // SET LOCAL ends with the transaction, which may end inside the file: either value may follow.
      if (value !== null) return { ...ctx, conformingStrings: scope === "local" ? union(value) : new Set([value]) };
    }
  }
  return { ...ctx, conformingStrings: BOTH };
}

const sameTokens = (a: readonly PgToken[], b: readonly PgToken[]) => a.length === b.length && a.every((t, i) => t.text === b[i].text);

/**
 * A statement the CLI's splitter and Postgres's lexer read differently is kept byte for
 * byte, length-prefixed after a NUL: no canonical piece holds a NUL (Postgres cannot take
 * one), so a kept statement can never read as canonical text.
 */
const keptVerbatim = (statement: string) => `\u0000${utf8Length(statement)}:${statement}`;

/**
 * One statement's canonical piece. The splitter's scan says what is a comment and a literal;
 * the piece is accepted only if Postgres's lexer reads the same tokens from it as from the
 * statement under every standard_conforming_strings the statement may run with. So text is
 * dropped only where Postgres sees whitespace or a comment, and a piece determines its tokens.
 */
function canonicalStatement(statement: string, ctx: LexContext): { piece: string; next: LexContext } {
  const piece = ctx.verbatim || statement.includes("\u0000") ? null : canonicalFromScan(statement, scanSql(statement));
  let faithful = piece !== null;
  let next: LexContext = { conformingStrings: new Set(), verbatim: ctx.verbatim };
  for (const standardConformingStrings of ctx.conformingStrings) {
    const options = { standardConformingStrings };
    const tokens = pgTokens(statement, options);
    if (faithful && !sameTokens(tokens, pgTokens(piece!, options))) faithful = false;
    const after = nextContext(tokens, ctx);
    next = { conformingStrings: new Set([...next.conformingStrings, ...after.conformingStrings]), verbatim: next.verbatim || after.verbatim };
  }
  return { piece: faithful ? piece! : keptVerbatim(statement), next };
}

/**
 * The canonical text of statements, however they were split: each statement's piece,
 * joined by `;`, empty pieces (comments only) left out.
 */
function canonicalStatements(statements: readonly string[]): string {
  let ctx: LexContext = { conformingStrings: new Set([true]), verbatim: false };
  const pieces: string[] = [];
  for (const statement of statements) {
    const { piece, next } = canonicalStatement(statement, ctx);
    if (piece !== "") pieces.push(piece);
    ctx = next;
  }
  return pieces.join(";");
}

function canonicalFromScan(text: string, scan: SqlScan): string {
  const { comments, literals } = scan;
  const edges = statementEdges(text, scan);
  let out = "";
  let last = ""; // last character emitted
  let gap = false; // whitespace or a comment since `last`
  let endsWithSeparator = false;

  const emit = (piece: string) => {
    if (gap && last !== "" && spaceIsSignificant(last, piece[0])) out += " ";
    out += piece;
    last = piece[piece.length - 1];
    gap = false;
    endsWithSeparator = false;
  };
  const code = (from: number, to: number) => {
    let runStart = -1; // start of a run of ordinary characters, copied in one piece
    const flush = (at: number) => {
      if (runStart >= 0) emit(text.slice(runStart, at));
      runStart = -1;
    };
    for (let i = from; i < to; i++) {
      const c = text[i];
      if (isPostgresSpace(c) || (edges !== null && edges[i] === 1)) {
        flush(i);
        gap = true;
      } else if (c === ";") {
        flush(i);
        // Empty statements are not content: collapse `;;` and drop leading `;`.
        if (out !== "" && !endsWithSeparator) {
          out += ";";
          last = ";";
          endsWithSeparator = true;
        }
        gap = false;
      } else if (runStart < 0) {
        runStart = i;
      }
    }
    flush(to);
  };

  // Walk comments and literals in order; both lists are sorted and never overlap.
  let pos = 0;
  let ci = 0;
  let li = 0;
  while (ci < comments.length || li < literals.length) {
    const takeComment = li >= literals.length || (ci < comments.length && comments[ci][0] < literals[li][0]);
    const [s, e] = takeComment ? comments[ci++] : literals[li++];
    code(pos, s);
    if (takeComment) gap = true;
    else emit(text.slice(s, e));
    pos = e;
  }
  code(pos, text.length);
  return endsWithSeparator ? out.slice(0, -1) : out;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * Names the rule statementsChecksum follows. A manifest the function verified and stored
 * carries it (db/function_queries.ts), so a later read need not rescan every statement;
 * change it whenever statementsChecksum gives a different answer for some input, and
 * manifests stored under the old rule are verified again when read.
 */
export const CHECKSUM_RULE = "drift-guard.checksum/3";

/**
 * Checksum of statements as the CLI stored them: each statement is what the server
 * lexes on its own, so each is canonicalised on its own (canonicalStatements).
 * @example statementsChecksum(["select 1", "-- done"]) === canonicalChecksum("select 1; -- done") // true
 */
export function statementsChecksum(statements: readonly string[]): string {
  return `sha256:${sha256Hex(canonicalStatements(statements))}`;
}

/**
 * Checksum of a migration file's text: of its statements as the CLI would store them,
 * so it equals the checksum of what `db push` stored for it.
 * @example canonicalChecksum("select  1;") === canonicalChecksum("select 1") // true
 */
export function canonicalChecksum(sql: string): string {
  return splitAndChecksum(sql).checksum;
}

/**
 * The statements the CLI stores for a file, and their checksum.
 * @example splitAndChecksum("select 1; select 2").statements // ["select 1", "select 2"]
 */
export function splitAndChecksum(sql: string): { statements: string[]; checksum: string } {
  const statements = splitStatements(sql);
  return { statements, checksum: statementsChecksum(statements) };
}

/** UTF-8 byte length without encoding (a lone surrogate counts as U+FFFD, as TextEncoder would). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const field = (s: string | null) => (s === null ? "-" : `${utf8Length(s)}:${s}`);

/** Orders strings by code point, which is byte order in UTF-8 and `COLLATE "C"` in Postgres. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order differs from code point order only between surrogates and U+E000..U+FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Digest of the history table. Length-prefixed fields make it unambiguous.
 * drift_guard.history_digest() in supabase/migrations computes the same bytes
 * inside the database; tests/history_digest.test.ts holds the two together.
 */
export function historyDigest(rows: readonly RemoteMigration[]): string {
  // Hashed row by row: a history of thousands of migrations never becomes one big string.
  const hash = createHash("sha256");
  [...rows].sort((a, b) => compareCodePoints(a.version, b.version)).forEach((r, i) => {
    hash.update(`${i ? "\n" : ""}${field(r.version)}|${field(r.name)}|${r.statements === null ? "-" : statementsEncoding(r.statements)}`, "utf8");
  });
  return `sha256:${hash.digest("hex")}`;
}

/**
 * The length-prefixed encoding of a statements array; db/history.ts builds the
 * same text in SQL. Remembered per array: a warm edge function meets the same
 * manifest arrays on every request.
 */
const encodings = new WeakMap<readonly string[], string>();
export function statementsEncoding(statements: readonly string[]): string {
  let encoded = encodings.get(statements);
  if (encoded === undefined) {
    encoded = `${statements.length}[${statements.map((s) => field(s)).join("")}]`;
    encodings.set(statements, encoded);
  }
  return encoded;
}
