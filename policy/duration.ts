// Durations written the way operators write them in flags and YAML: "90s", "15m", "1h30m",
// "2d", "1w". Kept as text in documents (so a document round-trips unchanged) and converted
// to milliseconds when policies are compiled.

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const PART_PATTERN = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/**
 * Milliseconds in a duration such as `"1h30m"`; `undefined` when the text is not a positive
 * duration. Units: ms, s, m, h, d (24 h), w (7 d); parts add up.
 */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART_PATTERN)) total += Number(amount) * UNIT_MS[unit!]!;
  return total > 0 && Number.isFinite(total) ? Math.round(total) : undefined;
}
