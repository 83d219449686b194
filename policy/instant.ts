// Timestamps the engine reads (context.now, history entries, SLO observations, exception
// expiry) must be ISO 8601 with an explicit offset. Date.parse alone also accepts
// implementation-specific formats ("March 7, 2025"), whose meaning could differ between the
// process that decided and the verifier that re-checks, so the shape is checked first.

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Epoch milliseconds of an ISO 8601 timestamp with offset; `undefined` for anything else. */
export function parseInstant(text: string): number | undefined {
  if (!ISO_INSTANT.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
