import { describe, expect, it } from 'vitest';
import type { CronSchedule } from './cron.ts';
import { latestFiringAtOrBefore, parseCron } from './cron.ts';

function schedule(source: string): CronSchedule {
  const parsed = parseCron(source);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.schedule;
}

/** Naive ms of a local wall-clock time. */
const at = (iso: string): number => Date.parse(`${iso}Z`);
const show = (naive: number | undefined): string | undefined =>
  naive === undefined ? undefined : new Date(naive).toISOString().slice(0, 16);

function latest(source: string, now: string, earliest = '2000-01-01T00:00'): string | undefined {
  return show(latestFiringAtOrBefore(schedule(source), at(now), at(earliest)));
}

describe('parseCron', () => {
  it('expands lists, ranges and steps', () => {
    const s = schedule('*/15 9-17/4 1,15 * 1-5');
    expect(s.minutes).toEqual([0, 15, 30, 45]);
    expect(s.hours.flatMap((on, h) => (on ? [h] : []))).toEqual([9, 13, 17]);
    expect(s.daysOfMonth.flatMap((on, d) => (on ? [d] : []))).toEqual([1, 15]);
    expect(s.daysOfWeek).toEqual([false, true, true, true, true, true, false]);
    expect(s.domRestricted && s.dowRestricted).toBe(true);
  });

  it('reads month and weekday names, and 7 as Sunday', () => {
    const s = schedule('0 0 * jan,DEC SAT,sun');
    expect(s.months.flatMap((on, m) => (on ? [m] : []))).toEqual([1, 12]);
    expect(s.daysOfWeek).toEqual([true, false, false, false, false, false, true]);
    expect(schedule('0 0 * * 7').daysOfWeek[0]).toBe(true);
  });

  it('reads a/n as "from a to the end, every n"', () => {
    expect(schedule('50/5 * * * *').minutes).toEqual([50, 55]);
  });

  it.each([
    ['* * * *', /expected 5 fields/],
    ['60 * * * *', /minute field "60"/],
    ['* 24 * * *', /hour field/],
    ['* * 0 * *', /day-of-month field/],
    ['* * * 13 *', /month field/],
    ['* * * * 8', /day-of-week field/],
    ['5-1 * * * *', /runs backwards/],
    ['*/0 * * * *', /step must be at least 1/],
    ['L * * * *', /minute field/],
    ['? * * * *', /cannot read/],
  ])('rejects %j', (source, error) => {
    const parsed = parseCron(source);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(error);
  });
});

describe('latestFiringAtOrBefore', () => {
  it('finds a firing at exactly now', () => {
    expect(latest('0 18 * * *', '2025-06-11T18:00')).toBe('2025-06-11T18:00');
  });

  it('goes back to the previous day when today has not fired yet', () => {
    expect(latest('0 18 * * *', '2025-06-11T17:59')).toBe('2025-06-10T18:00');
  });

  it('picks the latest minute of the latest hour', () => {
    expect(latest('*/20 9-17 * * *', '2025-06-11T13:59')).toBe('2025-06-11T13:40');
    expect(latest('*/20 9-17 * * *', '2025-06-11T08:00')).toBe('2025-06-10T17:40');
  });

  it('honours weekdays (2025-06-11 is a Wednesday)', () => {
    expect(latest('0 18 * * FRI', '2025-06-11T12:00')).toBe('2025-06-06T18:00');
  });

  it('ORs day-of-month and day-of-week when both are restricted', () => {
    // The 1st of the month or any Monday: Monday 2025-06-09 comes after Sunday 2025-06-01.
    expect(latest('0 0 1 * MON', '2025-06-11T12:00')).toBe('2025-06-09T00:00');
  });

  it('ANDs them when one starts with *', () => {
    // Odd days that are Mondays; with OR, Saturday 2025-06-07 would already match.
    expect(latest('0 0 */2 * MON', '2025-06-08T12:00')).toBe('2025-05-19T00:00');
  });

  it('stops at the earliest bound', () => {
    expect(latest('0 0 1 1 *', '2025-06-11T12:00', '2025-02-01T00:00')).toBeUndefined();
    expect(latest('0 0 31 2 *', '2025-06-11T12:00')).toBeUndefined();
  });
});
