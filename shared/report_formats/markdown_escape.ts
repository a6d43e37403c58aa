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
 * Prose that may carry `code spans`, on one line. Outside them: `&` and `<`
 * become entities, so no tag survives, and emphasis and link characters are
 * backslash-escaped (an underscore inside a word cannot start emphasis, so it
 * stays readable). Control characters, newlines included, are shown escaped.
 *
 * @example prose("![x](https://e) <b>") // "!\\[x\\](https://e) &lt;b>"
 */
export function prose(s: string): string {
  const escape = (text: string) =>
    text
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/[\\*~[\]]/g, "\\$&")
      .replace(/_/g, (u, at: number, all: string) => (/[\p{L}\p{N}]/u.test(all[at - 1] ?? "") && /[\p{L}\p{N}]/u.test(all[at + 1] ?? "") ? u : "\\_"));
  return visible(s).split(/(`+[^`]*?`+)/g).map((part, i) => (i % 2 === 1 ? part : escape(part))).join("");
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
