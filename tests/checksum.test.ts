/** Canonical checksum: cosmetic edits keep it, token edits change it, splitting never matters. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalChecksum, canonicalSql, compareCodePoints, historyDigest, statementsChecksum, utf8Length } from "../shared/checksum.ts";
import { splitStatements } from "../shared/sql_statements.ts";

describe("canonicalSql", () => {
  it.each([
    ["drops comments", "select 1 -- why\n/* more */ ;", "select 1"],
    ["collapses whitespace outside literals", "select   1,\n\t2", "select 1,2"],
    ["keeps literals byte for byte", "select '  a -- b  ', $$ x  /* y */ $$", "select '  a -- b  ',$$ x  /* y */ $$"],
    ["keeps quoted identifiers", 'create table "My  Table" ( id int )', 'create table "My  Table"(id int)'],
    ["a comment separates like whitespace", "select/**/1", "select 1"],
    ["no space is invented between operators and words", "a = b", "a=b"],
    ["operators that would merge keep their space", "a - -b", "a- -b"],
    ["collapses empty statements", ";; select 1;;; select 2 ;", "select 1;select 2"],
    ["E'' keeps its prefix apart from a word", "select e 'x'", "select e 'x'"],
  ])("%s", (_, input, expected) => {
    expect(canonicalSql(input)).toBe(expected);
  });
});

describe("checksum", () => {
  it("is sha256 over the canonical text", () => {
    expect(canonicalChecksum("select 1;")).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
  it("empty and comment-only files are equal to their stored form", () => {
    expect(canonicalChecksum("")).toBe(statementsChecksum([]));
    expect(canonicalChecksum("-- only\n")).toBe(statementsChecksum(["-- only"]));
    expect(canonicalChecksum("-- only\n")).toBe(canonicalChecksum(""));
  });
  it("does not depend on how the SQL was split", () => {
    const fn = "create function f() returns int language sql begin atomic select 1; select 2; end";
    expect(statementsChecksum([fn, "select 3"])).toBe(canonicalChecksum(`${fn};\nselect 3;`));
    // A naive splitter would cut the atomic body apart: same checksum.
    expect(statementsChecksum(["create function f() returns int language sql begin atomic select 1", "select 2", "end", "select 3"]))
      .toBe(canonicalChecksum(`${fn};\nselect 3;`));
    expect(statementsChecksum(["select 1; select 2"])).toBe(statementsChecksum(["select 1", "select 2"]));
  });
  it("a trailing line comment cannot swallow the rejoined separator", () => {
    expect(statementsChecksum(["select 1 -- c", "select 2"])).not.toBe(statementsChecksum(["select 1 -- c select 2"]));
  });
});

// ---- property tests ----------------------------------------------------------------

const word = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/);
const token = fc.oneof(
  word,
  fc.stringMatching(/^[0-9]{1,4}$/),
  fc.stringMatching(/^[a-z ;]{0,6}$/).map((s) => `'${s}'`),
  fc.stringMatching(/^[a-z ;-]{0,6}$/).map((s) => `$$${s}$$`),
  fc.stringMatching(/^[A-Za-z ;]{1,6}$/).map((s) => `"${s}"`),
  fc.constantFrom("(", ")", ",", "=", "<>", "::", ".", "*", "+", ";"),
);
const separator = fc.oneof(
  fc.constantFrom(" ", "  ", "\n", "\t", "\r\n", " \n  "),
  fc.stringMatching(/^[a-z ]{0,8}$/).map((s) => ` /* ${s} */ `),
  fc.stringMatching(/^[a-z ;']{0,8}$/).map((s) => ` -- ${s}\n`),
);

/**
 * Two string literals with a newline between them are one string to Postgres (scan.l
 * quotecontinue), so a separator holding a newline there is not cosmetic: a space is used.
 */
const render = (tokens: string[], seps: string[]) =>
  tokens.map((t, i) => (i ? (tokens[i - 1].endsWith("'") && t.startsWith("'") ? " " : seps[i % seps.length]) : "") + t).join("");

describe("properties", () => {
  it("cosmetic rewrites (whitespace, comments, line endings) keep the checksum", () => {
    fc.assert(fc.property(fc.array(token, { minLength: 1, maxLength: 25 }), fc.array(separator, { minLength: 1, maxLength: 5 }), (tokens, seps) => {
      expect(canonicalChecksum(render(tokens, seps))).toBe(canonicalChecksum(tokens.join(" ")));
    }), { numRuns: 400 });
  });

  it("any change to a token, inside literals too, changes the checksum", () => {
    const nonSeparator = token.filter((t) => t !== ";");
    fc.assert(fc.property(fc.array(nonSeparator, { minLength: 1, maxLength: 20 }), fc.nat(), fc.nat(), (tokens, which, at) => {
      const i = which % tokens.length;
      const t = tokens[i];
      // Change one letter or digit in place (keeps the token's kind), or append one.
      const letters = [...t].map((c, k) => (/[a-z0-9]/i.test(c) ? k : -1)).filter((k) => k >= 0);
      const mutated = letters.length
        ? (() => {
          const k = letters[at % letters.length];
          const c = t[k];
          const repl = /[0-9]/.test(c) ? String((Number(c) + 1) % 10) : c === "z" ? "y" : String.fromCharCode(c.charCodeAt(0) + 1);
          return t.slice(0, k) + repl + t.slice(k + 1);
        })()
        : t + t;
      fc.pre(mutated !== t);
      const changed = tokens.map((x, k) => (k === i ? mutated : x));
      expect(canonicalChecksum(changed.join(" "))).not.toBe(canonicalChecksum(tokens.join(" ")));
    }), { numRuns: 400 });
  });

  it("a file checks equal to its own stored statements, whatever it holds", () => {
    fc.assert(fc.property(fc.array(token, { maxLength: 30 }), fc.array(separator, { minLength: 1, maxLength: 4 }), (tokens, seps) => {
      const file = render(tokens, seps);
      expect(statementsChecksum(splitStatements(file))).toBe(canonicalChecksum(file));
    }), { numRuns: 300 });
  });
});

describe("historyDigest", () => {
  const rows = [
    { version: "2", name: "b", statements: ["select 2"] },
    { version: "1", name: "a", statements: ["select 1"] },
  ];
  it("is independent of row order and sensitive to every field", () => {
    expect(historyDigest(rows)).toBe(historyDigest([...rows].reverse()));
    expect(historyDigest(rows)).not.toBe(historyDigest([{ ...rows[0], name: "c" }, rows[1]]));
    expect(historyDigest(rows)).not.toBe(historyDigest([{ ...rows[0], statements: null }, rows[1]]));
    expect(historyDigest(rows)).not.toBe(historyDigest([{ ...rows[0], statements: [] }, rows[1]]));
    expect(historyDigest(rows)).not.toBe(historyDigest([{ ...rows[0], name: null }, rows[1]]));
    expect(historyDigest(rows)).not.toBe(historyDigest([rows[1]]));
    // Field boundaries are length-prefixed: moving text between fields changes the digest.
    expect(historyDigest([{ version: "1", name: "ab", statements: ["c"] }])).not.toBe(historyDigest([{ version: "1", name: "a", statements: ["bc"] }]));
  });
  it("orders by code point, like COLLATE \"C\"", () => {
    expect(["b", "a", "é", "😀", "Z"].sort(compareCodePoints)).toEqual(["Z", "a", "b", "é", "😀"]);
    expect(compareCodePoints("\uFF5E", "😀")).toBeLessThan(0);
  });
});

describe("utf8Length", () => {
  it("equals TextEncoder's byte count, surrogates included", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }), { numRuns: 500 });
    expect(utf8Length("\uD800x")).toBe(4);
  });
});

// ---- only what Postgres lexes as whitespace may vanish ----------------------------

/** Every character JavaScript's \s matches that Postgres 15 does not treat as whitespace, plus look-alikes. */
const NOT_POSTGRES_SPACE = [
  "\v", "\u00A0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008",
  "\u2009", "\u200A", "\u2028", "\u2029", "\u202F", "\u205F", "\u3000", "\uFEFF", "\u200B", "\u180E",
];

describe("Unicode whitespace", () => {
  const pushed = "create table public.secrets (id int, v text); alter table if exists public.secrets enable row level security;";

  it("a U+FEFF before `enable` is a semantic edit, not a cosmetic one", () => {
    const edited = pushed.replace(" enable", "\uFEFF enable");
    expect(canonicalChecksum(edited)).not.toBe(canonicalChecksum(pushed));
    expect(canonicalChecksum(edited)).not.toBe(statementsChecksum(splitStatements(pushed)));
  });

  it.each(NOT_POSTGRES_SPACE.map((c) => [c.codePointAt(0)!.toString(16), c]))("U+%s inside a statement is kept", (_, c) => {
    expect(canonicalChecksum(pushed.replace(" enable", `${c}enable`))).not.toBe(canonicalChecksum(pushed));
    expect(canonicalChecksum(pushed.replace(" enable", ` ${c} enable`))).not.toBe(canonicalChecksum(pushed));
    expect(canonicalSql(`select 1${c}+ 2`)).not.toBe(canonicalSql("select 1 + 2"));
  });

  it("Postgres's own whitespace still collapses", () => {
    expect(canonicalChecksum(pushed.replace(" enable", " \t\r\n\f enable"))).toBe(canonicalChecksum(pushed));
  });

  it("at statement edges the CLI's trim() applies, so trimmed Unicode spaces do not count", () => {
    for (const c of NOT_POSTGRES_SPACE.filter((x) => /\s/.test(x))) {
      const file = `${c}create table t (id int)${c} ;\n${c}select 1${c}`;
      expect(splitStatements(file)).toEqual(["create table t (id int)", "select 1"]);
      expect(canonicalChecksum(file)).toBe(canonicalChecksum("create table t (id int);\nselect 1;"));
      expect(statementsChecksum(splitStatements(file))).toBe(canonicalChecksum(file));
    }
  });

  it("a space hidden behind a comment at the edge is not trimmed, so it counts", () => {
    expect(canonicalChecksum("select 1 \u00A0/* c */;")).not.toBe(canonicalChecksum("select 1;"));
    expect(statementsChecksum(splitStatements("select 1 \u00A0/* c */;"))).toBe(canonicalChecksum("select 1 \u00A0/* c */;"));
  });

  it("property: no character Postgres lexes as part of a token is ignored inside a statement", () => {
    const inner = token.filter((t) => t !== ";");
    fc.assert(fc.property(fc.array(inner, { minLength: 2, maxLength: 15 }), fc.nat(), fc.constantFrom(...NOT_POSTGRES_SPACE), fc.boolean(), (tokens, at, c, padded) => {
      const gap = 1 + (at % (tokens.length - 1)); // between two tokens, never at a statement edge
      const base = tokens.join(" ");
      const edited = tokens.map((t, k) => (k === gap ? (padded ? ` ${c} ` : c) + t : (k ? " " : "") + t)).join("");
      expect(canonicalChecksum(edited)).not.toBe(canonicalChecksum(base));
      expect(statementsChecksum(splitStatements(edited))).toBe(canonicalChecksum(edited));
    }), { numRuns: 400 });
  });
});
