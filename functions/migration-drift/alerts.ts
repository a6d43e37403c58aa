/**
 * Webhook alerts for untracked schema changes (DRIFT_GUARD_WEBHOOK_URL).
 *
 * Each change is sent once: after the receiver answers 2xx, its ledger entries are marked
 * alerted. A receiver that is down, slow or failing never fails the check and delays it by
 * at most the timeout; the entries stay unalerted and go out with the next check.
 * Headers: X-Drift-Guard-Timestamp (unix seconds) and, with DRIFT_GUARD_WEBHOOK_SECRET,
 * X-Drift-Guard-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>.
 */
import { markAlerted } from "../../db/ledger.ts";
import type { Sql } from "../../db/connect.ts";
import { alertPayload, signedContent, unalerted } from "../../shared/ledger_alert.ts";
import type { UntrackedChange } from "../../shared/types.ts";

export interface AlertConfig {
  url: string;
  secret?: string;
  timeoutMs: number;
  project?: string;
}

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
  };
}

export function createAlerter(config: AlertConfig): Alerter {
  return async (sql, untracked) => {
    const fresh = unalerted(untracked);
    if (fresh.length === 0) return "nothing";
    const body = JSON.stringify(alertPayload(fresh, config.project));
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = { "content-type": "application/json", "x-drift-guard-timestamp": String(timestamp) };
    if (config.secret) headers["x-drift-guard-signature"] = `v1=${await hmacHex(config.secret, signedContent(timestamp, body))}`;
    try {
      const res = await fetch(config.url, { method: "POST", headers, body, signal: AbortSignal.timeout(config.timeoutMs) });
      await res.body?.cancel().catch(() => {});
      if (!res.ok) {
        console.error(`migration-drift: the webhook answered ${res.status}; the alert is retried on the next check`);
        return "failed";
      }
    } catch (err) {
      console.error(`migration-drift: the webhook failed (${(err as Error)?.name ?? "error"}); the alert is retried on the next check`);
      return "failed";
    }
    await markAlerted(sql, fresh.flatMap((g) => g.changes.map((c) => c.id))).catch((err) => {
      console.error("migration-drift: could not record the alert as sent", (err as { code?: string })?.code ?? err);
    });
    return "sent";
  };
}
