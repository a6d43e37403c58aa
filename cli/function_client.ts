/** Calls the deployed migration-drift function. HTTP errors become DriftGuardError with the contract's exit codes. */
import { codeForHttpStatus, DriftGuardError, type ErrorCode, isErrorCode } from "../shared/types.ts";

export interface FunctionTarget {
  url: string;
  token: string;
}

export function requireFunctionTarget(url: string | undefined, token: string | undefined): FunctionTarget {
  if (!url) throw new DriftGuardError("usage", "missing --url (or DRIFT_GUARD_URL)", "the function URL, e.g. https://<ref>.supabase.co/functions/v1/migration-drift");
  if (!token) throw new DriftGuardError("usage", "missing --token (or DRIFT_GUARD_TOKEN)", "create one with `drift-guard token create --scope read`");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DriftGuardError("usage", `--url is not a valid URL`);
  }
  // The token travels in every request: only over TLS, except to this machine.
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && isLoopback(parsed.hostname))) {
    throw new DriftGuardError("usage", `--url must be https:// (plain http only to localhost / 127.0.0.1 / [::1]); got ${parsed.protocol}//${parsed.host}`, "https://<ref>.supabase.co/functions/v1/migration-drift");
  }
  return { url: url.replace(/\/+$/, ""), token };
}

/**
 * Host names that never leave this machine.
 *
 * @example isLoopback("127.0.0.1") // true
 */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const MAX_REDIRECTS = 5;

/**
 * fetch that follows a redirect only within the same origin (scheme, host and
 * port), so neither the token nor the question goes anywhere else, and no
 * other host gets to answer in the function's name.
 */
async function fetchSameOrigin(url: string, init: RequestInit): Promise<Response> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await fetch(current, { ...init, redirect: "manual" });
    if (res.status < 300 || res.status > 399 || res.status === 304) return res;
    const location = res.headers.get("location");
    await res.body?.cancel();
    const next = location ? new URL(location, current) : null;
    if (!next || next.origin !== current.origin) {
      throw new DriftGuardError("unreachable", `the function at ${current.host} redirected to ${next ? next.origin : "nowhere"}: drift-guard does not follow redirects to another origin`, "give --url the function's final URL");
    }
    if (hop >= MAX_REDIRECTS) throw new DriftGuardError("unreachable", `too many redirects from ${current.host}`);
    current = next;
  }
}

/** Returns [status, body]. 200/201, and 409 with a report, are results; other statuses throw. */
export async function callFunction(target: FunctionTarget, method: string, route: string, body?: unknown): Promise<[number, unknown]> {
  let res: Response;
  try {
    res = await fetchSameOrigin(`${target.url}/${route}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err instanceof DriftGuardError) throw err;
    throw new DriftGuardError("unreachable", `cannot reach the function at ${new URL(target.url).host} (${(err as Error).name})`, "check --url and your network");
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    throw new DriftGuardError("unreachable", `the function answered ${res.status} with a body that is not JSON`, "is --url the migration-drift function?");
  }
  if (res.ok) return [res.status, parsed];
  const error = (parsed as { error?: { code?: string; message?: string; hint?: string } } | null)?.error;
  if (res.status === 409 && !error) return [res.status, parsed];
  const code: ErrorCode = isErrorCode(error?.code) ? error.code : codeForHttpStatus(res.status);
  throw new DriftGuardError(code, `function: ${error?.message ?? `HTTP ${res.status}`}`, error?.hint);
}
