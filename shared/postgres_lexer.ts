/**
 * Postgres's lexer (src/backend/parser/scan.l), as far as token boundaries go:
 * which text is whitespace or a comment, and where each token starts and ends.
 * The canonical checksum (checksum.ts) drops text only where this lexer sees
 * whitespace or a comment; tests/postgres_lexer.test.ts holds it to the real
 * scanner (libpg_query compiled to WebAssembly) on generated SQL.
 *
 * Token kinds are coarse (the grammar is not our business), but token texts are
 * exact: two statements with the same token texts are the same to the parser.
 */

export type TokenKind = "ident" | "string" | "qident" | "dollar" | "number" | "param" | "op" | "other" | "unterminated";

export interface PgToken {
  kind: TokenKind;
  text: string;
  start: number;
}

export interface LexOptions {
  /** `standard_conforming_strings`: off makes '…' strings honour backslash escapes, as E'…' do. */
  standardConformingStrings: boolean;
}

const OP_CHARS = "~!@#^&|`?+-*/%<>=";
/** Characters that may be a one-character token of their own (scan.l `self`). */
const SELF_CHARS = ",()[].;:+-*/%^<>=";
/** An operator holding one of these may end in + or - (scan.l, the {operator} rule). */
const NON_SQL_OP_CHARS = "~!@#^&|`?%";

/** scan.l `space` (Postgres 15): \v is not whitespace there, so it is kept as a token. */
export function isPgSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
}
const isNewline = (c: number) => c === 10 || c === 13;
const isHorizSpace = (c: number) => c === 32 || c === 9 || c === 12;
const isDigit = (c: number) => c >= 48 && c <= 57;
/** scan.l ident_start: letters, `_`, and every non-ASCII character (any byte \200-\377 in UTF-8). */
const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isIdentCont = (c: number) => isIdentStart(c) || isDigit(c) || c === 36;
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/**
 * Tokens of one SQL text, whitespace and comments left out. An unterminated
 * literal or comment becomes one `unterminated` token holding the rest.
 *
 * @example pgTokens("select 1. e5", { standardConformingStrings: true }).map((t) => t.text) // ["select", "1.", "e5"]
 */
export function pgTokens(text: string, options: LexOptions): PgToken[] {
  const tokens: PgToken[] = [];
  const n = text.length;
  const code = (i: number) => (i < n ? text.charCodeAt(i) : -1);
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number) => {
    tokens.push({ kind, text: text.slice(start, end), start });
    i = end;
  };
  const unterminated = (start: number) => push("unterminated", start, n);

  /** After a string's closing quote: whitespace holding a newline, then a quote, continues it (scan.l quotecontinue). */
  const continuation = (at: number): number => {
    let j = at;
    let sawNewline = false;
    for (;;) {
      const c = code(j);
      if (c === 45 && code(j + 1) === 45) {
        j += 2;
        while (j < n && !isNewline(code(j))) j++;
      } else if (isNewline(c)) {
        sawNewline = true;
        j++;
      } else if (isHorizSpace(c)) {
        j++;
      } else {
        return sawNewline && c === 39 ? j + 1 : -1;
      }
    }
  };

  /** Reads a quoted string body from `from` (just past the opening quote); returns its end, or -1 if unterminated. */
  const quoted = (from: number, backslashes: boolean, doubling: boolean): number => {
    let j = from;
    for (;;) {
      if (j >= n) return -1;
      const c = code(j);
      if (backslashes && c === 92) {
        if (j + 1 >= n) return -1;
        j += 2;
      } else if (c === 39) {
        if (doubling && code(j + 1) === 39) {
          j += 2;
          continue;
        }
        const next = continuation(j + 1);
        if (next < 0) return j + 1;
        j = next;
      } else {
        j++;
      }
    }
  };

  const string = (start: number, bodyFrom: number, backslashes: boolean, doubling: boolean) => {
    const end = quoted(bodyFrom, backslashes, doubling);
    if (end < 0) unterminated(start);
    else push("string", start, end);
  };

  const quotedIdent = (start: number, bodyFrom: number) => {
    let j = bodyFrom;
    for (;;) {
      if (j >= n) return unterminated(start);
      if (code(j) === 34) {
        if (code(j + 1) === 34) {
          j += 2;
          continue;
        }
        return push("qident", start, j + 1);
      }
      j++;
    }
  };

  /** `$tag$` at i (tag: ident_start then ident chars without `$`), or -1. */
  const dollarDelimiter = (at: number): number => {
    let j = at + 1;
    if (code(j) === 36) return j + 1;
    if (!isIdentStart(code(j))) return -1;
    while (isIdentStart(code(j)) || isDigit(code(j))) j++;
    return code(j) === 36 ? j + 1 : -1;
  };

  const digits = (from: number, ok: (c: number) => boolean): number => {
    // Postgres 16+: digits may be separated by single underscores.
    let j = from;
    if (!ok(code(j))) return from;
    j++;
    for (;;) {
      if (ok(code(j))) j++;
      else if (code(j) === 95 && ok(code(j + 1))) j += 2;
      else return j;
    }
  };

  const number = (start: number) => {
    let j = start;
    const c1 = code(j + 1) | 32;
    if (code(j) === 48 && (c1 === 120 || c1 === 111 || c1 === 98)) {
      const ok = c1 === 120 ? isHex : c1 === 111 ? (c: number) => c >= 48 && c <= 55 : (c: number) => c === 48 || c === 49;
      let k = j + 2;
      if (code(k) === 95) k++;
      const end = digits(k, ok);
      if (end > k) return push("number", start, end);
    }
    j = digits(j, isDigit);
    if (code(j) === 46 && code(j + 1) !== 46) {
      j++;
      j = digits(j, isDigit);
    }
    if ((code(j) | 32) === 101) {
      let k = j + 1;
      if (code(k) === 43 || code(k) === 45) k++;
      const end = digits(k, isDigit);
      if (end > k) j = end;
    }
    push("number", start, j);
  };

  const operator = (start: number) => {
    let j = start;
    while (j < n && OP_CHARS.includes(text[j])) j++;
    let op = text.slice(start, j);
    const cut = [op.indexOf("/*"), op.indexOf("--")].filter((x) => x > 0);
    if (cut.length) op = op.slice(0, Math.min(...cut));
    if (op.length > 1 && (op.endsWith("+") || op.endsWith("-")) && ![...op.slice(0, -1)].some((ch) => NON_SQL_OP_CHARS.includes(ch))) {
      while (op.length > 1 && (op.endsWith("+") || op.endsWith("-"))) op = op.slice(0, -1);
    }
    push("op", start, start + op.length);
  };

  while (i < n) {
    const c = code(i);
    const start = i;
    if (isPgSpace(c)) {
      i++;
    } else if (c === 45 && code(i + 1) === 45) {
      i += 2;
      while (i < n && !isNewline(code(i))) i++;
    } else if (c === 47 && code(i + 1) === 42) {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (code(j) === 47 && code(j + 1) === 42) {
          depth++;
          j += 2;
        } else if (code(j) === 42) {
          while (code(j) === 42) j++;
          if (code(j) === 47) {
            depth--;
            j++;
          }
        } else {
          j++;
        }
      }
      if (depth > 0) unterminated(start);
      else i = j;
    } else if (c === 39) {
      string(start, i + 1, !options.standardConformingStrings, true);
    } else if ((c | 32) === 101 && code(i + 1) === 39) {
      string(start, i + 2, true, true);
    } else if (((c | 32) === 98 || (c | 32) === 120) && code(i + 1) === 39) {
      string(start, i + 2, false, false);
    } else if ((c | 32) === 110 && code(i + 1) === 39) {
      // N'…' is the keyword NATIONAL CHARACTER, then an ordinary string.
      push("ident", start, i + 1);
    } else if ((c | 32) === 117 && code(i + 1) === 38 && code(i + 2) === 39) {
      string(start, i + 3, false, true);
    } else if ((c | 32) === 117 && code(i + 1) === 38 && code(i + 2) === 34) {
      quotedIdent(start, i + 3);
    } else if (c === 34) {
      quotedIdent(start, i + 1);
    } else if (c === 36) {
      const tagEnd = dollarDelimiter(i);
      if (tagEnd > 0) {
        const close = text.indexOf(text.slice(i, tagEnd), tagEnd);
        if (close < 0) unterminated(start);
        else push("dollar", start, close + (tagEnd - i));
      } else if (isDigit(code(i + 1))) {
        // Parameters are plain digits: `$1_1` is `$1` then the identifier `_1`.
        let j = i + 1;
        while (isDigit(code(j))) j++;
        push("param", start, j);
      } else {
        push("other", start, i + 1);
      }
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (isIdentCont(code(j))) j++;
      push("ident", start, j);
    } else if (isDigit(c) || (c === 46 && isDigit(code(i + 1)))) {
      number(start);
    } else if (c === 58 && (code(i + 1) === 58 || code(i + 1) === 61)) {
      push("op", start, i + 2);
    } else if (c === 46 && code(i + 1) === 46) {
      push("op", start, i + 2);
    } else if (OP_CHARS.includes(text[i])) {
      operator(start);
    } else if (SELF_CHARS.includes(text[i])) {
      push("op", start, i + 1);
    } else {
      // scan.l {other}: any other character is a token of its own. A surrogate pair is never here: it is an identifier.
      push("other", start, i + 1);
    }
  }
  return tokens;
}
