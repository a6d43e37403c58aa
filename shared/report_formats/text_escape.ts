/**
 * Escaping for text a person reads in a terminal. Names, reasons, labels and
 * statements come from whoever can write the database or holds a token; an
 * ESC or OSC sequence in one of them would otherwise be replayed by the
 * terminal (clear the screen, fake a hyperlink, rewrite earlier lines).
 */

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\x1b": "\\x1b" };

/**
 * C0 controls but tab (harmless, and kept so that SQL keeps its layout), C1
 * controls, DEL, and the invisible characters that reorder or hide text (bidi
 * overrides and isolates, line and paragraph separators).
 */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * One line of untrusted text, safe to print: every control character is shown
 * as an escape (`\x1b`, `\n`, `\u202e`…) instead of acting on the terminal.
 *
 * @example visible("a\x1b[2Jb\nc") // "a\\x1b[2Jb\\nc"
 */
export function visible(s: string): string {
  return s.replace(UNSAFE, (c) => NAMED[c] ?? (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/**
 * Every string in a JSON-like value passed through `visible`: how a whole
 * report is made safe before it is laid out as text.
 *
 * @example visibleDeep({ name: "a\x1b" }) // { name: "a\\x1b" }
 */
export function visibleDeep<T>(value: T): T {
  if (typeof value === "string") return visible(value) as T;
  if (Array.isArray(value)) return value.map((v) => visibleDeep(v)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, visibleDeep(v)])) as T;
  }
  return value;
}
