import { describe, expect, it } from 'vitest';
import type { ActionHistoryEntry } from '../context.ts';
import { action, context, decide, NOW, policy } from '../test-support/fixtures.ts';

const target = action().target;
const minutesAgo = (m: number) => new Date(Date.parse(NOW) - m * 60_000).toISOString();
const entry = (m: number, overrides: Partial<ActionHistoryEntry> = {}): ActionHistoryEntry => ({
  at: minutesAgo(m),
  verb: 'scale',
  target,
  ...overrides,
});
const history = (n: number, overrides: Partial<ActionHistoryEntry> = {}) =>
  Array.from({ length: n }, (_, i) => entry(i * 5 + 1, overrides));
const limit = (extra: Record<string, unknown> = {}) =>
  policy({
    id: 'calm-down',
    selector: { verbs: ['scale'] },
    rule: { type: 'rateLimit', maxActions: 3, window: '1h', ...extra },
  });

describe('rate limit', () => {
  it('allows the Nth action in the window and denies the N+1th', () => {
    expect(decide(limit(), action(), context({ history: history(2) })).result).toBe('allow');
    const d = decide(limit(), action(), context({ history: history(3) }));
    expect(d.result).toBe('deny');
    expect(d.violations[0]?.message).toBe(
      '3 actions matching this policy in the last 1h already reach the limit of 3; this one would be number 4',
    );
  });

  it('uses a half-open window (now - window, now]', () => {
    const edge = [entry(1), entry(2), entry(60)];
    expect(decide(limit(), action(), context({ history: edge })).result).toBe('allow');
    expect(decide(limit(), action(), context({ history: [entry(1), entry(2), entry(59.99)] })).result).toBe(
      'deny',
    );
  });

  it('ignores entries after now, so a later re-evaluation agrees', () => {
    expect(decide(limit(), action(), context({ history: [...history(2), entry(-5)] })).result).toBe('allow');
  });

  it('counts only what the selector matches', () => {
    const mixed = [...history(2), ...history(5, { verb: 'update' })];
    expect(decide(limit(), action(), context({ history: mixed })).result).toBe('allow');
  });

  it('counts per workload, namespace or cluster', () => {
    const other = { ...target, name: 'trainer' };
    const elsewhere = history(3, { target: other });
    expect(decide(limit({ per: 'workload' }), action(), context({ history: elsewhere })).result).toBe(
      'allow',
    );
    expect(decide(limit({ per: 'namespace' }), action(), context({ history: elsewhere })).result).toBe(
      'deny',
    );
    const otherCluster = history(3, { target: { ...target, cluster: 'gpu-west' } });
    expect(decide(limit({ per: 'namespace' }), action(), context({ history: otherCluster })).result).toBe(
      'allow',
    );
    expect(decide(limit({ per: 'cluster' }), action(), context({ history: otherCluster })).result).toBe(
      'allow',
    );
    expect(decide(limit({ per: 'selector' }), action(), context({ history: otherCluster })).result).toBe(
      'deny',
    );
    expect(
      decide(limit({ per: 'workload' }), action(), context({ history: history(3) })).violations[0]?.message,
    ).toMatch(/^3 actions on gpu-east\/ml\/Deployment\/inference in the last 1h/);
  });

  it('counts entries without labels against a label selector (errs towards fewer actions)', () => {
    const labelled = policy({
      id: 'calm-down',
      selector: { workloadSelector: { matchLabels: { app: 'inference' } } },
      rule: { type: 'rateLimit', maxActions: 3, window: '1h' },
    });
    const a = action({ workloadLabels: { app: 'inference' } });
    expect(decide(labelled, a, context({ history: history(3) })).result).toBe('deny');
    expect(
      decide(labelled, a, context({ history: history(3, { workloadLabels: { app: 'other' } }) })).result,
    ).toBe('allow');
  });

  it('treats maxActions 0 as "none at all"', () => {
    expect(decide(limit({ maxActions: 0 }), action(), context({ history: [] })).result).toBe('deny');
  });

  it('fails closed without a history, but an empty history is fine', () => {
    expect(decide(limit(), action(), context()).violations[0]?.message).toBe(
      'cannot be checked: context.history is not given',
    );
    expect(decide(limit(), action(), context({ history: [] })).result).toBe('allow');
  });

  it('rejects unreadable timestamps instead of guessing', () => {
    expect(() => decide(limit(), action(), context({ history: [entry(1, { at: 'yesterday' })] }))).toThrow(
      /context\.history\[0\]\.at is not an ISO 8601 timestamp/,
    );
  });

  it('validates the window', () => {
    expect(() => limit({ window: 'an hour' })).toThrow(/duration/);
  });
});
