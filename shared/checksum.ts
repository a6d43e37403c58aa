/**
 * Canonical checksum of a migration, and the digest of a whole history.
 *
 * canonicalSql keeps every literal byte-for-byte, drops comments, and reduces
 * whitespace outside literals to the single space (or nothing) that keeps the
 * tokens apart. Statement separators are normalised too, so the text of a
 * file and the statements the CLI stored for it canonicalise identically:
 * that is what makes the checksum independent of how the SQL was split.
 */
import { createHash } from "node:crypto";
import { isIdentChar, scanSql, type SqlScan, trimStatement } from "./sql_statements.ts";
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

export function canonicalSql(text: string): string {
  return canonicalFromScan(text, scanSql(text));
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
export const CHECKSUM_RULE = "drift-guard.checksum/2";

/**
 * Checksum of statements, however they were split. Rejoining with a separator
 * on its own line ends any trailing line comment, so the joined text scans
 * like the original did, and canonicalSql erases the separators' layout.
 */
export function statementsChecksum(statements: readonly string[]): string {
  return `sha256:${sha256Hex(canonicalSql(statements.join("\n;\n")))}`;
}

/**
 * Checksum of a migration file's text: of its statements as the CLI would
 * store them, so that even an unterminated literal (whose trailing `;` the CLI
 * trims away) checks equal to what was stored.
 */
export function canonicalChecksum(sql: string): string {
  return splitAndChecksum(sql).checksum;
}

/**
 * One scan for both results. When the text does not end inside a comment or
 * literal, canonicalising the text itself equals canonicalising its rejoined
 * statements (tests/checksum.test.ts holds that as a property); otherwise the
 * CLI's trimming reaches into the open literal, so we checksum the statements.
 */
export function splitAndChecksum(sql: string): { statements: string[]; checksum: string } {
  const scan = scanSql(sql);
  const statements: string[] = [];
  for (const s of scan.statements) {
    const stmt = trimStatement(sql.slice(s.start, s.end));
    if (stmt.length > 0) statements.push(stmt);
  }
  const checksum = scan.dangling ? statementsChecksum(statements) : `sha256:${sha256Hex(canonicalFromScan(sql, scan))}`;
  return { statements, checksum };
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
