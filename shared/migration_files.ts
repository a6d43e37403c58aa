/** Migration files as the Supabase CLI sees them: name rule, skipped files, duplicate versions. */
import { compareCodePoints, splitAndChecksum } from "./checksum.ts";
import { scanSql } from "./sql_statements.ts";
import type { LocalMigration, Problem } from "./types.ts";

/** The CLI's rule, verbatim: `^([0-9]+)_(.*)\.sql$`. */
const MIGRATION_FILE = /^([0-9]+)_(.*)\.sql$/;

export function parseMigrationFileName(fileName: string): { version: string; name: string } | null {
  const m = MIGRATION_FILE.exec(fileName);
  return m ? { version: m[1], name: m[2] } : null;
}

/** A file the adapter read from disk; bytes so that encoding errors are ours to report. */
export interface MigrationFileInput {
  /** Path shown to the user, e.g. supabase/migrations/2024…_x.sql */
  path: string;
  /** Base name, matched against the CLI's rule. */
  fileName: string;
  bytes: Uint8Array;
}

export interface ParsedMigrations {
  migrations: LocalMigration[];
  problems: Problem[];
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
/** WHATWG decoding with U+FFFD for each invalid sequence: what the Supabase CLI reads, pushes and stores. */
const lenientUtf8 = new TextDecoder("utf-8");

/**
 * A migration file's text as the Supabase CLI reads it; `replaced` when it was not valid UTF-8.
 * @example decodeMigrationText(new Uint8Array([0x61, 0xff])) // { text: "a\uFFFD", replaced: true }
 */
export function decodeMigrationText(bytes: Uint8Array): { text: string; replaced: boolean } {
  try {
    return { text: strictUtf8.decode(bytes), replaced: false };
  } catch {
    return { text: lenientUtf8.decode(bytes), replaced: true };
  }
}

export function parseMigrationFile(file: MigrationFileInput, version: string, name: string): LocalMigration {
  const { statements, checksum } = splitAndChecksum(decodeMigrationText(file.bytes).text);
  return { version, name, path: file.path, checksum, statements };
}

/**
 * Turns the files of a migrations directory into local migrations.
 * Skipped names are warnings (the CLI skips them too), and so are files that
 * are not valid UTF-8: the CLI pushes them with U+FFFD in place of each invalid
 * sequence, so they are read the same way and still paired with the history.
 * Duplicate versions are errors the user must fix.
 */
export function parseMigrationFiles(files: readonly MigrationFileInput[]): ParsedMigrations {
  const problems: Problem[] = [];
  const byVersion = new Map<string, LocalMigration[]>();
  const sorted = [...files].sort((a, b) => compareCodePoints(a.fileName, b.fileName));
  for (const file of sorted) {
    const parsed = parseMigrationFileName(file.fileName);
    if (!parsed) {
      problems.push({
        level: "warning",
        file: file.path,
        message: `skipped: the name does not match <version>_<name>.sql, so the Supabase CLI ignores this file too`,
      });
      continue;
    }
    const { text, replaced } = decodeMigrationText(file.bytes);
    if (replaced) {
      problems.push({
        level: "warning",
        file: file.path,
        message: "not valid UTF-8: read with U+FFFD in place of each invalid byte sequence, as the Supabase CLI reads and stores it; re-save the file as UTF-8",
      });
    }
    const { statements, checksum } = splitAndChecksum(text);
    const migration: LocalMigration = { version: parsed.version, name: parsed.name, path: file.path, checksum, statements };
    byVersion.set(parsed.version, [...(byVersion.get(parsed.version) ?? []), migration]);
  }
  const migrations: LocalMigration[] = [];
  for (const [version, list] of byVersion) {
    if (list.length > 1) {
      for (const m of list) {
        problems.push({
          level: "error",
          file: m.path,
          message: `duplicate version ${version}: ${list.map((x) => x.path).join(", ")} share it; give all but one a new timestamp`,
        });
      }
    }
    // Compare the first by name, as a sorted directory listing puts it first.
    migrations.push(list[0]);
  }
  migrations.sort((a, b) => compareCodePoints(a.version, b.version));
  return { migrations, problems };
}

/**
 * Stored statements -> the text of a migration file that splits back into
 * exactly those statements. A statement that ends inside a line comment gets
 * its `;` on the next line, or the comment would swallow it.
 */
export function renderMigrationFile(statements: readonly string[]): string {
  return statements
    .map((stmt) => {
      const { comments } = scanSql(stmt);
      const endsInComment = comments.some(([, end]) => end === stmt.length);
      return endsInComment ? `${stmt}\n;\n` : `${stmt};\n`;
    })
    .join("\n");
}

/**
 * A file name for a history row, or null when the row's version or name
 * cannot be one. Versions follow the CLI's rule (`^[0-9]+$`), so a version like
 * `../../x` never becomes a path; names may not hold separators, control or
 * format characters (U+202E, U+2066–2069, …), and the result must parse back to the same row.
 *
 * @example fileNameFor("20240101000000", "init") // "20240101000000_init.sql"
 * @example fileNameFor("../../../escaped", "pwn") // null
 */
export function fileNameFor(version: string, name: string | null): string | null {
  const n = name ?? "";
  if (!/^[0-9]+$/.test(version)) return null;
  // Control and format characters (Cc, Cf: bidi overrides and isolates, zero-width ones), line
  // separators and lone surrogates would make a listing show another name than the file has.
  if (/[\/\\]|[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u.test(n) || n === "." || n === "..") return null;
  const fileName = `${version}_${n}.sql`;
  const back = parseMigrationFileName(fileName);
  return back && back.version === version && back.name === n ? fileName : null;
}
