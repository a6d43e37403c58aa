/** Calling the app in-process with real Requests, and checking what error bodies must never contain. */
import assert from "node:assert/strict";



export type App = (req: Request) => Promise<Response>;

export interface CallOptions {
  token?: string;
  apikey?: string;
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
  prefix?: string;
}

export async function call(app: App, method: string, route: string, opts: CallOptions = {}): Promise<{ status: number; body: any; text: string }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.apikey) headers.apikey = opts.apikey;
  const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await app(new Request(`http://127.0.0.1${opts.prefix ?? "/functions/v1/migration-drift"}${route}`, { method, headers, body }));
  assert.deepEqual(res.headers.get("content-type"), "application/json; charset=utf-8");
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

/** An error body: the contract's shape, and none of the secrets, SQL or stack frames. */
export function assertSafeError(res: { status: number; body: any; text: string }, status: number, code: string, secrets: string[] = []): void {
  assert.deepEqual(res.status, status, res.text);
  assert.deepEqual(Object.keys(res.body), ["error"]);
  assert.deepEqual(res.body.error.code, code, res.text);
  assert.deepEqual(typeof res.body.error.message, "string");
  for (const key of Object.keys(res.body.error)) assert(["code", "message", "hint"].includes(key), `unexpected key ${key}`);
  for (const secret of secrets.filter(Boolean)) assert(!res.text.includes(secret), `error body leaks a secret: ${res.text}`);
  assert(!/postgres(ql)?:\/\//i.test(res.text), `error body names a database URL: ${res.text}`);
  assert(!/(\n|\\n)\s*at \S|file:\/\/|\.[jt]s:\d+:\d+/.test(res.text), `error body has a stack trace: ${res.text}`);
  assert(!/\b(select|insert|update|delete)\b.*\b(from|into|set)\b/i.test(res.text), `error body has SQL: ${res.text}`);
}
