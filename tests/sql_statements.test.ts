/**
 * The splitter against what Supabase CLI 3.x stored for the same text.
 * tests/fixtures/cli_split_cases.json was recorded from `supabase migration
 * repair --status applied`; tests/differential.test.ts re-asks the live CLI.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { scanSql, splitStatements } from "../shared/sql_statements.ts";

const recorded: Array<{ sql: string; statements: string[] }> = JSON.parse(
  readFileSync(new URL("./fixtures/cli_split_cases.json", import.meta.url), "utf8"),
);

describe("splitStatements matches what the CLI stored", () => {
  it.each(recorded.map((c) => [JSON.stringify(c.sql).slice(0, 70), c] as const))("%s", (_, c) => {
    expect(splitStatements(c.sql)).toEqual(c.statements);
  });
});

describe("the CLI facts the issue lists", () => {
  const table: Array<[string, string, string[]]> = [
    ["BEGIN ATOMIC bodies keep their semicolons", "create function f() returns int language sql begin atomic select 1; select 2; end; select 3;", ["create function f() returns int language sql begin atomic select 1; select 2; end", "select 3"]],
    ["nested block comments", "select /* /* a; */ b; */ 1; select 2", ["select /* /* a; */ b; */ 1", "select 2"]],
    ["E'\\'' strings", "select E'\\''; select 2;", ["select E'\\''", "select 2"]],
    ["plain strings do not honour backslashes", "select 'a\\'; select 2;", ["select 'a\\'", "select 2"]],
    ["$tag$ bodies", "do $x$ begin perform 1; end $x$; select 1;", ["do $x$ begin perform 1; end $x$", "select 1"]],
    ["trims and drops trailing semicolons", "  select 1 ;;  ", ["select 1"]],
    ["a comment after ; starts the next statement", "select 1; -- note\nselect 2;", ["select 1", "-- note\nselect 2"]],
    ["empty file is {}", "", []],
    ["comment-only file is one statement", "-- only\n", ["-- only"]],
    ["CRLF: no trailing \\r", "select 1;\r\nselect 2;\r\n", ["select 1", "select 2"]],
    ["semicolons inside quoted identifiers", 'create policy "a;b" on t using (true); select 1', ['create policy "a;b" on t using (true)', "select 1"]],
    ["a $ after an identifier char is not a tag", "select a$b$; select 2;", ["select a$b$", "select 2"]],
    ["parentheses hide semicolons", "select (1; 2); select 3;", ["select (1; 2)", "select 3"]],
    ["the CLI closes all parentheses at the first inner )", "select ((1); 2); select 3;", ["select ((1)", "2)", "select 3"]],
  ];
  it.each(table)("%s", (_, sql, expected) => {
    expect(splitStatements(sql)).toEqual(expected);
  });
});

describe("scanSql spans", () => {
  it("reports comments and literals as the splitter sees them", () => {
    const sql = "select 'a;b', \"q\" -- c\n/* d */ from $t$x$t$";
    const { comments, literals } = scanSql(sql);
    expect(comments.map(([s, e]) => sql.slice(s, e))).toEqual(["-- c", "/* d */"]);
    expect(literals.map(([s, e]) => sql.slice(s, e))).toEqual(["'a;b'", '"q"', "$t$x$t$"]);
  });
});
