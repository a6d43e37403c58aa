/** Values compared and digested as canonical JSON: keys sorted, undefined left out, null for nothing. */

/** Whether two values are the same as canonical JSON. */
export function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/**
 * The value with object keys sorted and undefined fields left out.
 * @example JSON.stringify(canonical({ b: 1, a: undefined, c: null })) // '{"b":1,"c":null}'
 */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v ?? null;
}
