/**
 * API tokens: dg_<public_id>_<secret>. The public id (12 lowercase hex) finds the
 * row; only sha256(secret) is stored, and it is compared in constant time.
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Sql } from "./connect.ts";

/** The scopes, narrowest first: each includes those before it (repair includes deploy, deploy includes read). */
export const TOKEN_SCOPES = ["read", "deploy", "repair"] as const;
export type TokenScope = typeof TOKEN_SCOPES[number];

export interface VerifiedToken {
  id: string;
  label: string;
  scope: TokenScope;
}

const TOKEN_PATTERN = /^dg_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** Splits a token into its public id and secret; null when it is not one of ours. */
export function parseToken(token: string): { publicId: string; secret: string } | null {
  const m = TOKEN_PATTERN.exec(token.trim());
  return m ? { publicId: m[1], secret: m[2] } : null;
}

function secretHash(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

const DUMMY_HASH = Buffer.alloc(32);

/**
 * The token's identity and scope, or null for an unknown, malformed or revoked
 * token. Records the use (last_used_at) only when the secret matched.
 */
export async function verifyToken(sql: Sql, token: string): Promise<VerifiedToken | null> {
  const parsed = parseToken(token);
  if (!parsed) return null;
  const presented = secretHash(parsed.secret);
  const rows: { id: string; label: string; scope: TokenScope; secret_hash: string; revoked_at: Date | null }[] = await sql.unsafe(
    "select id, label, scope, secret_hash, revoked_at from drift_guard.find_token($1)",
    [parsed.publicId],
  );
  const row = rows[0];
  const stored = row && /^[0-9a-f]{64}$/.test(row.secret_hash) ? Buffer.from(row.secret_hash, "hex") : DUMMY_HASH;
  // Compare even when there is no row, so the timing does not tell the two apart.
  const matches = timingSafeEqual(presented, stored) && row !== undefined;
  if (!matches || row.revoked_at !== null) return null;
  if (!TOKEN_SCOPES.includes(row.scope)) return null;
  await sql.unsafe("select drift_guard.touch_token($1::uuid)", [row.id]);
  return { id: row.id, label: row.label, scope: row.scope };
}
