// fast-check generators for the property tests: small value sets on purpose, so selectors,
// history entries and exceptions hit each other often enough to exercise every path.

import fc from 'fast-check';
import type { PolicyAction, ReplicaResources } from '../action.ts';
import type { ActionHistoryEntry, PolicyContext } from '../context.ts';
import { TEAM_LABEL } from '../context.ts';
import { validatePolicyDocument } from '../parse.ts';
import type { PolicyDocument } from '../schema.ts';
import { POLICY_VERBS } from '../verbs.ts';

const clusters = ['gpu-east', 'gpu-west'] as const;
const namespaces = ['ml', 'web'] as const;
const names = ['inference', 'trainer'] as const;
const teams = ['vision', 'speech'] as const;
const models = ['H100', 'A100', 'L4'] as const;

const labels = fc.dictionary(
  fc.constantFrom('app', 'tier', 'env', TEAM_LABEL),
  fc.constantFrom('a', 'b', ...teams),
  {
    maxKeys: 3,
  },
);

const target = fc.record({
  cluster: fc.constantFrom(...clusters),
  namespace: fc.constantFrom(...namespaces),
  kind: fc.constantFrom('Deployment' as const, 'StatefulSet' as const),
  name: fc.constantFrom(...names),
});

const resources: fc.Arbitrary<ReplicaResources> = fc.record(
  {
    cpuCores: fc.constantFrom(0, 0.5, 1, 4, 8),
    memoryBytes: fc.constantFrom(0, 2 ** 30, 64 * 2 ** 30),
    gpus: fc.integer({ min: 0, max: 8 }),
    gpuModel: fc.constantFrom(...models),
  },
  { requiredKeys: [] },
);

/** Any action, with any subset of the optional inputs. */
export const arbAction: fc.Arbitrary<PolicyAction> = fc.record(
  {
    verb: fc.constantFrom(...POLICY_VERBS),
    target,
    planId: fc.constantFrom('plan-1', 'plan-2'),
    emergency: fc.boolean(),
    workloadLabels: labels,
    namespaceLabels: labels,
    clusterLabels: labels,
    currentReplicas: fc.integer({ min: 0, max: 20 }),
    desiredReplicas: fc.integer({ min: 0, max: 20 }),
    resources,
    currentResources: resources,
    maxUnavailable: fc.integer({ min: 0, max: 4 }),
  },
  { requiredKeys: ['verb', 'target'] },
);

const MIN_NOW = Date.parse('2024-01-01T00:00:00Z');
const MAX_NOW = Date.parse('2027-01-01T00:00:00Z');

const usage = fc.record(
  {
    replicas: fc.integer({ min: 0, max: 100 }),
    cpuCores: fc.integer({ min: 0, max: 500 }),
    memoryBytes: fc.integer({ min: 0, max: 4096 }).map((g) => g * 2 ** 30),
    gpus: fc.integer({ min: 0, max: 64 }),
  },
  { requiredKeys: [] },
);

/** Any context, from `{ now }` up to every field. */
export const arbContext: fc.Arbitrary<PolicyContext> = fc
  .integer({ min: MIN_NOW, max: MAX_NOW })
  .chain((nowMs) => {
    const history: fc.Arbitrary<ActionHistoryEntry[]> = fc.array(
      fc.record(
        {
          at: fc.integer({ min: -120, max: 10 }).map((m) => new Date(nowMs - m * 60_000).toISOString()),
          verb: fc.constantFrom(...POLICY_VERBS),
          target,
          workloadLabels: labels,
        },
        { requiredKeys: ['at', 'verb', 'target'] },
      ),
      { maxLength: 6 },
    );
    return fc.record(
      {
        now: fc.constant(new Date(nowMs).toISOString()),
        team: fc.constantFrom(...teams),
        usage: fc.record(
          {
            namespaces: fc.dictionary(fc.constantFrom('gpu-east/ml', 'gpu-west/web', 'gpu-east/web'), usage, {
              maxKeys: 3,
            }),
            teams: fc.dictionary(fc.constantFrom(...teams), usage, { maxKeys: 2 }),
            clusters: fc.dictionary(fc.constantFrom(...clusters), usage, { maxKeys: 2 }),
          },
          { requiredKeys: [] },
        ),
        prices: fc.record(
          {
            cpuCoreHour: fc.constantFrom(0.01, 0.05),
            memoryGiBHour: fc.constantFrom(0.001, 0.005),
            gpuHour: fc.dictionary(fc.constantFrom(...models), fc.constantFrom(1, 2.5, 4), { maxKeys: 3 }),
            defaultGpuHour: fc.constantFrom(1, 3),
          },
          { requiredKeys: [] },
        ),
        history,
        slo: fc.record(
          {
            latencyP99Ms: fc.integer({ min: 0, max: 1000 }),
            successRate: fc.constantFrom(0.9, 0.99, 0.999, 1),
            observedAt: fc.integer({ min: 0, max: 900 }).map((s) => new Date(nowMs - s * 1000).toISOString()),
          },
          { requiredKeys: [] },
        ),
        spendMonthToDate: fc.dictionary(fc.constantFrom(...teams), fc.integer({ min: 0, max: 100_000 }), {
          maxKeys: 2,
        }),
        availableReplicas: fc.integer({ min: 0, max: 20 }),
      },
      { requiredKeys: ['now'] },
    );
  });

const labelSelector = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('a', 'b'), { maxKeys: 1 }),
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key: fc.constantFrom('app', 'env'),
          operator: fc.constantFrom('In' as const, 'NotIn' as const),
          values: fc.uniqueArray(fc.constantFrom('a', 'b'), { minLength: 1 }),
        }),
        fc.record({
          key: fc.constantFrom('app', 'env'),
          operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
        }),
      ),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);

const someSelector = fc.record(
  {
    workloadSelector: labelSelector,
    namespaceSelector: labelSelector,
    verbs: fc.uniqueArray(fc.constantFrom(...POLICY_VERBS), { minLength: 1, maxLength: 3 }),
    namespaces: fc.uniqueArray(fc.constantFrom(...namespaces), { minLength: 1 }),
    clusters: fc.uniqueArray(fc.constantFrom(...clusters), { minLength: 1 }),
  },
  { requiredKeys: [] },
);

// Mostly match-all, so that policies usually apply and violations, exemptions and their
// interplay are exercised; the rest narrow the match in every supported way.
const selector = fc.oneof({ arbitrary: fc.constant({}), weight: 3 }, { arbitrary: someSelector, weight: 2 });

const onMissingInput = fc.constantFrom('violate' as const, 'notApplicable' as const);

/** A rule of any type but `exception`. */
export const arbCheckRule = fc.oneof(
  fc.record({
    type: fc.constant('costCeiling' as const),
    maxHourlyCost: fc.integer({ min: 0, max: 100 }),
    onMissingInput,
  }),
  fc.record({
    type: fc.constant('quota' as const),
    scope: fc.constantFrom('workload' as const, 'namespace' as const, 'team' as const, 'cluster' as const),
    maxReplicas: fc.integer({ min: 0, max: 30 }),
    maxGpus: fc.integer({ min: 0, max: 64 }),
    maxCpu: fc.constantFrom('16', '500m', 64),
    onMissingInput,
  }),
  fc.record({
    type: fc.constant('sla' as const),
    minAvailable: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constantFrom('50%', '100%')),
    onMissingInput,
  }),
  fc.record({
    type: fc.constant('slo' as const),
    maxLatencyP99Ms: fc.integer({ min: 0, max: 1000 }),
    minSuccessRate: fc.constantFrom(0.99, 0.999),
    appliesTo: fc.constant(['promote' as const, 'scaleDown' as const, 'update' as const]),
    onMissingInput,
  }),
  fc.record({
    type: fc.constant('rateLimit' as const),
    maxActions: fc.integer({ min: 0, max: 4 }),
    window: fc.constantFrom('30m', '1h'),
    per: fc.constantFrom('selector' as const, 'workload' as const, 'namespace' as const, 'cluster' as const),
    onMissingInput,
  }),
  fc.record({
    type: fc.constant('freezeWindow' as const),
    timeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York'),
    windows: fc.constantFrom(
      [{ cron: '0 18 * * FRI', duration: '62h' }],
      [{ cron: '*/30 * * * *', duration: '10m' }],
      [{ start: '2025-12-20', end: '2026-01-05' }],
    ),
    allowEmergency: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('budget' as const),
    monthlyBudget: fc.integer({ min: 0, max: 100_000 }),
    timeZone: fc.constantFrom('UTC', 'Asia/Tokyo'),
    onMissingInput,
  }),
);

function document<R>(id: string, rule: fc.Arbitrary<R>): fc.Arbitrary<PolicyDocument> {
  return fc
    .record({
      version: fc.integer({ min: 1, max: 3 }),
      priority: fc.integer({ min: -3, max: 3 }),
      mode: fc.constantFrom('enforce' as const, 'warn' as const, 'dryrun' as const),
      selector,
      rule,
    })
    .map((p) => validatePolicyDocument({ id, ...p }));
}

/** A set of up to `max` policies with distinct ids p0, p1, …, some of them exceptions. */
export function arbPolicies(max = 8): fc.Arbitrary<PolicyDocument[]> {
  return fc.integer({ min: 0, max }).chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i) => {
        const exemption = fc.record({
          type: fc.constant('exception' as const),
          exempts: fc.uniqueArray(fc.constantFrom(...Array.from({ length: max }, (_, j) => `p${j}`)), {
            minLength: 1,
            maxLength: 3,
          }),
        });
        return document<unknown>(
          `p${i}`,
          fc.oneof({ arbitrary: arbCheckRule, weight: 4 }, { arbitrary: exemption, weight: 1 }),
        );
      }),
    ),
  );
}

/** One enforce-mode, non-exception policy with id `id`. */
export function arbEnforcedPolicy(id: string): fc.Arbitrary<PolicyDocument> {
  return document(id, arbCheckRule).map((p) => ({ ...p, mode: 'enforce' as const }));
}
