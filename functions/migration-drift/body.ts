/** Reads a JSON request body without ever holding more than the limit in memory, or waiting past a deadline. */
import { DriftGuardError } from "../../shared/types.ts";

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Time a client has to send the whole body (DRIFT_GUARD_BODY_TIMEOUT_MS); a slow or stalled sender gets 408. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

const tooLarge = (limit: number) =>
  new DriftGuardError("payload_too_large", `the request body is larger than ${limit} bytes`, "a manifest this large is unusual: check what is being sent");

/**
 * The body, parsed as JSON, read within `limit` bytes and `timeoutMs` milliseconds.
 * @example await readJsonBody(req, DEFAULT_MAX_BODY_BYTES, DEFAULT_BODY_TIMEOUT_MS)
 */
export async function readJsonBody(req: Request, limit: number, timeoutMs: number = DEFAULT_BODY_TIMEOUT_MS): Promise<unknown> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge(limit);
  }
  if (!req.body) throw new DriftGuardError("bad_input", "the request has no body: expected JSON");

  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DriftGuardError("request_timeout", `the request body did not arrive within ${timeoutMs} ms`, "send the whole body at once, then retry")),
      timeoutMs,
    );
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw tooLarge(limit);
      chunks.push(value);
    }
  } catch (err) {
    // Stop reading from whoever was too slow or sent too much.
    reader.cancel().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return parseJson(chunks, total);
}

function parseJson(chunks: readonly Uint8Array[], total: number): unknown {
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DriftGuardError("bad_input", "the request body is not valid UTF-8");
  }
  if (!text.trim()) throw new DriftGuardError("bad_input", "the request body is empty: expected JSON");
  try {
    return JSON.parse(text);
  } catch {
    throw new DriftGuardError("bad_input", "the request body is not valid JSON", "send the JSON that `drift-guard manifest build` prints");
  }
}
