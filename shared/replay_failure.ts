/**
 * Why a migration could not be replayed into the shadow, and what to do: the
 * hint must name the real cause. Three causes, told apart by Postgres's error:
 *
 *  - migration: the migration's own error (a syntax error, an object it names
 *    that nothing creates…). It fails on real Postgres too, so `supabase db
 *    reset` would fail on it: fix the migration.
 *  - platform: the shadow lacks something the Supabase platform has (an
 *    extension, or a platform object our stand-ins do not have). `supabase db
 *    reset` may well run it: never tell the user to fix the migration.
 *  - pglite: PGlite (Postgres in WebAssembly) cannot run it (no shared
 *    libraries, no background workers…): use a real Postgres.
 */
import { DEFAULT_EXCLUDED_SCHEMAS } from "./schema_diff.ts";

export type ReplayFailureCause = "migration" | "platform" | "pglite";

export interface ReplayFailureInput {
  shadow: "embedded" | "postgres";
  sqlState: string | null;
  /** Postgres's message. */
  message: string;
  statement: string;
  /** Extensions that are only stand-ins in the shadow, with their schema. */
  standIns: ReadonlyArray<{ name: string; schema: string }>;
  /** Platform objects the live database has that the shadow could not build (db/shadow/bootstrap.ts), as "kind schema.name…". */
  unbuilt?: ReadonlyArray<{ object: string; error: string }>;
}

/** Schemas stand-ins put their stubs in, besides the extension's own schema. */
const STAND_IN_OBJECT_SCHEMAS: Record<string, string[]> = { pg_net: ["net"], pg_cron: ["cron"] };

/** Errors a migration makes on any Postgres: syntax, names nothing created, duplicates, bad data, wrong types. */
const MIGRATION_STATES = new Set(["42601", "42P01", "42703", "42883", "42704", "42P07", "42710", "42723", "42P06", "42P16", "42804", "42809", "42846", "42P10", "2BP01", "42P13", "42P17", "42830"]);
const MIGRATION_CLASSES = ["22", "23"];
/** What PGlite cannot do that a server can: shared libraries, preloading, background workers, file access. */
const PGLITE_STATES = new Set(["0A000", "58P01", "58000", "55000", "XX000", "53000", "53100", "53200", "53300"]);

/**
 * Classifies a replay failure and writes its hint.
 * @example classifyReplayFailure({ shadow: "embedded", sqlState: "42601", message: 'syntax error at or near "tabel"', statement: "create tabel t ()", standIns: [] }).cause // "migration"
 */
export function classifyReplayFailure(input: ReplayFailureInput): { cause: ReplayFailureCause; hint: string } {
  const where = input.shadow === "embedded" ? "the embedded shadow (PGlite)" : "the shadow database";
  const useSupabaseShadow = "pass --shadow-url with a database made by `supabase start` (it has the platform's schemas and extensions)";
  const text = `${input.message}\n${input.statement}`.toLowerCase();

  const unavailable = /extension "([^"]+)" is not available|could not open extension control file "[^"]*\/([^"/]+)\.control"/.exec(input.message);
  if (unavailable) {
    const name = unavailable[1] ?? unavailable[2];
    return {
      cause: "platform",
      hint: `${where} has no extension ${name} and no stand-in could be made for it; the migration is not at fault if the platform has ${name}: ${useSupabaseShadow}`,
    };
  }
  for (const u of input.unbuilt ?? []) {
    const name = u.object.replace(/^\S+ /, "").replace(/\(.*$/, "");
    const [schema, bare] = name.split(".");
    if (bare && (text.includes(name.toLowerCase()) || (text.includes(`"${bare.toLowerCase()}"`) && text.includes(schema.toLowerCase())))) {
      return {
        cause: "platform",
        hint: `the statement needs ${u.object}, which the live platform has but ${where} could not build (${u.error}): the migration is not at fault; ${useSupabaseShadow}`,
      };
    }
  }
  for (const s of input.standIns) {
    const schemas = [s.schema, ...(STAND_IN_OBJECT_SCHEMAS[s.name] ?? [])].filter((x) => x !== "public" && x !== "pg_catalog");
    if (schemas.some((x) => text.includes(`${x.toLowerCase()}.`) || text.includes(`"${x.toLowerCase()}".`)) || text.includes(s.name.toLowerCase())) {
      return {
        cause: "platform",
        hint: `the statement needs extension ${s.name}, which ${where} has only as a stand-in (its name, schema and a few stubs): the migration is not at fault; ${useSupabaseShadow}`,
      };
    }
  }
  const platformObject = new RegExp(String.raw`(?:^|[^\w$"])"?(${DEFAULT_EXCLUDED_SCHEMAS.join("|")})"?\.`, "i").exec(input.message);
  if (platformObject && input.sqlState && ["42P01", "42703", "42883", "42704", "3F000"].includes(input.sqlState)) {
    return {
      cause: "platform",
      hint: `the error names the platform schema ${platformObject[1]}, which the shadow has only as a stand-in: the migration is not at fault if \`supabase db reset\` runs it; ${useSupabaseShadow}`,
    };
  }
  const state = input.sqlState ?? "";
  if (input.shadow === "embedded" && PGLITE_STATES.has(state)) {
    return {
      cause: "pglite",
      hint: "PGlite (Postgres compiled to WebAssembly) cannot run this statement (no shared libraries, preloading or background workers): pass --shadow-url postgresql://… (an empty Postgres, or one made by `supabase start`)",
    };
  }
  if (MIGRATION_STATES.has(state) || MIGRATION_CLASSES.includes(state.slice(0, 2))) {
    return input.shadow === "embedded"
      ? {
        cause: "migration",
        hint: "the migration's own error: it fails on real Postgres too, so `supabase db reset` would fail on it; fix the statement " +
          "(to confirm on a real Postgres rather than PGlite, pass --shadow-url)",
      }
      : {
        cause: "migration",
        hint: "the migration's own error: it fails on a fresh Postgres with the platform's schemas and extensions, so `supabase db reset` would fail on it too; fix the statement",
      };
  }
  return input.shadow === "embedded"
    ? { cause: "pglite", hint: `this may be a PGlite limitation rather than the migration's fault: replay on a real Postgres to tell; ${useSupabaseShadow}, or an empty Postgres` }
    : { cause: "platform", hint: `if \`supabase db reset\` runs this migration, the shadow lacks something the platform has: ${useSupabaseShadow}` };
}
