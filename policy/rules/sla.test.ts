import { describe, expect, it } from 'vitest';
import { action, context, decide, policy } from '../test-support/fixtures.ts';

const sla = (minAvailable: number | string, extra: Record<string, unknown> = {}) =>
  policy({ id: 'keep-serving', rule: { type: 'sla', minAvailable, ...extra } });

describe('SLA (minimum available replicas)', () => {
  it('allows a scale-down to exactly the minimum and denies one below', () => {
    expect(decide(sla(3), action({ currentReplicas: 6, desiredReplicas: 3 })).result).toBe('allow');
    const d = decide(sla(3), action({ currentReplicas: 6, desiredReplicas: 2 }));
    expect(d.result).toBe('deny');
    expect(d.violations[0]?.message).toBe(
      'scale to 2 replicas leaves 2 available after the change, below the minimum of 3',
    );
  });

  it('reads a percentage of the current replicas, rounded up', () => {
    // 50% of 5 = 2.5 → 3.
    expect(decide(sla('50%'), action({ currentReplicas: 5, desiredReplicas: 3 })).result).toBe('allow');
    expect(
      decide(sla('50%'), action({ currentReplicas: 5, desiredReplicas: 2 })).violations[0]?.message,
    ).toBe('scale to 2 replicas leaves 2 available after the change, below the minimum of 3 (50% of 5)');
  });

  it('checks availability during a rolling change (Kubernetes default 25% unavailable)', () => {
    // 8 replicas, default maxUnavailable floor(8 / 4) = 2 → 6 available during the update.
    const update = (extra = {}) =>
      action({ verb: 'update', currentReplicas: 8, desiredReplicas: undefined, ...extra });
    expect(decide(sla(6), update()).result).toBe('allow');
    expect(decide(sla(7), update()).violations[0]?.message).toBe(
      'update leaves 6 of 8 replicas available during the change (up to 2 unavailable at once), below the minimum of 7',
    );
    expect(decide(sla(7), update({ maxUnavailable: 1 })).result).toBe('allow');
    expect(decide(sla(8), update({ maxUnavailable: 0 })).result).toBe('allow');
  });

  it('does not count scale as a rolling change', () => {
    expect(decide(sla(4), action({ currentReplicas: 4, desiredReplicas: 6 })).result).toBe('allow');
  });

  it('uses ready replicas from the context when given', () => {
    const c = context({ availableReplicas: 5 });
    // 8 → 7 replicas, but only 5 are ready: 5 stay available, which is not below the minimum of 5.
    expect(decide(sla(5), action({ currentReplicas: 8, desiredReplicas: 7 }), c).result).toBe('allow');
    expect(decide(sla(5), action({ currentReplicas: 8, desiredReplicas: 4 }), c).result).toBe('deny');
  });

  it('never blocks an action that does not reduce availability', () => {
    // Already below the minimum: scaling up, or a no-surge update, must still be possible.
    expect(decide(sla(3), action({ currentReplicas: 1, desiredReplicas: 2 })).result).toBe('allow');
    expect(
      decide(sla(3), action({ verb: 'rollback', currentReplicas: 1, desiredReplicas: undefined })).result,
    ).toBe('allow');
  });

  it('needs the current replica count', () => {
    const d = decide(sla(2), action({ currentReplicas: undefined }));
    expect(d.violations[0]?.message).toBe('cannot be checked: action.currentReplicas is not given');
    expect(
      decide(sla(2, { onMissingInput: 'notApplicable' }), action({ currentReplicas: undefined })).result,
    ).toBe('allow');
  });

  it('rejects malformed minimums', () => {
    expect(() => sla('150%')).toThrow(/percentage/);
    expect(() => sla(-1)).toThrow(/minAvailable/);
    expect(() => sla('two')).toThrow(/percentage/);
  });
});
