import { z } from 'zod';
import { text } from '../../domain/strings.ts';
import type { CronSchedule } from '../cron.ts';
import { latestFiringAtOrBefore, parseCron } from '../cron.ts';
import { parseDuration } from '../duration.ts';
import type { ActionProjection } from '../projection.ts';
import { fromNaive, isValidTimeZone, NAIVE_DAY_MS, NAIVE_MINUTE_MS, toNaive } from '../time-zone.ts';
import type { CompiledRule, RuleOutcome } from './common.ts';
import { DurationSchema, notApplicable, PASS, violation } from './common.ts';

const MAX_CRON_WINDOW_MS = 366 * NAIVE_DAY_MS;

// "2025-12-20", "2025-12-20T18:00", "2025-12-20T18:00:00" (local to the rule's time zone), or
// any of those with "Z" / "+01:00" (an absolute instant).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Instant of a window boundary, or undefined when the text is not a valid date-time. */
function boundaryInstant(text: string, timeZone: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', offset] = m;
  const naive = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(naive);
  // Reject 2025-02-30 and 24:00 rather than letting Date roll them over.
  if (
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi)
  ) {
    return undefined;
  }
  if (offset === undefined) return fromNaive(naive, timeZone);
  if (offset === 'Z') return naive;
  const sign = offset.startsWith('-') ? -1 : 1;
  const [oh, om] = offset.slice(1).split(':').map(Number);
  return naive - sign * (oh! * 60 + om!) * NAIVE_MINUTE_MS;
}

/**
 * One freeze window: either recurring (`cron` gives each start, in the rule's time zone, and
 * `duration` how long it lasts) or a date range `[start, end)`.
 */
export const FreezeWindowSchema = z
  .strictObject({
    cron: text({ max: 256 }).optional(),
    duration: DurationSchema.optional(),
    start: text({ max: 64 }).optional(),
    end: text({ max: 64 }).optional(),
  })
  .superRefine((w, ctx) => {
    const recurring = w.cron !== undefined || w.duration !== undefined;
    const range = w.start !== undefined || w.end !== undefined;
    if (recurring === range) {
      ctx.addIssue({ code: 'custom', message: 'must have either cron and duration, or start and end' });
      return;
    }
    if (recurring) {
      if (w.cron === undefined)
        ctx.addIssue({ code: 'custom', path: ['cron'], message: 'is required with duration' });
      if (w.duration === undefined)
        ctx.addIssue({ code: 'custom', path: ['duration'], message: 'is required with cron' });
      if (w.cron !== undefined) {
        const parsed = parseCron(w.cron);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', path: ['cron'], message: parsed.error });
      }
      const ms = w.duration === undefined ? undefined : parseDuration(w.duration);
      if (ms !== undefined && ms > MAX_CRON_WINDOW_MS) {
        ctx.addIssue({ code: 'custom', path: ['duration'], message: 'must be at most 366d' });
      }
    } else {
      if (w.start === undefined)
        ctx.addIssue({ code: 'custom', path: ['start'], message: 'is required with end' });
      if (w.end === undefined)
        ctx.addIssue({ code: 'custom', path: ['end'], message: 'is required with start' });
      for (const key of ['start', 'end'] as const) {
        const v = w[key];
        if (v !== undefined && !DATE_TIME.test(v)) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message:
              'must be a date or date-time such as "2025-12-20", "2025-12-20T18:00" or "2025-12-20T18:00:00Z"',
          });
        }
      }
    }
  });
export type FreezeWindow = z.infer<typeof FreezeWindowSchema>;

/**
 * Changes are denied while any window is open, unless the plan is marked emergency and
 * `allowEmergency` is true (the waiver is then recorded as not applicable, with the reason).
 */
export const FreezeWindowRuleSchema = z
  .strictObject({
    type: z.literal('freezeWindow'),
    /** IANA zone the cron expressions and local date-times are read in. @default 'UTC' */
    timeZone: z
      .string()
      .refine(isValidTimeZone, { message: 'must be an IANA time zone such as "Europe/Berlin" or "UTC"' })
      .default('UTC'),
    windows: z.array(FreezeWindowSchema).min(1),
    /** @default false */
    allowEmergency: z.boolean().default(false),
  })
  .superRefine((rule, ctx) => {
    if (!isValidTimeZone(rule.timeZone)) return;
    rule.windows.forEach((w, i) => {
      if (w.start === undefined || w.end === undefined) return;
      const start = boundaryInstant(w.start, rule.timeZone);
      const end = boundaryInstant(w.end, rule.timeZone);
      if (start === undefined)
        ctx.addIssue({ code: 'custom', path: ['windows', i, 'start'], message: 'is not a valid date' });
      if (end === undefined)
        ctx.addIssue({ code: 'custom', path: ['windows', i, 'end'], message: 'is not a valid date' });
      if (start !== undefined && end !== undefined && end <= start) {
        ctx.addIssue({
          code: 'custom',
          path: ['windows', i, 'end'],
          message: `must be after start (${w.start})`,
        });
      }
    });
  });
export type FreezeWindowRule = z.infer<typeof FreezeWindowRuleSchema>;

type CompiledWindow =
  | { readonly kind: 'range'; readonly start: number; readonly end: number; readonly text: string }
  | {
      readonly kind: 'cron';
      readonly schedule: CronSchedule;
      readonly durationMs: number;
      readonly text: string;
    };

/** Compiles a change-freeze rule. */
export function compileFreezeWindowRule(rule: FreezeWindowRule): CompiledRule {
  const tz = rule.timeZone;
  const windows: CompiledWindow[] = rule.windows.map((w) => {
    if (w.cron !== undefined) {
      const parsed = parseCron(w.cron);
      if (!parsed.ok) throw new Error(`unreachable: cron validated by the schema: ${parsed.error}`);
      return {
        kind: 'cron',
        schedule: parsed.schedule,
        durationMs: parseDuration(w.duration!)!,
        text: `"${w.cron}" for ${w.duration}`,
      };
    }
    return {
      kind: 'range',
      start: boundaryInstant(w.start!, tz)!,
      end: boundaryInstant(w.end!, tz)!,
      text: `${w.start} to ${w.end}`,
    };
  });

  return {
    evaluate(p: ActionProjection): RuleOutcome {
      for (const w of windows) {
        const open = w.kind === 'range' ? openRange(w, p.nowMs) : openCronWindow(w, p.nowMs, tz);
        if (open === undefined) continue;
        const span = `${localTime(open.start, tz)} to ${localTime(open.end, tz)} ${tz}`;
        const details = {
          windowStart: new Date(open.start).toISOString(),
          windowEnd: new Date(open.end).toISOString(),
          timeZone: tz,
          window: w.text,
          emergency: p.action.emergency === true,
        };
        if (p.action.emergency === true && rule.allowEmergency) {
          return notApplicable(
            `change freeze ${span} waived: the plan is marked emergency and this policy allows emergencies`,
          );
        }
        const why =
          p.action.emergency === true
            ? 'the plan is marked emergency, but this policy does not allow emergencies'
            : rule.allowEmergency
              ? 'only plans marked emergency may proceed'
              : 'no changes are allowed';
        return violation(`change freeze in effect (${span}, window ${w.text}): ${why}`, details);
      }
      return PASS;
    },
  };
}

function openRange(
  w: { start: number; end: number },
  now: number,
): { start: number; end: number } | undefined {
  return now >= w.start && now < w.end ? w : undefined;
}

/** The open occurrence of a cron window at `now`, if any. Only the latest start can still be open. */
function openCronWindow(
  w: { schedule: CronSchedule; durationMs: number },
  now: number,
  timeZone: string,
): { start: number; end: number } | undefined {
  const nowNaive = toNaive(now, timeZone);
  // Local time can run up to a day ahead of or behind UTC; search a margin past the duration.
  const earliest = nowNaive - w.durationMs - 2 * NAIVE_DAY_MS;
  let firing = latestFiringAtOrBefore(w.schedule, nowNaive, earliest);
  while (firing !== undefined) {
    const start = fromNaive(firing, timeZone);
    // A firing in a repeated (autumn) hour can map to an instant after `now`; step back past it.
    if (start <= now) return now < start + w.durationMs ? { start, end: start + w.durationMs } : undefined;
    firing = latestFiringAtOrBefore(w.schedule, firing - NAIVE_MINUTE_MS, earliest);
  }
  return undefined;
}

function localTime(epochMs: number, timeZone: string): string {
  return new Date(toNaive(epochMs, timeZone)).toISOString().slice(0, 16).replace('T', ' ');
}
