// Wall-clock time in IANA time zones, using only Intl.DateTimeFormat (pure, and present in
// every Node build with full ICU). Freeze windows and budget months are defined in local
// time, so the engine must convert both ways: instant → local fields, and local → instant.
//
// "Naive" times below are local wall-clock fields packed as if they were UTC milliseconds
// (Date.UTC(y, m-1, d, h, min)); this gives cheap calendar arithmetic on local time.

/** Local calendar fields of an instant; month is 1-12, weekday 0 (Sunday) - 6. */
export interface ZonedFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly weekday: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

// Formatters are costly to build and immutable once built: memoise one per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the runtime knows `timeZone` as an IANA zone name (or "UTC"). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

// Many policies in one evaluation ask for the same (zone, minute); a small memo keeps that to
// one Intl call. It is a pure cache: the answer depends only on the key.
const naiveCache = new Map<string, number>();
const NAIVE_CACHE_LIMIT = 256;

const EN_US_PATTERN = /^(\d{1,2})\/(\d{1,2})\/(\d{4}), (\d{2}):(\d{2}):(\d{2})$/;

/** Fallback for ICU builds that print dates differently: [year, month, day, hour, minute, second]. */
function fieldsFromParts(parts: Intl.DateTimeFormatPart[]): number[] {
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value ?? 0);
  return [get('year'), get('month'), get('day'), get('hour'), get('minute'), get('second')];
}

/** Local wall-clock time of `epochMs` in `timeZone`, as naive milliseconds (seconds kept, ms dropped). */
export function toNaive(epochMs: number, timeZone: string): number {
  const second = Math.floor(epochMs / 1000);
  const key = `${timeZone}|${second}`;
  const cached = naiveCache.get(key);
  if (cached !== undefined) return cached;
  const formatter = formatterFor(timeZone);
  // format() is about 3x cheaper than formatToParts(); en-US with h23 prints "6/15/2025, 17:06:40".
  const m = EN_US_PATTERN.exec(formatter.format(second * 1000));
  const [year, month, day, hour, minute, sec] =
    m === null
      ? fieldsFromParts(formatter.formatToParts(second * 1000))
      : [m[3], m[1], m[2], m[4], m[5], m[6]].map(Number);
  const naive = Date.UTC(year!, month! - 1, day, hour, minute, sec);
  if (naiveCache.size >= NAIVE_CACHE_LIMIT) naiveCache.clear();
  naiveCache.set(key, naive);
  return naive;
}

/** Fields of a naive time (see the module note). */
export function naiveFields(naive: number): ZonedFields {
  const d = new Date(naive);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/** Local fields of an instant in `timeZone`. */
export function zonedFields(epochMs: number, timeZone: string): ZonedFields {
  return naiveFields(toNaive(epochMs, timeZone));
}

/** UTC offset of `timeZone` at `epochMs`, in ms (positive east of Greenwich). */
export function offsetAt(epochMs: number, timeZone: string): number {
  return toNaive(epochMs, timeZone) - Math.floor(epochMs / 1000) * 1000;
}

/**
 * The instant at which local wall-clock time `naive` occurs in `timeZone`. Resolves DST the
 * way Temporal's "compatible" disambiguation does: a repeated local time (autumn) maps to its
 * earlier instant, a skipped local time (spring) is moved forward by the length of the gap.
 */
export function fromNaive(naive: number, timeZone: string): number {
  const key = `${timeZone}|${naive}`;
  const cached = instantCache.get(key);
  if (cached !== undefined) return cached;
  const instant = resolveNaive(naive, timeZone);
  if (instantCache.size >= NAIVE_CACHE_LIMIT) instantCache.clear();
  instantCache.set(key, instant);
  return instant;
}

// Window starts and month ends repeat across evaluations, so their instants are memoised too.
const instantCache = new Map<string, number>();

function resolveNaive(naive: number, timeZone: string): number {
  // Offsets a day either side bracket at most one transition (no zone changes twice a day).
  const before = offsetAt(naive - DAY_MS, timeZone);
  const after = offsetAt(naive + DAY_MS, timeZone);
  const whole = Math.floor(naive / 1000) * 1000;
  const candidates = before === after ? [naive - before] : [naive - before, naive - after];
  const valid = candidates.filter((c) => toNaive(c, timeZone) === whole);
  if (valid.length > 0) return Math.min(...valid);
  // Skipped local time: interpret with the offset in force before the gap, i.e. move forward.
  return naive - before;
}

/** Naive start of the local day that contains `naive`. */
export function startOfNaiveDay(naive: number): number {
  return Math.floor(naive / DAY_MS) * DAY_MS;
}

export const NAIVE_MINUTE_MS = MINUTE_MS;
export const NAIVE_DAY_MS = DAY_MS;
