/**
 * Registers the migration-drift function in a project's supabase/config.toml,
 * editing the text so that every other line and comment stays as it was. The
 * TOML is parsed only to validate it and to read the function's table.
 */
import { parse, TomlError } from "smol-toml";
import { DriftGuardError } from "./types.ts";

export const FUNCTION_NAME = "migration-drift";

/** The table `supabase functions new` would add, with the gateway's JWT check off: the function does its own auth. */
export const FUNCTION_SECTION = `[functions.${FUNCTION_NAME}]
enabled = true
# drift-guard authenticates callers itself (drift-guard tokens, the secret key, or a user JWT with
# app_metadata.drift_guard_role), so the gateway's JWT check stays off.
verify_jwt = false
import_map = "./functions/${FUNCTION_NAME}/deno.json"
entrypoint = "./functions/${FUNCTION_NAME}/index.ts"
`;

export interface ConfigEdit {
  /** The new text; equal to the input when nothing changes. */
  text: string;
  change: "added" | "unchanged" | "fixed_verify_jwt" | "verify_jwt_on";
}

/**
 * Adds `[functions.migration-drift]` to config.toml's text. An existing table is
 * left alone when its verify_jwt is false; otherwise `force` sets it to false and
 * the edit says `verify_jwt_on` without it. Throws a `bad_input` DriftGuardError,
 * naming the line, when the text is not TOML.
 *
 * @example
 * registerFunction('project_id = "x"\n', false).text
 * // => 'project_id = "x"\n\n[functions.migration-drift]\nenabled = true\n…'
 */
export function registerFunction(text: string, force: boolean): ConfigEdit {
  const parsed = parseConfig(text, "then run init again; it was not changed");
  const functions = parsed.functions as Record<string, Record<string, unknown>> | undefined;
  const existing = functions?.[FUNCTION_NAME];
  if (!existing) {
    const sep = text.length === 0 || text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n";
    return { text: `${text}${sep}${FUNCTION_SECTION}`, change: "added" };
  }
  if (existing.verify_jwt === false) return { text, change: "unchanged" };
  if (!force) return { text, change: "verify_jwt_on" };
  return { text: setVerifyJwtFalse(text), change: "fixed_verify_jwt" };
}

/** config.toml's text as TOML, or a `bad_input` error naming the line; `then` says what to do after fixing it. */
function parseConfig(text: string, then: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : "";
    const why = err instanceof TomlError ? err.message.split("\n")[0] : String(err);
    throw new DriftGuardError("bad_input", `supabase/config.toml is not valid TOML${where}: ${why}`, `fix the file (\`supabase\` cannot read it either), ${then}`);
  }
}

/**
 * The environments config.toml names: each `[remotes.<name>]` table (the Supabase
 * CLI's per-branch settings), with its `project_id` when it has one.
 *
 * @example
 * readRemotes('[remotes.staging]\nproject_id = "abcdefghijklmnopqrst"\n') // [{ name: "staging", project_id: "abcdefghijklmnopqrst" }]
 */
export function readRemotes(text: string): Array<{ name: string; project_id?: string }> {
  const remotes = parseConfig(text, "then run the check again").remotes;
  if (remotes === undefined) return [];
  if (typeof remotes !== "object" || remotes === null || Array.isArray(remotes)) {
    throw new DriftGuardError("bad_input", "supabase/config.toml: remotes is not a table of [remotes.<name>] tables");
  }
  return Object.entries(remotes as Record<string, unknown>).map(([name, table]) => {
    const projectId = (table as { project_id?: unknown } | null)?.project_id;
    return typeof projectId === "string" ? { name, project_id: projectId } : { name };
  });
}

/** Rewrites (or inserts) the verify_jwt line inside the function's table only. */
function setVerifyJwtFalse(text: string): string {
  const lines = text.split("\n");
  const header = lines.findIndex((l) => /^\s*\[\s*functions\s*\.\s*("migration-drift"|'migration-drift'|migration-drift)\s*\]/.test(l));
  if (header < 0) throw new DriftGuardError("bad_input", `cannot find the [functions.${FUNCTION_NAME}] header line in supabase/config.toml`, "set verify_jwt = false in it by hand");
  let end = lines.findIndex((l, i) => i > header && /^\s*\[/.test(l));
  if (end < 0) end = lines.length;
  const at = lines.findIndex((l, i) => i > header && i < end && /^\s*verify_jwt\s*=/.test(l));
  if (at >= 0) lines[at] = "verify_jwt = false";
  else lines.splice(header + 1, 0, "verify_jwt = false");
  return lines.join("\n");
}
