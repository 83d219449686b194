import { describe, expect, it } from 'vitest';
import type { PolicySelector } from './selector.ts';
import { compileLabelSelector, compileSelector, PolicySelectorSchema } from './selector.ts';
import { action } from './test-support/fixtures.ts';

describe('label selectors (Kubernetes semantics)', () => {
  const labels = { app: 'inference', tier: 'gpu', 'sentinel.io/team': 'ml' };

  it('an empty or absent selector matches everything, even no labels', () => {
    expect(compileLabelSelector(undefined)(undefined)).toBe(true);
    expect(compileLabelSelector({})(labels)).toBe(true);
    expect(compileLabelSelector({ matchLabels: {}, matchExpressions: [] })(undefined)).toBe(true);
  });

  it('matchLabels needs every pair', () => {
    expect(compileLabelSelector({ matchLabels: { app: 'inference', tier: 'gpu' } })(labels)).toBe(true);
    expect(compileLabelSelector({ matchLabels: { app: 'inference', tier: 'cpu' } })(labels)).toBe(false);
    expect(compileLabelSelector({ matchLabels: { app: 'inference' } })(undefined)).toBe(false);
  });

  it.each([
    ['In', ['inference', 'training'], true, false],
    ['NotIn', ['training'], true, true],
    ['NotIn', ['inference'], false, true],
    ['Exists', undefined, true, false],
    ['DoesNotExist', undefined, false, true],
  ] as const)('%s %j: with label → %s, without label → %s', (operator, values, withLabel, withoutLabel) => {
    const match = compileLabelSelector({
      matchExpressions: [{ key: 'app', operator, ...(values ? { values: [...values] } : {}) }],
    });
    expect(match(labels)).toBe(withLabel);
    expect(match({ other: 'x' })).toBe(withoutLabel);
  });

  it('ANDs matchLabels and every expression', () => {
    const match = compileLabelSelector({
      matchLabels: { tier: 'gpu' },
      matchExpressions: [
        { key: 'app', operator: 'In', values: ['inference'] },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    });
    expect(match(labels)).toBe(true);
    expect(match({ ...labels, canary: 'true' })).toBe(false);
  });

  it('does not match inherited properties such as toString', () => {
    expect(compileLabelSelector({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] })({})).toBe(
      false,
    );
  });

  it('rejects malformed selectors', () => {
    const bad = (s: unknown) => PolicySelectorSchema.safeParse(s).success;
    expect(bad({ workloadSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } })).toBe(false);
    expect(
      bad({ workloadSelector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } }),
    ).toBe(false);
    expect(bad({ workloadSelector: { matchLabels: { 'bad key!': 'x' } } })).toBe(false);
    expect(bad({ workloadSelector: { matchLabels: { app: 'x'.repeat(64) } } })).toBe(false);
    expect(bad({ verbs: ['delete'] })).toBe(false);
    expect(bad({ namespaces: [] })).toBe(false);
    expect(bad({ workloadSelector: { matchLabels: { 'example.com/app': '' } } })).toBe(true);
  });
});

describe('policy selectors', () => {
  const a = action({
    workloadLabels: { app: 'inference' },
    namespaceLabels: { env: 'prod' },
    clusterLabels: { region: 'us-east', gpu: 'h100' },
  });
  const matches = (s: PolicySelector) => compileSelector(PolicySelectorSchema.parse(s)).matches(a);

  it('matches everything when empty', () => {
    expect(matches({})).toBe(true);
  });

  it('filters by verb, namespace, cluster and kind', () => {
    expect(matches({ verbs: ['scale', 'update'] })).toBe(true);
    expect(matches({ verbs: ['promote'] })).toBe(false);
    expect(matches({ namespaces: ['ml'] })).toBe(true);
    expect(matches({ namespaces: ['web'] })).toBe(false);
    expect(matches({ clusters: ['gpu-east', 'gpu-west'] })).toBe(true);
    expect(matches({ clusters: ['gpu-west'] })).toBe(false);
    expect(matches({ kinds: ['StatefulSet'] })).toBe(false);
  });

  it('applies each label selector to its own labels', () => {
    expect(matches({ workloadSelector: { matchLabels: { app: 'inference' } } })).toBe(true);
    expect(matches({ namespaceSelector: { matchLabels: { app: 'inference' } } })).toBe(false);
    expect(matches({ namespaceSelector: { matchLabels: { env: 'prod' } } })).toBe(true);
    expect(
      matches({
        clusterSelector: { matchExpressions: [{ key: 'gpu', operator: 'In', values: ['h100', 'a100'] }] },
      }),
    ).toBe(true);
  });

  it('ANDs all parts', () => {
    expect(
      matches({ verbs: ['scale'], namespaces: ['ml'], namespaceSelector: { matchLabels: { env: 'dev' } } }),
    ).toBe(false);
  });

  it('mayMatch treats labels an entry does not carry as matching', () => {
    const selector = compileSelector(
      PolicySelectorSchema.parse({ verbs: ['scale'], workloadSelector: { matchLabels: { app: 'x' } } }),
    );
    const { workloadLabels: _ignored, ...unlabelled } = a;
    expect(selector.matches(unlabelled)).toBe(false);
    expect(selector.mayMatch(unlabelled)).toBe(true);
    expect(selector.mayMatch(a)).toBe(false);
    expect(selector.mayMatch({ ...unlabelled, verb: 'update' })).toBe(false);
  });
});
