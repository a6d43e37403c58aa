/** `drift-guard install`, `token create|list|revoke` and `audit`. */
import { Buffer } from "node:buffer";
import process from "node:process";
import { sha256Hex } from "../shared/checksum.ts";
import { DriftGuardError, EXIT } from "../shared/types.ts";
import type { Sql } from "../db/connect.ts";
import { installSchema, schemaInstalled } from "../db/install.ts";
import { TOKEN_SCOPES, type TokenScope } from "../db/tokens.ts";
import { withDatabase } from "./database.ts";
import { listAudit } from "../db/audit.ts";
import { visible } from "../shared/report_formats/text_escape.ts";

interface DbOptions {
  dbUrl?: string;
}

function requireDbUrl(opts: DbOptions): string {
  if (!opts.dbUrl) throw new DriftGuardError("usage", "missing --db-url (or SUPABASE_DB_URL)", "drift-guard <command> --db-url postgresql://…");
  return opts.dbUrl;
}

async function requireInstalled(sql: Sql): Promise<void> {
  if (!(await schemaInstalled(sql))) {
    throw new DriftGuardError("not_installed", "drift_guard is not installed in this database: run drift-guard install", "drift-guard install --db-url …");
  }
}

/** Every line may carry labels, names or reasons from the database: shown escaped, never obeyed by the terminal. */
const write = (line = "") => process.stdout.write(visible(line) + "\n");
/** JSON escapes control characters itself, and its own newlines are layout. */
const writeJson = (json: string) => process.stdout.write(json + "\n");

// ---------------------------------------------------------------------------
// install
// ---------------------------------------------------------------------------

export async function installCommand(opts: DbOptions, _cmd?: unknown): Promise<number> {
  const url = requireDbUrl(opts);
  const result = await withDatabase(url, (sql) => installSchema(sql));
  if (result.applied.length === 0 && result.updated.length === 0) {
    write(`drift_guard is already up to date (schema version ${result.current})`);
  } else {
    for (const version of result.applied) write(`applied drift_guard schema version ${version}`);
    for (const version of result.updated) write(`updated drift_guard schema version ${version} (its file changed since it ran here)`);
    write(`drift_guard is installed (schema version ${result.current})`);
  }
  return EXIT.ok;
}

// ---------------------------------------------------------------------------
// token create | list | revoke
// ---------------------------------------------------------------------------

/** A fresh token: dg_<12 hex>_<32 random bytes, base64url>. */
export function generateToken(): { token: string; publicId: string; secret: string } {
  const idBytes = crypto.getRandomValues(new Uint8Array(6));
  const secretBytes = crypto.getRandomValues(new Uint8Array(32));
  const publicId = Array.from(idBytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const secret = Buffer.from(secretBytes).toString("base64url");
  return { token: `dg_${publicId}_${secret}`, publicId, secret };
}

export async function tokenCreateCommand(opts: DbOptions & { scope: TokenScope; label: string }, _cmd?: unknown): Promise<number> {
  const url = requireDbUrl(opts);
  if (!TOKEN_SCOPES.includes(opts.scope)) {
    throw new DriftGuardError("usage", `unknown scope "${opts.scope}": use read, deploy or repair`);
  }
  const label = (opts.label ?? "").trim();
  if (!label) throw new DriftGuardError("usage", "a token needs a --label, e.g. --label github-ci");
  if (/^[0-9a-f]{12}$/i.test(label) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(label)) {
    throw new DriftGuardError("usage", "a label may not look like a token id (a uuid or 12 hex digits): it could be mistaken for another token", "use a name, e.g. --label github-ci");
  }
  const { token, publicId, secret } = generateToken();
  const created = await withDatabase(url, async (sql) => {
    await requireInstalled(sql);
    const [row] = await sql.unsafe<{ token: { id: string; label: string; scope: string; public_id: string } }[]>(
      "select drift_guard.create_token($1, $2, $3, $4) as token",
      [label, opts.scope, publicId, sha256Hex(secret)],
    );
    return row.token;
  });
  write(`created ${created.scope} token "${created.label}" (id ${created.id})`);
  write("copy it now: it is shown only this once, and only its hash is stored");
  write(token);
  return EXIT.ok;
}

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

export async function tokenListCommand(opts: DbOptions & { format: "text" | "json" }, _cmd?: unknown): Promise<number> {
  const url = requireDbUrl(opts);
  const rows = await withDatabase(url, async (sql) => {
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
    writeJson(JSON.stringify(tokens, null, 2));
    return EXIT.ok;
  }
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

export async function tokenRevokeCommand(opts: DbOptions & { which?: string; id?: string; label?: string }, _cmd?: unknown): Promise<number> {
  const url = requireDbUrl(opts);
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
  const revoked = await withDatabase(url, async (sql) => {
    await requireInstalled(sql);
    const [row] = await sql.unsafe<{ token: { id: string; label: string; already_revoked: boolean; revoked_at: string } | null }[]>(query, params);
    return row.token;
  });
  if (!revoked) {
    const what = opts.id !== undefined ? "id" : opts.label !== undefined ? "label" : "label or id";
    throw new DriftGuardError("not_found", `no token has the ${what} "${which}"`, "drift-guard token list shows them");
  }
  write(revoked.already_revoked
    ? `token "${revoked.label}" (id ${revoked.id}) was already revoked at ${iso(new Date(revoked.revoked_at))}`
    : `revoked token "${revoked.label}" (id ${revoked.id})`);
  return EXIT.ok;
}

// ---------------------------------------------------------------------------
// audit
// ---------------------------------------------------------------------------

function describeActor(actor: Record<string, unknown>): string {
  for (const key of ["label", "user", "name", "email", "id"]) {
    const v = actor?.[key];
    if (typeof v === "string" && v) {
      const via = typeof actor.via === "string" ? ` via ${actor.via}` : "";
      // `drift-guard mcp`: the client's own claim from the MCP handshake (escaped by write like every field).
      const client = actor.mcp_client as { name?: unknown; version?: unknown } | undefined;
      const agent = typeof client?.name === "string" ? ` (MCP client ${client.name}${typeof client.version === "string" ? ` ${client.version}` : ""})` : "";
      return `${v}${via}${agent}`;
    }
  }
  return JSON.stringify(actor ?? {});
}

export async function auditCommand(opts: DbOptions & { format: "text" | "json" }, _cmd?: unknown): Promise<number> {
  const url = requireDbUrl(opts);
  const entries = await withDatabase(url, async (sql) => {
    await requireInstalled(sql);
    return await listAudit(sql);
  });
  if (opts.format === "json") {
    writeJson(JSON.stringify(entries, null, 2));
    return EXIT.ok;
  }
  if (entries.length === 0) {
    write("the audit log is empty: no repair has been applied");
    return EXIT.ok;
  }
  entries.forEach((e, i) => {
    if (i > 0) write();
    const status = e.kind === "undo" ? `undoes ${e.undoes}` : e.undone_by ? `undone by ${e.undone_by}` : "in effect";
    write(`${e.created_at}  ${e.kind}  ${e.id}  (${status})`);
    write(`  by:      ${describeActor(e.actor)}`);
    write(`  reason:  ${e.reason.replace(/\s*\n\s*/g, " ")}`);
    const changes = e.changes.map((c) => `${c.op} ${c.version}${c.name ? ` (${c.name})` : ""}`);
    write(`  changes: ${changes.length ? changes.join(", ") : "(none recorded)"}`);
    write(`  digest:  ${e.digest_before} -> ${e.digest_after}`);
  });
  return EXIT.ok;
}
