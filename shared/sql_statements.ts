/**
 * Splits SQL into statements the way the Supabase CLI (3.x) stores them in
 * `supabase_migrations.schema_migrations.statements`.
 *
 * The CLI does not parse SQL. It runs a character state machine that only
 * decides whether a `;` is a separator. We reproduce that machine, quirks
 * included, because the checksum of a file must equal the checksum of what the
 * CLI stored for it. The quirks are pinned by tests/sql_statements.test.ts and
 * by the differential tests that ask the real CLI.
 *
 * The same scan also reports which spans are comments and which are literals,
 * so `canonicalSql` (checksum.ts) sees the text exactly as the splitter does.
 */

export interface SqlScan {
  /** The text ends inside a comment or literal. */
  dangling: boolean;
  /** [start, end) of each raw statement, including its terminating `;`. */
  statements: Array<{ start: number; end: number; terminated: boolean }>;
  /** [start, end) spans that are comments (line or block). */
  comments: Array<[number, number]>;
  /** [start, end) spans copied verbatim: quoted strings and identifiers, dollar bodies, `\x` escapes. */
  literals: Array<[number, number]>;
}

interface State {
  /** Returns the next state, or null when `ch` ends the statement. */
  next(ch: string, end: number): State | null;
}

/** space, \t, \n, \v, \f, \r: the CLI's whitespace. */
function isSpace(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return c === 32 || (c >= 9 && c <= 13);
}

function isNewline(ch: string): boolean {
  return ch === "\n" || ch === "\r";
}

/**
 * Identifier characters as the CLI sees them: ASCII word chars, `$`, and
 * anything non-ASCII. Scanning by UTF-16 unit is equivalent to scanning by
 * code point here: both halves of a surrogate pair are non-ASCII.
 */
export function isIdentChar(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return c >= 128 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36;
}

class Scanner {
  readonly scan: SqlScan = { dangling: false, statements: [], comments: [], literals: [] };
  /** Start of the statement being scanned; look-behind never crosses it. */
  tokenStart = 0;
  private openAt = -1;
  /** Ready holds no state of its own, so one instance serves the whole scan. */
  readonly ready: Ready = new Ready(this);

  constructor(readonly text: string) {}

  /** True when a comment or literal is still open: the text ends inside it. */
  get dangling(): boolean {
    return this.openAt >= 0;
  }

  openSpan(at: number): void {
    this.openAt = at;
  }

  closeSpan(kind: "comments" | "literals", end: number): void {
    if (this.openAt >= 0) this.scan[kind].push([this.openAt, end]);
    this.openAt = -1;
  }

  /** Closes whatever span is still open at end of input. */
  closeDangling(state: State | null): void {
    if (this.openAt < 0) return;
    const inner = innermost(state);
    const isComment = inner instanceof LineComment || inner instanceof BlockComment || inner instanceof AfterEscapeString;
    const kind = isComment ? "comments" : "literals";
    this.closeSpan(kind, this.text.length);
  }

  /** Is the character just before `index` (inside the current statement) an identifier char? */
  identBefore(index: number): boolean {
    if (index <= this.tokenStart) return false;
    return isIdentChar(this.text[index - 1]);
  }

  /** Does the statement text before `end` finish with `word` (ASCII case-insensitive) as a whole word? */
  endsWithWord(end: number, word: string): boolean {
    const start = end - word.length;
    if (start < this.tokenStart) return false;
    for (let i = 0; i < word.length; i++) {
      const c = this.text.charCodeAt(start + i);
      // ASCII-only upper-casing, as the CLI does.
      if ((c >= 97 && c <= 122 ? c - 32 : c) !== word.charCodeAt(i)) return false;
    }
    return !this.identBefore(start);
  }

  endsWithBeginAtomic(end: number): boolean {
    if (!this.endsWithWord(end, "ATOMIC")) return false;
    let i = end - "ATOMIC".length;
    while (i > this.tokenStart && isSpace(this.text[i - 1])) i--;
    return this.endsWithWord(i, "BEGIN");
  }
}

function innermost(state: State | null): State | null {
  let s = state;
  while (s instanceof Parenthesized || s instanceof AtomicBody) s = s.prev;
  return s;
}

class Ready implements State {
  constructor(private readonly sc: Scanner) {}

  next(ch: string, end: number): State | null {
    const sc = this.sc;
    const at = end - ch.length;
    switch (ch) {
      case "$":
        // `a$b` is an identifier, not the start of a dollar tag.
        if (sc.identBefore(at)) return this;
        return new DollarTag(sc, at);
      case "'":
        sc.openSpan(at);
        return new Quoted(sc, ch, sc.endsWithWord(at, "E"));
      case '"':
        sc.openSpan(at);
        return new Quoted(sc, ch, false);
      case "-":
        return new Dash(sc);
      case "/":
        return new BlockComment(sc);
      case "\\":
        sc.openSpan(at);
        return new Escaped(sc);
      case ";":
        return null;
      case "(":
        return new Parenthesized(sc, sc.ready);
      case "c":
      case "C":
        if (sc.endsWithBeginAtomic(end)) return new AtomicBody(sc, sc.ready, end);
        return this;
      default:
        return this;
    }
  }
}

class Dash implements State {
  constructor(private readonly sc: Scanner) {}
  next(ch: string, end: number): State | null {
    if (ch === "-") {
      this.sc.openSpan(end - 2);
      return new LineComment(this.sc);
    }
    return this.sc.ready.next(ch, end);
  }
}

class LineComment implements State {
  constructor(private readonly sc: Scanner) {}
  next(ch: string, end: number): State | null {
    if (!isNewline(ch)) return this;
    this.sc.closeSpan("comments", end - ch.length);
    return this.sc.ready;
  }
}

/** Block comments nest. A `/` or `*` that completed a delimiter cannot start another one. */
class BlockComment implements State {
  private depth = 0;
  private afterDelimiter = false;
  constructor(private readonly sc: Scanner) {}

  next(ch: string, end: number): State | null {
    const pair = this.afterDelimiter ? "" : this.sc.text.slice(Math.max(this.sc.tokenStart, end - 2), end);
    const delta = pair === "/*" ? 1 : pair === "*/" ? -1 : 0;
    this.afterDelimiter = delta !== 0;
    if (this.depth === 0 && delta === 0) return this.sc.ready.next(ch, end);
    if (this.depth === 0) this.sc.openSpan(end - 2);
    this.depth += delta;
    if (this.depth > 0) return this;
    this.sc.closeSpan("comments", end);
    return this.sc.ready;
  }
}

/**
 * Inside '…' or "…". A delimiter closes it tentatively: a second delimiter right
 * after re-opens it (the doubled quote). E'…' strings also honour backslashes.
 */
class Quoted implements State {
  private closed = false;
  private backslash = false;
  constructor(private readonly sc: Scanner, private readonly delimiter: string, private readonly backslashEscapes: boolean) {}

  next(ch: string, end: number): State | null {
    if (this.closed) {
      if (ch === this.delimiter) {
        this.closed = false;
        return this;
      }
      this.sc.closeSpan("literals", end - ch.length);
      if (this.backslashEscapes) return new AfterEscapeString(this.sc).next(ch, end);
      return this.sc.ready.next(ch, end);
    }
    if (this.backslash) {
      this.backslash = false;
      return this;
    }
    if (this.backslashEscapes && ch === "\\") {
      this.backslash = true;
      return this;
    }
    if (ch === this.delimiter) this.closed = true;
    return this;
  }
}

/** After an E'…' string: whitespace holding a newline, then `'`, continues the same string. */
class AfterEscapeString implements State {
  private sawNewline = false;
  private dashes = 0;
  constructor(private readonly sc: Scanner) {}

  next(ch: string, end: number): State | null {
    if (this.dashes === 2) {
      if (isNewline(ch)) {
        this.sc.closeSpan("comments", end - 1);
        this.dashes = 0;
        this.sawNewline = true;
      }
      return this;
    }
    if (ch === "-") {
      this.dashes += 1;
      if (this.dashes === 2) this.sc.openSpan(end - 2);
      return this;
    }
    if (this.dashes === 0) {
      if (isSpace(ch)) {
        this.sawNewline ||= isNewline(ch);
        return this;
      }
      if (this.sawNewline && ch === "'") {
        this.sc.openSpan(end - 1);
        return new Quoted(this.sc, ch, true);
      }
    }
    return this.sc.ready.next(ch, end);
  }
}

class DollarTag implements State {
  constructor(private readonly sc: Scanner, private readonly start: number) {}
  next(ch: string, end: number): State | null {
    if (ch === "$") {
      this.sc.openSpan(this.start);
      return new DollarBody(this.sc, this.sc.text.slice(this.start, end));
    }
    if (isIdentChar(ch)) return this;
    return this.sc.ready.next(ch, end);
  }
}

/** The closing tag is searched for in a window that may overlap the opening tag, as the CLI does. */
class DollarBody implements State {
  constructor(private readonly sc: Scanner, private readonly tag: string) {}
  next(_ch: string, end: number): State | null {
    const from = end - this.tag.length;
    if (from >= this.sc.tokenStart && this.sc.text.startsWith(this.tag, from)) {
      this.sc.closeSpan("literals", end);
      return this.sc.ready;
    }
    return this;
  }
}

class Escaped implements State {
  constructor(private readonly sc: Scanner) {}
  next(_ch: string, end: number): State | null {
    this.sc.closeSpan("literals", end);
    return this.sc.ready;
  }
}

/**
 * Inside (…): a `;` does not end the statement. The CLI closes every open
 * parenthesis at the first `)` that returns its inner state to ready, and we
 * keep that behaviour.
 */
class Parenthesized implements State {
  constructor(private readonly sc: Scanner, public prev: State) {}
  next(ch: string, end: number): State | null {
    const inner = this.prev.next(ch, end);
    if (inner === null) {
      this.prev = this.sc.ready;
      return this;
    }
    this.prev = inner;
    if (!(inner instanceof Ready)) return this;
    return ch === ")" ? this.sc.ready : this;
  }
}

/** BEGIN ATOMIC … END: `;` separates inner statements until an `END` that starts one. */
class AtomicBody implements State {
  private pendingEnd = false;
  private statementHasContent = false;
  constructor(private readonly sc: Scanner, public prev: State, private statementStart: number) {}

  next(ch: string, end: number): State | null {
    const wasPendingEnd = this.pendingEnd;
    this.pendingEnd = false;
    if (wasPendingEnd && !isIdentChar(ch)) return this.sc.ready.next(ch, end);
    const inner = this.prev.next(ch, end);
    if (inner === null) {
      this.prev = this.sc.ready;
      this.statementStart = end;
      this.statementHasContent = false;
      return this;
    }
    this.prev = inner;
    if (!(inner instanceof Ready)) return this;
    if (!this.statementHasContent && this.sc.endsWithWord(end, "END")) {
      if (isBlankSql(this.sc.text, this.statementStart, end - 3)) this.pendingEnd = true;
      else this.statementHasContent = true;
    }
    return this;
  }
}

/** True when text[from, to) holds only whitespace and comments. */
function isBlankSql(text: string, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    if (isSpace(text[i])) {
      i += 1;
    } else if (text.startsWith("--", i)) {
      const nl = text.slice(i + 2, to).search(/[\n\r]/);
      if (nl === -1) return true;
      i += nl + 3;
    } else if (text.startsWith("/*", i)) {
      let depth = 1;
      let afterDelimiter = true;
      i += 2;
      while (i < to && depth > 0) {
        const pair: string = afterDelimiter ? "" : text.slice(i - 1, i + 1);
        const delta: number = pair === "/*" ? 1 : pair === "*/" ? -1 : 0;
        afterDelimiter = delta !== 0;
        depth += delta;
        i += 1;
      }
      if (depth > 0) return true;
    } else {
      return false;
    }
  }
  return true;
}

/** Scans SQL text into raw statements, comment spans and literal spans. */
export function scanSql(text: string): SqlScan {
  const sc = new Scanner(text);
  let state: State | null = sc.ready;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const end = i + 1;
    const next: State | null = state!.next(text[i], end);
    if (next === null) {
      sc.scan.statements.push({ start: sc.tokenStart, end, terminated: true });
      sc.tokenStart = end;
      state = sc.ready;
    } else {
      state = next;
    }
  }
  sc.scan.dangling = sc.dangling;
  sc.closeDangling(state);
  if (n > sc.tokenStart) sc.scan.statements.push({ start: sc.tokenStart, end: n, terminated: false });
  return sc.scan;
}

/** The CLI trims each statement and drops its trailing semicolons. */
export function trimStatement(raw: string): string {
  return raw.replace(/;+$/, "").trim();
}

/** Statements exactly as `supabase db push` / `migration repair --status applied` store them. */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  for (const s of scanSql(text).statements) {
    const stmt = trimStatement(text.slice(s.start, s.end));
    if (stmt.length > 0) out.push(stmt);
  }
  return out;
}

/**
 * The 1-based line of a file on which its statement `index` (1-based, as
 * splitStatements counts them) starts, or where `position` (Postgres's 1-based
 * character offset into that statement) falls. Null when there is no such statement.
 * @example statementLine("select 1;\n\nselect x;", 2) // 3
 */
export function statementLine(text: string, index: number, position: number | null = null): number | null {
  let n = 0;
  for (const s of scanSql(text).statements) {
    const raw = text.slice(s.start, s.end);
    const stmt = trimStatement(raw);
    if (stmt.length === 0) continue;
    if (++n !== index) continue;
    const begin = s.start + raw.indexOf(stmt);
    // Without a position: the statement's first line of SQL, after the comments it begins with.
    const at = position && position <= stmt.length ? begin + position - 1 : begin + stmt.length - stripLeadingComments(stmt).length;
    return text.slice(0, at).split("\n").length;
  }
  return null;
}

/**
 * Statements as the CLI stores them may begin with comments.
 * @example stripLeadingComments("-- why\ncreate table t ()") // "create table t ()"
 */
export function stripLeadingComments(statement: string): string {
  let s = statement;
  for (;;) {
    const t = s.replace(/^\s+/, "");
    if (t.startsWith("--")) {
      const nl = t.indexOf("\n");
      s = nl < 0 ? "" : t.slice(nl + 1);
    } else if (t.startsWith("/*")) {
      let depth = 0;
      let i = 0;
      for (; i < t.length; i++) {
        if (t.startsWith("/*", i)) {
          depth++;
          i++;
        } else if (t.startsWith("*/", i)) {
          depth--;
          i++;
          if (depth === 0) break;
        }
      }
      s = t.slice(i + 1);
    } else {
      return t;
    }
  }
}
