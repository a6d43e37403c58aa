/**
 * The canonical checksum against Postgres's own scanner (libpg_query as WebAssembly):
 * shared/postgres_lexer.ts reads the tokens the real scanner reads, and the checksum
 * changes whenever the token stream Postgres sees changes, including where the CLI's
 * splitter reads the text otherwise.
 */
import fc from "fast-check";
import { loadModule, scanSync } from "libpg-query";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalChecksum, statementsChecksum } from "../shared/checksum.ts";
import { pgTokens } from "../shared/postgres_lexer.ts";
import { splitStatements } from "../shared/sql_statements.ts";

beforeAll(async () => {
  await loadModule();
});

/** The real scanner's token texts, comments left out; null where it refuses the text (unterminated, trailing junk). */
function oracleTokens(sql: string): string[] | null {
  try {
    return scanSync(sql).tokens.filter((t) => t.tokenName !== "SQL_COMMENT" && t.tokenName !== "C_COMMENT").map((t) => t.text);
  } catch {
    return null;
  }
}

const ours = (sql: string) => pgTokens(sql, { standardConformingStrings: true }).map((t) => t.text);

/**
 * What Postgres runs for a file: each statement the CLI stores, lexed on its own. Empty
 * statements are no-ops, so runs of `;` are one and leading or trailing ones go (as canonicalSql does).
 */
function postgresView(sql: string): string[][] | null {
  const view: string[][] = [];
  for (const statement of splitStatements(sql)) {
    const tokens = oracleTokens(statement);
    if (tokens === null) return null;
    const kept = tokens.filter((t, i) => t !== ";" || (i > 0 && tokens[i - 1] !== ";"));
    while (kept[0] === ";") kept.shift();
    while (kept.at(-1) === ";") kept.pop();
    if (kept.length) view.push(kept);
  }
  return view;
}

describe("edits that change what Postgres runs change the checksum", () => {
  it.each([
    ["a dollar quote the splitter closes early", "select $$$x -- $$ as label;", "select $$$x -- $$ as label || (select string_agg(secret, ',') from public.accounts);"],
    ["a tag that overlaps itself", "select $a$a$ -- x $a$ as label;", "select $a$a$ -- y $a$ as label;"],
    ["a number followed by a letter", "select 1.e5;", "select 1. e5;"],
    ["a U& string", "select U&'8';", "select U &'8';"],
    ["a continued string", "select 'a'\n'b';", "select 'a' 'b';"],
    ["backslashes once standard_conforming_strings is off", "set standard_conforming_strings = off;\nselect 'a\\' -- ';", "set standard_conforming_strings = off;\nselect 'a\\' -- ' || secret from accounts;"],
    ["the setting in SET LOCAL form", "set local standard_conforming_strings to 'off';\nselect 'a\\' -- ';", "set local standard_conforming_strings to 'off';\nselect 'a\\' -- ' || 1;"],
    ["the setting changed where it cannot be followed", "select set_config('standard_conforming_strings', 'off', false);\nselect 'a\\' -- ';", "select set_config('standard_conforming_strings', 'off', false);\nselect 'a\\' -- ' || 1;"],
    ["a client encoding whose bytes can end in a quote", "set client_encoding = 'SJIS';\nselect 1 -- a\n;", "set client_encoding = 'SJIS';\nselect 1 -- b\n;"],
  ])("%s", (_, reviewed, edited) => {
    expect(canonicalChecksum(edited)).not.toBe(canonicalChecksum(reviewed));
    // The file and the statements the CLI stores for it still agree.
    expect(canonicalChecksum(edited)).toBe(statementsChecksum(splitStatements(edited)));
  });

  it("the real scanner agrees that each of those edits is not cosmetic", () => {
    expect(oracleTokens("select $$$x -- $$ as label || 1")).toEqual(["select", "$$$x -- $$", "as", "label", "||", "1"]);
    expect(oracleTokens("select 1. e5")).toEqual(["select", "1.", "e5"]);
    expect(oracleTokens("select U &'8'")).toEqual(["select", "U", "&", "'8'"]);
  });

  it("with standard_conforming_strings on, the same text is cosmetic where Postgres sees a comment", () => {
    expect(canonicalChecksum("select 'a\\' -- x\n;")).toBe(canonicalChecksum("select 'a\\' -- y\n;"));
    expect(canonicalChecksum("set standard_conforming_strings = on;\nselect 1 -- x\n;")).toBe(canonicalChecksum("set standard_conforming_strings = on;\nselect 1 -- y\n;"));
    expect(canonicalChecksum("SET client_encoding = 'UTF8';\nselect 1 -- x\n;")).toBe(canonicalChecksum("SET client_encoding = 'UTF8';\nselect 1 -- y\n;"));
  });
});

// ---- generated SQL, held to the real scanner -------------------------------------------

/** Fragments chosen where the CLI's splitter, Postgres's lexer and naive canonicalisation part ways. */
const fragment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("select", "a", "b1", "e", "E", "U", "u", "x", "B", "N", "é", "_", "1", "12", "0", ".", "5.", "1.e5", "e5", "$1") },
  { weight: 6, arbitrary: fc.constantFrom(" ", "  ", "\n", "\t", "\r\n", "\f") },
  { weight: 4, arbitrary: fc.constantFrom("'", "''", "'x'", "E'", "U&'", "\\", "\\'", "\"", "\"q\"", "U&\"") },
  { weight: 4, arbitrary: fc.constantFrom("$$", "$", "$a$", "$a", "a$", "$$$") },
  { weight: 4, arbitrary: fc.constantFrom("--", "-- c\n", "/*", "*/", "/* c */", "/*/") },
  { weight: 4, arbitrary: fc.constantFrom("+", "-", "*", "/", "&", "|", "<", ">", "=", "!", "~", "@", "#", "%", "^", "?", ":", "::", "..", ",", "(", ")", "[", "]", ";") },
);
const sqlText = fc.array(fragment, { minLength: 1, maxLength: 24 }).map((parts) => parts.join(""));

/** One token-level edit or whitespace change at a random place. */
const edit = fc.tuple(fc.nat(), fc.constantFrom("insert", "delete", "replace"), fragment, fc.integer({ min: 1, max: 3 }));
function applyEdit(text: string, [at, kind, piece, length]: [number, string, string, number]): string {
  const i = text.length ? at % (text.length + 1) : 0;
  if (kind === "insert") return text.slice(0, i) + piece + text.slice(i);
  if (kind === "delete") return text.slice(0, i) + text.slice(i + length);
  return text.slice(0, i) + piece + text.slice(i + length);
}

describe("the hand-written lexer against libpg_query", () => {
  it("reads the same token texts wherever the real scanner accepts the text", () => {
    let compared = 0;
    fc.assert(fc.property(sqlText, (sql) => {
      const expected = oracleTokens(sql);
      // libpg_query's scanner ends a string at `'x' -- c⏎'y'` (and at `'x'⏎-- c⏎'y'`); PostgreSQL 15
      // continues it, a comment being whitespace between the two parts (see below).
      if (expected === null || /'\s*--/.test(sql)) return;
      compared++;
      expect(ours(sql)).toEqual(expected);
    }), { numRuns: 3000 });
    console.log(`postgres_lexer: ${compared} generated texts compared with libpg_query`);
    expect(compared).toBeGreaterThan(300);
  });
});

it("continues a string across a line comment and a newline, as PostgreSQL 15 does (select 'x' -- c⏎'y' is 'xy')", () => {
  expect(ours("select 'x' -- c\n'y' as v")).toEqual(["select", "'x' -- c\n'y'", "as", "v"]);
  expect(ours("select ''\r\n-- c\n'x' as v")).toEqual(["select", "''\r\n-- c\n'x'", "as", "v"]);
  // The splitter sees two literals there, so the statement is kept verbatim: a changed comment is an edit.
  expect(canonicalChecksum("select 'x' -- c\n'y';")).not.toBe(canonicalChecksum("select 'x' -- d\n'y';"));
});

describe("the checksum changes exactly when Postgres's token stream changes", () => {
  it("a different token stream never keeps the checksum", () => {
    let differing = 0;
    fc.assert(fc.property(sqlText, edit, (reviewed, e) => {
      const edited = applyEdit(reviewed, e);
      const before = postgresView(reviewed);
      const after = postgresView(edited);
      if (before === null || after === null || JSON.stringify(before) === JSON.stringify(after)) return;
      differing++;
      expect(canonicalChecksum(edited)).not.toBe(canonicalChecksum(reviewed));
    }), { numRuns: 4000 });
    expect(differing).toBeGreaterThan(300);
  });

  it("whitespace and comments where Postgres sees whitespace keep the checksum", () => {
    const word = fc.constantFrom("select", "a", "b1", "1", "12.5", "'x y'", "$$ -- $$", "\"Q\"", "(", ")", ",", "=", "::", "+", "*", "e'x'", "u&'x'");
    const gap = fc.constantFrom(" ", "\n", "\t", " /* c */ ", " -- c\n", "\r\n  ");
    fc.assert(fc.property(fc.array(word, { minLength: 1, maxLength: 16 }), fc.array(gap, { minLength: 1, maxLength: 4 }), (words, gaps) => {
      // Two strings with a newline between them are one string to Postgres: keep them apart with a space.
      const rendered = words.map((w, i) => (i ? (words[i - 1].endsWith("'") && w.includes("'") ? " " : gaps[i % gaps.length]) : "") + w).join("");
      const plain = words.join(" ");
      const same = JSON.stringify(postgresView(rendered)) === JSON.stringify(postgresView(plain));
      if (!same || postgresView(plain) === null) return;
      expect(canonicalChecksum(rendered)).toBe(canonicalChecksum(plain));
    }), { numRuns: 1000 });
  });
});
