/**
 * One value per key, computed once however many callers ask at the same time:
 * concurrent callers of a key being computed await the same promise, so N
 * callers cost one computation and one copy in memory, not N. Only the newest
 * key is kept (a warm function serves one manifest against one history). A
 * failed computation is forgotten, so the next caller tries again.
 */
export interface SingleFlight<T> {
  /** The value for `key`, computing it with `compute` unless it is cached or being computed. */
  get(key: string, compute: () => Promise<T>): Promise<T>;
  /** Drops the cached value (e.g. when it must not be reused). */
  forget(key: string): void;
}

/**
 * @example
 *   const reports = singleFlight<string>();
 *   const body = await reports.get(`${manifestId} ${historyDigest}`, () => buildReport());
 */
export function singleFlight<T>(): SingleFlight<T> {
  let entry: { key: string; value: Promise<T> } | null = null;
  return {
    get(key, compute) {
      if (entry?.key === key) return entry.value;
      const mine = { key, value: compute() };
      entry = mine;
      mine.value.catch(() => {
        if (entry === mine) entry = null;
      });
      return mine.value;
    },
    forget(key) {
      if (entry?.key === key) entry = null;
    },
  };
}
