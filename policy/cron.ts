// The cron subset freeze windows use: five fields (minute hour day-of-month month
// day-of-week), each `*`, a number, a range `a-b`, a step `*/n`, `a-b/n` or `a/n`, or a
// comma list of those; months and weekdays also by English three-letter name (JAN, MON).
// Day-of-week 0 and 7 are both Sunday. As in Vixie cron, when both day fields are restricted
// (neither starts with `*`) a day matches if EITHER matches; otherwise both must match.
// Not supported: seconds, years, `L`, `W`, `#`, `?`, and @-macros.

import { NAIVE_DAY_MS, NAIVE_MINUTE_MS, naiveFields, startOfNaiveDay } from './time-zone.ts';

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** A parsed cron expression; `matches*` work on local wall-clock fields. */
export interface CronSchedule {
  readonly source: string;
  /** Minutes that match, ascending. */
  readonly minutes: readonly number[];
  readonly hours: readonly boolean[];
  readonly daysOfMonth: readonly boolean[];
  readonly months: readonly boolean[];
  /** Index 0-6, Sunday = 0 (7 is folded into 0). */
  readonly daysOfWeek: readonly boolean[];
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
}

/** Result of {@link parseCron}: the schedule, or a reason naming the bad field. */
export type CronParseResult = { ok: true; schedule: CronSchedule } | { ok: false; error: string };

/** Parses a five-field cron expression of the supported subset (see the module note). */
export function parseCron(source: string): CronParseResult {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5) {
    return {
      ok: false,
      error: `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`,
    };
  }
  const sets: boolean[][] = [];
  for (let i = 0; i < 5; i++) {
    const parsed = parseField(parts[i]!, FIELDS[i]!);
    if (typeof parsed === 'string') return { ok: false, error: parsed };
    sets.push(parsed);
  }
  const [minute, hour, dom, month, dow] = sets as [boolean[], boolean[], boolean[], boolean[], boolean[]];
  if (dow[7] === true) dow[0] = true;
  return {
    ok: true,
    schedule: {
      source,
      minutes: minute.flatMap((on, m) => (on ? [m] : [])),
      hours: hour,
      daysOfMonth: dom,
      months: month,
      daysOfWeek: dow.slice(0, 7),
      domRestricted: !parts[2]!.startsWith('*'),
      dowRestricted: !parts[4]!.startsWith('*'),
    },
  };
}

function parseField(text: string, spec: FieldSpec): boolean[] | string {
  const set = new Array<boolean>(spec.max + 1).fill(false);
  for (const item of text.split(',')) {
    const m = /^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/(\d+))?$/.exec(item);
    if (m === null) return `${spec.name} field "${text}": cannot read "${item}"`;
    const [, range, stepText] = m;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) return `${spec.name} field "${text}": step must be at least 1`;
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = spec.min;
      hi = spec.max;
    } else {
      const [a, b] = range!.split('-');
      const from = value(a!, spec);
      if (from === undefined) return `${spec.name} field "${text}": "${a}" is not in ${spec.min}-${spec.max}`;
      lo = from;
      if (b !== undefined) {
        const to = value(b, spec);
        if (to === undefined) return `${spec.name} field "${text}": "${b}" is not in ${spec.min}-${spec.max}`;
        if (to < from) return `${spec.name} field "${text}": range ${a}-${b} runs backwards`;
        hi = to;
      } else {
        // `a/n` means "from a to the end, every n", as in Vixie and most cron implementations.
        hi = stepText === undefined ? from : spec.max;
      }
    }
    for (let v = lo; v <= hi; v += step) set[v] = true;
  }
  return set;
}

function value(token: string, spec: FieldSpec): number | undefined {
  const byName = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (byName >= 0) return byName + (spec.name === 'month' ? 1 : 0);
  if (!/^\d+$/.test(token)) return undefined;
  const n = Number(token);
  return n >= spec.min && n <= spec.max ? n : undefined;
}

/** Whether the local calendar day of `naiveDay` is a day the schedule fires on. */
function dayMatches(schedule: CronSchedule, naiveDay: number): boolean {
  const f = naiveFields(naiveDay);
  if (schedule.months[f.month] !== true) return false;
  const dom = schedule.daysOfMonth[f.day] === true;
  const dow = schedule.daysOfWeek[f.weekday] === true;
  return schedule.domRestricted && schedule.dowRestricted ? dom || dow : dom && dow;
}

/**
 * The latest naive minute at or before `naive` at which the schedule fires, not earlier than
 * `earliest`; `undefined` if there is none. Walks back day by day, skipping non-matching days
 * whole, so its cost grows with the number of days searched, not minutes.
 */
export function latestFiringAtOrBefore(
  schedule: CronSchedule,
  naive: number,
  earliest: number,
): number | undefined {
  let day = startOfNaiveDay(naive);
  let lastMinuteOfDay = Math.floor((naive - day) / NAIVE_MINUTE_MS);
  while (day + lastMinuteOfDay * NAIVE_MINUTE_MS >= earliest) {
    if (dayMatches(schedule, day)) {
      const lastHour = Math.floor(lastMinuteOfDay / 60);
      for (let h = lastHour; h >= 0; h--) {
        if (schedule.hours[h] !== true) continue;
        const maxMinute = h === lastHour ? lastMinuteOfDay % 60 : 59;
        for (let i = schedule.minutes.length - 1; i >= 0; i--) {
          const m = schedule.minutes[i]!;
          if (m > maxMinute) continue;
          const firing = day + (h * 60 + m) * NAIVE_MINUTE_MS;
          return firing >= earliest ? firing : undefined;
        }
      }
    }
    day -= NAIVE_DAY_MS;
    lastMinuteOfDay = 1439;
  }
  return undefined;
}
