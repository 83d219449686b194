// Timestamps the engine reads (context.now, history entries, SLO observations, exception
// expiry) must be ISO 8601 with an explicit offset. Date.parse alone also accepts
// implementation-specific formats ("March 7, 2025"), whose meaning could differ between the
// process that decided and the verifier that re-checks, so the shape is checked first.

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

// The same history timestamps come back decision after decision; a bounded memo turns the
// regex + Date.parse into one Map lookup. Pure: the value depends only on the key.
const memo = new Map<string, number | undefined>();
const MEMO_LIMIT = 8192;

/** Epoch milliseconds of an ISO 8601 timestamp with offset; `undefined` for anything else. */
export function parseInstant(text: string): number | undefined {
  const cached = memo.get(text);
  if (cached !== undefined || memo.has(text)) return cached;
  let ms: number | undefined;
  if (ISO_INSTANT.test(text)) {
    const parsed = Date.parse(text);
    ms = Number.isNaN(parsed) ? undefined : parsed;
  }
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(text, ms);
  return ms;
}
