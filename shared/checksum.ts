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
import { scanSql, splitStatements } from "./sql_statements.ts";
import type { RemoteMigration } from "./types.ts";

const OPERATOR_CHARS = "+-*/<>=~!@#%^&|`?";

function isWordChar(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp >= 128 || /[A-Za-z0-9_$]/.test(c);
}

/** Would deleting the whitespace between `a` and `b` merge them into a different token? */
function spaceIsSignificant(a: string, b: string): boolean {
  if (isWordChar(a) && isWordChar(b)) return true;
  if (OPERATOR_CHARS.includes(a) && OPERATOR_CHARS.includes(b)) return true;
  const quote = (c: string) => c === "'" || c === '"';
  if ((quote(a) || quote(b)) && (quote(a) || isWordChar(a)) && (quote(b) || isWordChar(b))) return true;
  if ((a === "." && /[0-9.]/.test(b)) || (b === "." && /[0-9.]/.test(a))) return true;
  if (a === ":" && (b === ":" || b === "=")) return true;
  return a === "\\" || b === "\\";
}

export function canonicalSql(text: string): string {
  const { comments, literals } = scanSql(text);
  // Merge the two sorted span lists into one walk over the text.
  const spans = [
    ...comments.map(([s, e]) => ({ s, e, literal: false })),
    ...literals.map(([s, e]) => ({ s, e, literal: true })),
  ].sort((x, y) => x.s - y.s);

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
    for (let i = from; i < to; i++) {
      const c = text[i];
      if (/\s/.test(c)) {
        gap = true;
      } else if (c === ";") {
        // Empty statements are not content: collapse `;;` and drop leading `;`.
        if (out !== "" && !endsWithSeparator) {
          out += ";";
          last = ";";
          endsWithSeparator = true;
        }
        gap = false;
      } else {
        emit(c);
      }
    }
  };

  let pos = 0;
  for (const span of spans) {
    code(pos, span.s);
    if (span.literal) emit(text.slice(span.s, span.e));
    else gap = true;
    pos = span.e;
  }
  code(pos, text.length);
  return endsWithSeparator ? out.slice(0, -1) : out;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

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
  return statementsChecksum(splitStatements(sql));
}

const utf8 = new TextEncoder();
const field = (s: string | null) => (s === null ? "-" : `${utf8.encode(s).length}:${s}`);

/** Orders strings by code point, which is byte order in UTF-8 and `COLLATE "C"` in Postgres. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/**
 * Digest of the history table. Length-prefixed fields make it unambiguous.
 * drift_guard.history_digest() in supabase/migrations computes the same bytes
 * inside the database; tests/history_digest.test.ts holds the two together.
 */
export function historyDigest(rows: readonly RemoteMigration[]): string {
  const encoded = [...rows]
    .sort((a, b) => compareCodePoints(a.version, b.version))
    .map((r) => {
      const statements = r.statements === null
        ? "-"
        : `${r.statements.length}[${r.statements.map((s) => field(s)).join("")}]`;
      return `${field(r.version)}|${field(r.name)}|${statements}`;
    })
    .join("\n");
  return `sha256:${sha256Hex(encoded)}`;
}
