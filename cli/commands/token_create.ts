/** `drift-guard token create`: a new token, printed once; only its hash is stored. */
import { Buffer } from "node:buffer";
import { Option } from "commander";
import { sha256Hex } from "../../shared/checksum.ts";
import { DriftGuardError, EXIT } from "../../shared/types.ts";
import { TOKEN_SCOPES, type TokenScope } from "../../db/tokens.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { requireInstalled } from "../installed.ts";
import { lineWriter } from "../lines.ts";
import { dbUrlOption, requireDbUrl } from "../options.ts";

export const definition: CommandDefinition = {
  name: "token create",
  description: "print a new token once, on the last line of stdout; only its hash is stored",
  options: () => [
    dbUrlOption(),
    new Option("--scope <scope>", TOKEN_SCOPES.join(" < ")).choices(TOKEN_SCOPES).makeOptionMandatory(),
    new Option("--label <name>", "who or what uses it, e.g. github-ci").makeOptionMandatory(),
  ],
  exitCodes: [0, 2, 3],
  examples: ["drift-guard token create --scope read --label github-pr", "drift-guard token create --scope deploy --label github-deploy"],
};

/**
 * A fresh token: dg_<12 hex>_<32 random bytes, base64url>.
 * @example generateToken().token // "dg_3f2c9a0b1d4e_…"
 */
export function generateToken(): { token: string; publicId: string; secret: string } {
  const idBytes = crypto.getRandomValues(new Uint8Array(6));
  const secretBytes = crypto.getRandomValues(new Uint8Array(32));
  const publicId = Array.from(idBytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const secret = Buffer.from(secretBytes).toString("base64url");
  return { token: `dg_${publicId}_${secret}`, publicId, secret };
}

/**
 * Creates the token and prints it on the last line.
 * @example await run(deps, { dbUrl, scope: "read", label: "github-pr" })
 */
export async function run(deps: CliDeps, opts: { dbUrl?: string; scope: TokenScope; label: string }): Promise<number> {
  const url = requireDbUrl(opts.dbUrl, "token create");
  if (!TOKEN_SCOPES.includes(opts.scope)) {
    throw new DriftGuardError("usage", `unknown scope "${opts.scope}": use ${TOKEN_SCOPES.slice(0, -1).join(", ")} or ${TOKEN_SCOPES.at(-1)}`);
  }
  const label = (opts.label ?? "").trim();
  if (!label) throw new DriftGuardError("usage", "a token needs a --label, e.g. --label github-ci");
  if (/^[0-9a-f]{12}$/i.test(label) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(label)) {
    throw new DriftGuardError("usage", "a label may not look like a token id (a uuid or 12 hex digits): it could be mistaken for another token", "use a name, e.g. --label github-ci");
  }
  const { token, publicId, secret } = generateToken();
  const created = await withDatabase(deps, url, async (sql) => {
    await requireInstalled(sql);
    const [row] = await sql.unsafe<{ token: { id: string; label: string; scope: string; public_id: string } }[]>(
      "select drift_guard.create_token($1, $2, $3, $4) as token",
      [label, opts.scope, publicId, sha256Hex(secret)],
    );
    return row.token;
  });
  const write = lineWriter(deps.stdout);
  write(`created ${created.scope} token "${created.label}" (id ${created.id})`);
  write("copy it now: it is shown only this once, and only its hash is stored");
  write(token);
  return EXIT.ok;
}
