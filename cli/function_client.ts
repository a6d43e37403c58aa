/** Calls the deployed migration-drift function. HTTP errors become DriftGuardError with the contract's exit codes. */
import { codeForHttpStatus, DriftGuardError, type ErrorCode, isErrorCode } from "../shared/types.ts";

export interface FunctionTarget {
  url: string;
  token: string;
}

export function requireFunctionTarget(url: string | undefined, token: string | undefined): FunctionTarget {
  if (!url) throw new DriftGuardError("usage", "missing --url (or DRIFT_GUARD_URL)", "the function URL, e.g. https://<ref>.supabase.co/functions/v1/migration-drift");
  if (!token) throw new DriftGuardError("usage", "missing --token (or DRIFT_GUARD_TOKEN)", "create one with `drift-guard token create --scope read`");
  try {
    new URL(url);
  } catch {
    throw new DriftGuardError("usage", `--url is not a valid URL`);
  }
  return { url: url.replace(/\/+$/, ""), token };
}

/** Returns [status, body]. 200/201, and 409 with a report, are results; other statuses throw. */
export async function callFunction(target: FunctionTarget, method: string, route: string, body?: unknown): Promise<[number, unknown]> {
  let res: Response;
  try {
    res = await fetch(`${target.url}/${route}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
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
