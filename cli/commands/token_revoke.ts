/** `drift-guard token revoke`: revoke one token, named by --id or --label. */
import { Option } from "commander";
import { DriftGuardError, EXIT } from "../../shared/types.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { requireInstalled } from "../installed.ts";
import { lineWriter } from "../lines.ts";
import { dbUrlOption, requireDbUrl } from "../options.ts";

export const definition: CommandDefinition = {
  name: "token revoke",
  description: "revoke a token, named by --id or --label",
  options: () => [
    dbUrlOption(),
    new Option("--id <id>", "the token's id (uuid) or public id (the 12 hex digits after dg_)"),
    new Option("--label <label>", "the token's label"),
  ],
  argument: { spec: "[label-or-id]", description: "accepted only when it names exactly one token; prefer --id or --label", key: "which" },
  exitCodes: [0, 2, 3],
  examples: ["drift-guard token revoke --label github-pr", "drift-guard token revoke --id 3f2c…"],
};

const iso = (d: Date) => d.toISOString();

/**
 * Revokes the token; says so when it already was.
 * @example await run(deps, { dbUrl, label: "github-pr" })
 */
export async function run(deps: CliDeps, opts: { dbUrl?: string; which?: string; id?: string; label?: string }): Promise<number> {
  const url = requireDbUrl(opts.dbUrl, "token revoke");
  const given = [opts.which, opts.id, opts.label].filter((v) => v !== undefined);
  if (given.length !== 1) {
    throw new DriftGuardError("usage", "name exactly one token: --id ID or --label LABEL", "drift-guard token list shows ids and labels");
  }
  const which = (given[0] ?? "").trim();
  if (!which) throw new DriftGuardError("usage", "name the token to revoke: --id ID or --label LABEL");
  // --id and --label say what the text is. The bare form is kept for scripts, but the database
  // refuses it when a label equals another token's id (a decoy), instead of guessing.
  const [query, params] = opts.id !== undefined
    ? ["select drift_guard.revoke_token_by('id', $1) as token", [which]]
    : opts.label !== undefined
    ? ["select drift_guard.revoke_token_by('label', $1) as token", [which]]
    : ["select drift_guard.revoke_token($1) as token", [which]];
  const revoked = await withDatabase(deps, url, async (sql) => {
    await requireInstalled(sql);
    const [row] = await sql.unsafe<{ token: { id: string; label: string; already_revoked: boolean; revoked_at: string } | null }[]>(query, params);
    return row.token;
  });
  if (!revoked) {
    const what = opts.id !== undefined ? "id" : opts.label !== undefined ? "label" : "label or id";
    throw new DriftGuardError("not_found", `no token has the ${what} "${which}"`, "drift-guard token list shows them");
  }
  lineWriter(deps.stdout)(revoked.already_revoked
    ? `token "${revoked.label}" (id ${revoked.id}) was already revoked at ${iso(new Date(revoked.revoked_at))}`
    : `revoked token "${revoked.label}" (id ${revoked.id})`);
  return EXIT.ok;
}
