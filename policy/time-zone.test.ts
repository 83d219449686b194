import { describe, expect, it } from 'vitest';
import { fromNaive, isValidTimeZone, offsetAt, toNaive, zonedFields } from './time-zone.ts';

const naive = (iso: string): number => Date.parse(`${iso}Z`);
const instant = (iso: string): number => Date.parse(iso);

describe('time zones', () => {
  it('validates zone names', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });

  it('gives local fields and offsets', () => {
    expect(zonedFields(instant('2025-06-11T12:00:00Z'), 'America/New_York')).toMatchObject({
      year: 2025,
      month: 6,
      day: 11,
      hour: 8,
      minute: 0,
      weekday: 3,
    });
    expect(offsetAt(instant('2025-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(3_600_000);
    expect(offsetAt(instant('2025-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(7_200_000);
    expect(offsetAt(instant('2025-07-15T12:00:00Z'), 'Asia/Kolkata')).toBe(19_800_000);
  });

  it('round-trips ordinary local times', () => {
    const t = instant('2025-06-11T12:34:56Z');
    expect(fromNaive(toNaive(t, 'Australia/Sydney'), 'Australia/Sydney')).toBe(t);
  });

  it('maps a repeated autumn hour to its earlier instant', () => {
    // Berlin, 2025-10-26: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
    expect(fromNaive(naive('2025-10-26T02:30:00'), 'Europe/Berlin')).toBe(instant('2025-10-26T00:30:00Z'));
  });

  it('moves a skipped spring time forward by the gap', () => {
    // Berlin, 2025-03-30: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist → 03:30 CEST.
    expect(fromNaive(naive('2025-03-30T02:30:00'), 'Europe/Berlin')).toBe(instant('2025-03-30T01:30:00Z'));
  });
});
