import { describe, expect, it } from 'vitest';
import type { PolicyDocumentInput } from '../schema.ts';
import { action, context, decide, policy } from '../test-support/fixtures.ts';

const freeze = (rule: Record<string, unknown>) =>
  policy({ id: 'freeze', rule: { type: 'freezeWindow', ...rule } as PolicyDocumentInput['rule'] });
const at = (now: string) => context({ now });

describe('freeze window: date ranges', () => {
  const holidays = freeze({
    timeZone: 'Europe/Berlin',
    windows: [{ start: '2025-12-20', end: '2026-01-05' }],
  });

  it('starts at local midnight in the rule time zone (inclusive)', () => {
    expect(decide(holidays, action(), at('2025-12-19T22:59:59Z')).result).toBe('allow');
    const d = decide(holidays, action(), at('2025-12-19T23:00:00Z'));
    expect(d.result).toBe('deny');
    expect(d.violations[0]?.message).toBe(
      'change freeze in effect (2025-12-20 00:00 to 2026-01-05 00:00 Europe/Berlin, window 2025-12-20 to 2026-01-05): no changes are allowed',
    );
    expect(d.violations[0]?.details).toMatchObject({
      windowStart: '2025-12-19T23:00:00.000Z',
      windowEnd: '2026-01-04T23:00:00.000Z',
    });
  });

  it('ends exclusively', () => {
    expect(decide(holidays, action(), at('2026-01-04T22:59:59.999Z')).result).toBe('deny');
    expect(decide(holidays, action(), at('2026-01-04T23:00:00Z')).result).toBe('allow');
  });

  it('accepts absolute instants with an offset', () => {
    const release = freeze({ windows: [{ start: '2025-06-11T10:00:00+02:00', end: '2025-06-11T12:00Z' }] });
    expect(decide(release, action(), at('2025-06-11T07:59:59Z')).result).toBe('allow');
    expect(decide(release, action(), at('2025-06-11T08:00:00Z')).result).toBe('deny');
    expect(decide(release, action(), at('2025-06-11T12:00:00Z')).result).toBe('allow');
  });

  it('reads now with any offset', () => {
    expect(decide(holidays, action(), at('2025-12-20T00:00:00+01:00')).result).toBe('deny');
  });
});

describe('freeze window: cron', () => {
  // Weekend freeze: Friday 18:00 to Monday 08:00 New York time.
  const weekend = freeze({
    timeZone: 'America/New_York',
    windows: [{ cron: '0 18 * * FRI', duration: '62h' }],
  });

  it('opens at the cron time in the rule time zone', () => {
    expect(decide(weekend, action(), at('2025-06-13T21:59:59Z')).result).toBe('allow'); // Fri 17:59:59 EDT
    const d = decide(weekend, action(), at('2025-06-13T22:00:00Z')); // Fri 18:00 EDT
    expect(d.result).toBe('deny');
    expect(d.violations[0]?.message).toBe(
      'change freeze in effect (2025-06-13 18:00 to 2025-06-16 08:00 America/New_York, window "0 18 * * FRI" for 62h): no changes are allowed',
    );
  });

  it('stays open for the duration and closes after it', () => {
    expect(decide(weekend, action(), at('2025-06-15T12:00:00Z')).result).toBe('deny'); // Sunday
    expect(decide(weekend, action(), at('2025-06-16T11:59:59Z')).result).toBe('deny'); // Mon 07:59:59 EDT
    expect(decide(weekend, action(), at('2025-06-16T12:00:00Z')).result).toBe('allow'); // Mon 08:00 EDT
    expect(decide(weekend, action(), at('2025-06-11T12:00:00Z')).result).toBe('allow'); // Wednesday
  });

  it('measures the duration in real time across a DST change', () => {
    // Berlin springs forward on Sunday 2025-03-30; Saturday 00:00 CET + 48 h = Monday 01:00 CEST.
    const saturday = freeze({
      timeZone: 'Europe/Berlin',
      windows: [{ cron: '0 0 * * SAT', duration: '48h' }],
    });
    expect(decide(saturday, action(), at('2025-03-28T22:59:59Z')).result).toBe('allow');
    expect(decide(saturday, action(), at('2025-03-28T23:00:00Z')).result).toBe('deny');
    expect(decide(saturday, action(), at('2025-03-30T22:59:59Z')).result).toBe('deny');
    expect(decide(saturday, action(), at('2025-03-30T23:00:00Z')).result).toBe('allow');
  });

  it('handles windows that fire daily and windows in any listed window', () => {
    const nightly = freeze({
      timeZone: 'UTC',
      windows: [
        { cron: '0 23 * * *', duration: '2h' },
        { start: '2030-01-01', end: '2030-01-02' },
      ],
    });
    expect(decide(nightly, action(), at('2025-06-11T00:30:00Z')).result).toBe('deny');
    expect(decide(nightly, action(), at('2025-06-11T01:00:00Z')).result).toBe('allow');
    expect(decide(nightly, action(), at('2030-01-01T12:00:00Z')).result).toBe('deny');
  });
});

describe('freeze window: emergencies', () => {
  const now = at('2025-12-24T12:00:00Z');
  const windows = [{ start: '2025-12-20', end: '2026-01-05' }];

  it('lets an emergency plan through when the policy allows it, and records the waiver', () => {
    const d = decide(freeze({ windows, allowEmergency: true }), action({ emergency: true }), now);
    expect(d.result).toBe('allow');
    expect(d.notApplicable[0]?.reason).toMatch(
      /waived: the plan is marked emergency and this policy allows emergencies/,
    );
  });

  it('denies an emergency plan when the policy does not allow emergencies', () => {
    const d = decide(freeze({ windows }), action({ emergency: true }), now);
    expect(d.result).toBe('deny');
    expect(d.violations[0]?.message).toMatch(
      /the plan is marked emergency, but this policy does not allow emergencies$/,
    );
  });

  it('denies a normal plan even when emergencies are allowed', () => {
    const d = decide(freeze({ windows, allowEmergency: true }), action(), now);
    expect(d.violations[0]?.message).toMatch(/only plans marked emergency may proceed$/);
  });
});

describe('freeze window: validation', () => {
  it.each([
    [{ windows: [] }, /rule\.windows: must have at least 1 item/],
    [{ windows: [{ cron: '0 18 * * FRI' }] }, /rule\.windows\[0\]\.duration: is required with cron/],
    [
      { windows: [{ cron: '0 18 * * FRI', duration: '1h', start: '2025-01-01' }] },
      /either cron and duration, or start and end/,
    ],
    [{ windows: [{ cron: '0 25 * * *', duration: '1h' }] }, /rule\.windows\[0\]\.cron: hour field "25"/],
    [{ windows: [{ cron: '0 0 * * *', duration: '400d' }] }, /at most 366d/],
    [
      { windows: [{ start: '2025-12-20', end: '2025-12-19' }] },
      /rule\.windows\[0\]\.end: must be after start/,
    ],
    [
      { windows: [{ start: '2025-02-30', end: '2025-03-01' }] },
      /rule\.windows\[0\]\.start: is not a valid date/,
    ],
    [{ windows: [{ start: 'tomorrow', end: '2025-03-01' }] }, /must be a date or date-time/],
    [
      { timeZone: 'Europe/Atlantis', windows: [{ start: '2025-01-01', end: '2025-01-02' }] },
      /rule\.timeZone: must be an IANA/,
    ],
  ])('rejects %j', (rule, error) => {
    expect(() => freeze(rule)).toThrow(error);
  });
});
