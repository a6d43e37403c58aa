/** Reads a JSON request body without ever holding more than the limit in memory. */
import { DriftGuardError } from "../../shared/types.ts";

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

const tooLarge = (limit: number) =>
  new DriftGuardError("payload_too_large", `the request body is larger than ${limit} bytes`, "a manifest this large is unusual: check what is being sent");

export async function readJsonBody(req: Request, limit: number): Promise<unknown> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge(limit);
  }
  if (!req.body) throw new DriftGuardError("bad_input", "the request has no body: expected JSON");

  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
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
