/**
 * Escaping for GitHub-flavoured Markdown. Names, paths, messages and commands
 * come from files and from the database, so nothing from them may turn into
 * markup: no raw newline (which could start a heading or end a list item and
 * its code block), no tag, link, image or emphasis, and no terminal control
 * character (a step summary is also read with `cat`).
 */
import { visible } from "./text_escape.ts";

/**
 * A code span that holds any text, backticks and newlines included (shown as `\n`).
 *
 * @example codeSpan("a`b") // "``a`b``"
 */
export function codeSpan(s: string): string {
  const text = visible(s);
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  const padding = text.startsWith("`") || text.endsWith("`") || text === "" ? " " : "";
  return `${fence}${padding}${text}${padding}${fence}`;
}

/**
 * Prose that may carry `code spans`, on one line. A code span is what CommonMark
 * reads as one: a run of backticks closed by the next run of the same length; an
 * unclosed run is escaped like any other markup character. Outside spans: `&` and
 * `<` become entities, so no tag survives; emphasis, link and backtick characters
 * are backslash-escaped (an underscore inside a word cannot start emphasis, so it
 * stays readable); `://`, `www.` and `@` are broken with an escape, so no autolink
 * or linkified URL comes from a name. Control characters, newlines included, are shown escaped.
 *
 * @example prose("![x](https://e) <b>") // "!\\[x\\](https\\://e) &lt;b>"
 */
export function prose(s: string): string {
  const escape = (text: string) =>
    text
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/[\\*~[\]`@]/g, "\\$&")
      .replace(/:(?=\/\/)/g, "\\:")
      .replace(/\b(www)\./gi, "$1\\.")
      .replace(/_/g, (u, at: number, all: string) => (/[\p{L}\p{N}]/u.test(all[at - 1] ?? "") && /[\p{L}\p{N}]/u.test(all[at + 1] ?? "") ? u : "\\_"));
  const text = visible(s);
  let out = "";
  let plainFrom = 0;
  let i = 0;
  while (i < text.length) {
    if (text[i] !== "`") {
      i++;
      continue;
    }
    const runEnd = runOfBackticks(text, i);
    const run = runEnd - i;
    let close = -1;
    for (let k = runEnd; k < text.length;) {
      if (text[k] !== "`") {
        k++;
        continue;
      }
      const e = runOfBackticks(text, k);
      if (e - k === run) {
        close = k;
        break;
      }
      k = e;
    }
    if (close < 0) {
      i = runEnd;
      continue;
    }
    out += escape(text.slice(plainFrom, i)) + text.slice(i, close + run);
    i = plainFrom = close + run;
  }
  return out + escape(text.slice(plainFrom));
}

function runOfBackticks(text: string, from: number): number {
  let j = from;
  while (text[j] === "`") j++;
  return j;
}

/**
 * Table cells: one line, no column breaks. GFM reads `\|` as a literal pipe, even inside code spans.
 *
 * @example tableCell("a|b") // "a\\|b"
 */
export const tableCell = (s: string) => visible(s).replace(/\|/g, "\\|");

/**
 * A fenced code block whose fence no line inside can close; each line is
 * shown on one line, so a newline in a name cannot end the block early.
 *
 * @example codeBlock("sh", ["git mv a b"]) // ["```sh", "git mv a b", "```"]
 */
export function codeBlock(lang: string, lines: string[]): string[] {
  const safe = lines.map(visible);
  const longestRun = Math.max(2, ...safe.flatMap((l) => l.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  return [`${fence}${lang}`, ...safe, fence];
}
