/** `drift-guard token list`: the tokens, never their secrets. */
import { EXIT } from "../../shared/types.ts";
import type { TokenScope } from "../../db/tokens.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { requireInstalled } from "../installed.ts";
import { lineWriter, writeJson } from "../lines.ts";
import { dbUrlOption, formatOption, requireDbUrl } from "../options.ts";

export const definition: CommandDefinition = {
  name: "token list",
  description: "list tokens (never their secrets)",
  options: () => [dbUrlOption(), formatOption(["text", "json"])],
  exitCodes: [0, 2, 3],
  examples: ["drift-guard token list", "drift-guard token list --format json"],
};

interface TokenRow {
  id: string;
  label: string;
  scope: TokenScope;
  public_id: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/**
 * Lists the tokens as a table or JSON.
 * @example await run(deps, { dbUrl, format: "json" })
 */
export async function run(deps: CliDeps, opts: { dbUrl?: string; format: "text" | "json" }): Promise<number> {
  const url = requireDbUrl(opts.dbUrl, "token list");
  const rows = await withDatabase(deps, url, async (sql) => {
    await requireInstalled(sql);
    // Never the secret_hash column.
    return await sql.unsafe<TokenRow[]>(
      "select id, label, scope, public_id, created_at, last_used_at, revoked_at from drift_guard.tokens order by created_at, label",
    );
  });
  const tokens = rows.map((r) => ({
    id: r.id,
    label: r.label,
    scope: r.scope,
    public_id: r.public_id,
    status: r.revoked_at ? "revoked" : "active",
    created_at: iso(r.created_at),
    last_used_at: iso(r.last_used_at),
    revoked_at: iso(r.revoked_at),
  }));
  if (opts.format === "json") {
    writeJson(deps.stdout, tokens);
    return EXIT.ok;
  }
  const write = lineWriter(deps.stdout);
  if (tokens.length === 0) {
    write("no tokens: create one with drift-guard token create --scope read --label NAME");
    return EXIT.ok;
  }
  const header = ["LABEL", "SCOPE", "STATUS", "TOKEN", "CREATED", "LAST USED"];
  const body = tokens.map((t) => [t.label, t.scope, t.status, `dg_${t.public_id}_…`, t.created_at ?? "", t.last_used_at ?? "never"]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  for (const r of [header, ...body]) write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  "));
  return EXIT.ok;
}
