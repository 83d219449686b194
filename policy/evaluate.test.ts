import { describe, expect, it } from 'vitest';
import { PolicyInputError, PolicySetError, PolicyValidationError } from './errors.ts';
import { evaluate } from './evaluate.ts';
import { compilePolicies } from './policy-set.ts';
import type { PolicyDocument } from './schema.ts';
import { action, context, policy } from './test-support/fixtures.ts';

/** A quota that `action()` (2 → 4 replicas) breaks. */
const breaks = (id: string, extra: Partial<PolicyDocument> = {}) =>
  policy({ id, ...extra, rule: { type: 'quota', scope: 'workload', maxReplicas: 3 } });
/** A quota that `action()` satisfies. */
const holds = (id: string, extra: Partial<PolicyDocument> = {}) =>
  policy({ id, ...extra, rule: { type: 'quota', scope: 'workload', maxReplicas: 10 } });
const exception = (id: string, exempts: string[], extra: Partial<PolicyDocument> = {}, expires?: string) =>
  policy({ id, ...extra, rule: { type: 'exception', exempts, ...(expires ? { expires } : {}) } });

const run = (...policies: PolicyDocument[]) => evaluate(action(), context(), policies);

describe('modes', () => {
  it('allows with no policies, and with policies that hold', () => {
    expect(run()).toEqual({
      result: 'allow',
      violations: [],
      matchedPolicies: [],
      exemptions: [],
      notApplicable: [],
    });
    expect(run(holds('a')).result).toBe('allow');
  });

  it('enforce denies, and the violation is marked enforced', () => {
    const d = run(breaks('a'));
    expect(d.result).toBe('deny');
    expect(d.violations).toMatchObject([
      { policyId: 'a', version: 1, mode: 'enforce', enforced: true, ruleType: 'quota' },
    ]);
  });

  it('warn allows with result warn and reports', () => {
    const d = run(breaks('a', { mode: 'warn' }));
    expect(d.result).toBe('warn');
    expect(d.violations).toMatchObject([{ policyId: 'a', mode: 'warn', enforced: false }]);
  });

  it('dryrun allows and records what would have been denied', () => {
    const d = run(breaks('a', { mode: 'dryrun' }));
    expect(d.result).toBe('allow');
    expect(d.violations).toMatchObject([{ policyId: 'a', mode: 'dryrun', enforced: false }]);
  });

  it('deny wins over warn and dryrun; warn wins over dryrun', () => {
    expect(run(breaks('a', { mode: 'warn' }), breaks('b'), breaks('c', { mode: 'dryrun' })).result).toBe(
      'deny',
    );
    expect(run(breaks('a', { mode: 'dryrun' }), breaks('b', { mode: 'warn' })).result).toBe('warn');
  });
});

describe('matching and order', () => {
  it('evaluates only policies whose selector matches, and lists them', () => {
    const d = run(
      breaks('web-only', { selector: { namespaces: ['web'] } }),
      holds('ml', { selector: { namespaces: ['ml'] } }),
    );
    expect(d.result).toBe('allow');
    expect(d.matchedPolicies).toEqual([{ id: 'ml', version: 1 }]);
  });

  it('reports every violation, in priority order then id, whatever the input order', () => {
    const policies = [
      breaks('b', { priority: 5 }),
      breaks('c', { priority: 10 }),
      breaks('a', { priority: 5 }),
    ];
    const d = run(...policies);
    expect(d.violations.map((v) => v.policyId)).toEqual(['c', 'a', 'b']);
    expect(run(...[...policies].reverse())).toEqual(d);
  });

  it('gives the same decision for documents and a compiled set', () => {
    const policies = [breaks('a', { mode: 'warn' }), holds('b'), exception('x', ['a'], { priority: 1 })];
    expect(evaluate(action(), context(), compilePolicies(policies))).toEqual(
      evaluate(action(), context(), policies),
    );
  });
});

describe('exceptions', () => {
  it('exempt a lower-priority policy: its violation is waived and recorded', () => {
    const d = run(
      breaks('quota', { priority: 10 }),
      exception('ml-team-waiver', ['quota'], { priority: 20 }),
    );
    expect(d.result).toBe('allow');
    expect(d.violations).toEqual([]);
    expect(d.exemptions).toEqual([
      {
        exceptionId: 'ml-team-waiver',
        exceptionVersion: 1,
        policyId: 'quota',
        policyVersion: 1,
        applied: true,
        reason: 'exception priority 20 is higher than policy priority 10',
        waivedViolation: expect.stringContaining('exceeds the quota of 3') as string,
      },
    ]);
    expect(d.matchedPolicies.map((p) => p.id)).toEqual(['ml-team-waiver', 'quota']);
  });

  it('do not apply at equal or lower priority', () => {
    for (const priority of [10, 9]) {
      const d = run(breaks('quota', { priority: 10 }), exception('waiver', ['quota'], { priority }));
      expect(d.result).toBe('deny');
      expect(d.exemptions).toMatchObject([
        { applied: false, reason: `exception priority ${priority} is not higher than policy priority 10` },
      ]);
    }
  });

  it('apply only to the actions their selector matches', () => {
    const d = run(
      breaks('quota'),
      exception('waiver', ['quota'], { priority: 1, selector: { namespaces: ['web'] } }),
    );
    expect(d.result).toBe('deny');
    expect(d.exemptions).toEqual([]);
  });

  it('apply only to the policies they name', () => {
    const d = run(breaks('quota'), breaks('other'), exception('waiver', ['quota'], { priority: 1 }));
    expect(d.violations.map((v) => v.policyId)).toEqual(['other']);
    expect(d.result).toBe('deny');
  });

  it('stop at their expiry (exclusive)', () => {
    const ex = (expires: string) => exception('waiver', ['quota'], { priority: 1 }, expires);
    expect(run(breaks('quota'), ex('2025-06-11T12:00:01Z')).result).toBe('allow');
    const d = run(breaks('quota'), ex('2025-06-11T12:00:00Z'));
    expect(d.result).toBe('deny');
    expect(d.exemptions[0]).toMatchObject({
      applied: false,
      reason: 'exception expired at 2025-06-11T12:00:00Z',
    });
  });

  it('are reported but not applied in dryrun mode', () => {
    const d = run(breaks('quota'), exception('waiver', ['quota'], { priority: 1, mode: 'dryrun' }));
    expect(d.result).toBe('deny');
    expect(d.exemptions[0]).toMatchObject({
      applied: false,
      reason: expect.stringContaining('dryrun') as string,
    });
  });

  it('are recorded even when the exempted policy holds', () => {
    const d = run(holds('quota'), exception('waiver', ['quota'], { priority: 1 }));
    expect(d.exemptions).toMatchObject([{ applied: true }]);
    expect(d.exemptions[0]?.waivedViolation).toBeUndefined();
  });

  it('cannot exempt other exceptions', () => {
    const d = run(
      breaks('quota'),
      exception('a', ['quota'], { priority: 5 }),
      exception('b', ['a'], { priority: 9 }),
    );
    expect(d.result).toBe('allow');
    expect(d.exemptions.map((e) => e.exceptionId)).toEqual(['a']);
  });
});

describe('inputs', () => {
  it('works with a minimal context { now }', () => {
    expect(evaluate(action(), { now: '2025-01-01T00:00:00Z' }, [holds('a')]).result).toBe('allow');
  });

  it('rejects a now that is not ISO 8601 with offset', () => {
    expect(() => evaluate(action(), { now: 'June 11, 2025' }, [])).toThrow(PolicyInputError);
    expect(() => evaluate(action(), { now: '2025-06-11T12:00:00' }, [])).toThrow(
      /context\.now must be an ISO 8601/,
    );
  });

  it('rejects duplicate ids and invalid documents', () => {
    expect(() => compilePolicies([holds('a'), breaks('a')])).toThrow(PolicySetError);
    const invalid = {
      ...holds('a'),
      rule: { type: 'quota', scope: 'galaxy', maxReplicas: 1 },
    } as unknown as PolicyDocument;
    expect(() => evaluate(action(), context(), [invalid])).toThrow(PolicyValidationError);
    expect(() => compilePolicies([invalid])).toThrow(/^policies\[0\] \(a\)\.rule\.scope: expected one of/);
  });

  it('snapshots the documents it compiles', () => {
    const doc = holds('a');
    const set = compilePolicies([doc]);
    (doc.rule as { maxReplicas: number }).maxReplicas = 1;
    expect(evaluate(action(), context(), set).result).toBe('allow');
    expect(Object.isFrozen(set.documents[0]?.rule)).toBe(true);
  });
});
