/**
 * Webhook alerts for untracked schema changes (DRIFT_GUARD_WEBHOOK_URL).
 *
 * Each change is sent once. A check first claims the entries it is about to send, in the
 * database, so concurrent checks (in one function instance or several) never send the same
 * change twice; after the receiver answers 2xx, the entries are marked alerted. A receiver
 * that is down, slow or failing never fails the check and delays it by at most the timeout;
 * the claim is released and the entries go out with the next check.
 * Headers: X-Drift-Guard-Timestamp (unix seconds) and, with DRIFT_GUARD_WEBHOOK_SECRET,
 * X-Drift-Guard-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>.
 */
import { claimAlert, markAlerted, releaseAlert } from "../../db/ledger.ts";
import type { Sql } from "../../db/connect.ts";
import { alertPayload, selectChanges, signedContent } from "../../shared/ledger_alert.ts";
import type { UntrackedChange } from "../../shared/types.ts";

export interface AlertConfig {
  url: string;
  secret?: string;
  timeoutMs: number;
  project?: string;
  /** Where to review the changes: this function's GET /ledger (a repair token shows the statements). */
  link?: string;
}

/** How long a claim outlives the webhook's timeout: the time to record the delivery. */
const CLAIM_MARGIN_MS = 5_000;

export type Alerter = (sql: Sql, untracked: readonly UntrackedChange[]) => Promise<"sent" | "nothing" | "failed">;

/** Hex HMAC-SHA256, with Web Crypto (the same in Deno and Node). */
export async function hmacHex(secret: string, content: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(content)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The alert config from the environment, or null when no webhook is set. */
export function alertConfigFromEnv(env: (name: string) => string | undefined): AlertConfig | null {
  const url = env("DRIFT_GUARD_WEBHOOK_URL")?.trim();
  if (!url) return null;
  try {
    const u = new URL(url);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error("scheme");
  } catch {
    console.error("migration-drift: DRIFT_GUARD_WEBHOOK_URL is not an http(s) URL; alerts are off");
    return null;
  }
  const timeout = Number(env("DRIFT_GUARD_WEBHOOK_TIMEOUT_MS"));
  return {
    url,
    secret: env("DRIFT_GUARD_WEBHOOK_SECRET") || undefined,
    timeoutMs: Number.isInteger(timeout) && timeout > 0 && timeout <= 30_000 ? timeout : 3_000,
    project: env("SUPABASE_URL") ? new URL(env("SUPABASE_URL")!).hostname.split(".")[0] : undefined,
    link: env("SUPABASE_URL") ? `${new URL(env("SUPABASE_URL")!).origin}/functions/v1/migration-drift/ledger?status=untracked` : undefined,
  };
}

export function createAlerter(config: AlertConfig): Alerter {
  return async (sql, untracked) => {
    const candidates = selectChanges(untracked, (c) => !c.alerted);
    if (candidates.length === 0) return "nothing";
    let claimed: Set<string>;
    try {
      // Held for the delivery, plus the time to record it as sent.
      claimed = new Set(await claimAlert(sql, candidates.flatMap((g) => g.changes.map((c) => c.id)), config.timeoutMs + CLAIM_MARGIN_MS));
    } catch (err) {
      console.error("migration-drift: could not claim the alert; it is retried on the next check", (err as { code?: string })?.code ?? err);
      return "failed";
    }
    // What another check is sending, or has sent since this report was built, is left to it.
    const fresh = selectChanges(candidates, (c) => claimed.has(c.id));
    if (fresh.length === 0) return "nothing";
    const ids = fresh.flatMap((g) => g.changes.map((c) => c.id));
    const release = () =>
      releaseAlert(sql, ids).catch((err) => console.error("migration-drift: could not release the alert's claim; it lapses by itself", (err as { code?: string })?.code ?? err));
    const body = JSON.stringify(alertPayload(fresh, config.project, config.link));
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = { "content-type": "application/json", "x-drift-guard-timestamp": String(timestamp) };
    if (config.secret) headers["x-drift-guard-signature"] = `v1=${await hmacHex(config.secret, signedContent(timestamp, body))}`;
    try {
      const res = await fetch(config.url, { method: "POST", headers, body, signal: AbortSignal.timeout(config.timeoutMs) });
      await res.body?.cancel().catch(() => {});
      if (!res.ok) {
        console.error(`migration-drift: the webhook answered ${res.status}; the alert is retried on the next check`);
        await release();
        return "failed";
      }
    } catch (err) {
      console.error(`migration-drift: the webhook failed (${(err as Error)?.name ?? "error"}); the alert is retried on the next check`);
      await release();
      return "failed";
    }
    await markAlerted(sql, ids).catch((err) => {
      console.error("migration-drift: could not record the alert as sent", (err as { code?: string })?.code ?? err);
    });
    return "sent";
  };
}
