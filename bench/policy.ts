// Policy engine benchmark: decisions per second and p50/p99 latency of evaluate() over a
// compiled PolicySet of 10, 100 and 1,000 policies (`npm run bench:policy`). Figures are
// printed, never asserted: they depend on the machine and on what else it is running.
//
// The policy mix is what a fleet would plausibly have: every rule type, selectors spread over
// 25 namespaces, 3 clusters, verbs and labels, so that a typical action matches roughly one
// policy in eight; a few exceptions. Actions and contexts rotate so no single path is hot.

import type { PolicyAction, PolicyContext, PolicyDocument, PolicyDocumentInput } from '../policy/index.ts';
import { compilePolicies, evaluate, validatePolicyDocument } from '../policy/index.ts';

/** Deterministic PRNG (mulberry32), so every run benchmarks the same policies. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMESPACES = Array.from({ length: 25 }, (_, i) => `team-${i}`);
const CLUSTERS = ['gpu-east', 'gpu-west', 'gpu-bench'];
const VERBS = ['scale', 'update', 'rollback', 'promote'] as const;

function makePolicies(n: number, random: () => number): PolicyDocument[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const docs: PolicyDocument[] = [];
  for (let i = 0; i < n; i++) {
    const selector: PolicyDocumentInput['selector'] = {};
    const shape = i % 4;
    if (shape === 0) selector.namespaces = [pick(NAMESPACES), pick(NAMESPACES)];
    if (shape === 1) selector.clusters = [pick(CLUSTERS)];
    if (shape === 1 || shape === 2) selector.verbs = [pick(VERBS)];
    if (shape === 2 || shape === 3) {
      selector.workloadSelector = {
        matchLabels: { tier: pick(['serving', 'training', 'batch']) },
        matchExpressions: [
          { key: 'app', operator: 'In', values: [`app-${Math.floor(random() * 6)}`, 'app-x'] },
        ],
      };
    }
    const rules: PolicyDocumentInput['rule'][] = [
      { type: 'costCeiling', maxHourlyCost: 50 + Math.floor(random() * 200) },
      {
        type: 'quota',
        scope: pick(['workload', 'namespace', 'team', 'cluster'] as const),
        maxGpus: 8 + Math.floor(random() * 64),
        maxCpu: '256',
      },
      { type: 'sla', minAvailable: pick([1, 2, '50%', '75%']) },
      { type: 'slo', maxLatencyP99Ms: 300, minSuccessRate: 0.999 },
      {
        type: 'rateLimit',
        maxActions: 5 + Math.floor(random() * 10),
        window: '1h',
        per: pick(['workload', 'namespace'] as const),
      },
      {
        type: 'freezeWindow',
        timeZone: pick(['UTC', 'Europe/Berlin', 'America/New_York']),
        windows: [
          { cron: '0 18 * * FRI', duration: '62h' },
          { start: '2025-12-20', end: '2026-01-05' },
        ],
        allowEmergency: true,
      },
      { type: 'budget', monthlyBudget: 100_000 + Math.floor(random() * 100_000) },
    ];
    const rule: PolicyDocumentInput['rule'] =
      i % 25 === 24
        ? { type: 'exception', exempts: [`policy-${i - 1}`, `policy-${i - 2}`] }
        : rules[i % rules.length]!;
    docs.push(
      validatePolicyDocument({
        id: `policy-${i}`,
        version: 1 + (i % 3),
        priority: Math.floor(random() * 100),
        mode: pick(['enforce', 'enforce', 'warn', 'dryrun'] as const),
        selector,
        rule,
      }),
    );
  }
  return docs;
}

function makeInputs(count: number, random: () => number): { action: PolicyAction; context: PolicyContext }[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const base = Date.parse('2025-06-11T12:00:00Z');
  return Array.from({ length: count }, (_, i) => {
    const namespace = pick(NAMESPACES);
    const cluster = pick(CLUSTERS);
    const target = { cluster, namespace, kind: 'Deployment' as const, name: `svc-${i % 7}` };
    const nowMs = base + i * 37_000;
    const action: PolicyAction = {
      verb: pick(VERBS),
      target,
      planId: `plan-${i}`,
      workloadLabels: {
        app: `app-${i % 6}`,
        tier: pick(['serving', 'training', 'batch']),
        'sentinel.io/team': namespace,
      },
      namespaceLabels: { env: 'prod' },
      clusterLabels: { env: 'prod' },
      currentReplicas: 4,
      desiredReplicas: 4 + (i % 5) - 2,
      resources: { cpuCores: 8, memoryBytes: 64 * 2 ** 30, gpus: 1, gpuModel: 'H100' },
    };
    const context: PolicyContext = {
      now: new Date(nowMs).toISOString(),
      usage: {
        namespaces: {
          [`${cluster}/${namespace}`]: { replicas: 40, cpuCores: 200, memoryBytes: 2 ** 40, gpus: 30 },
        },
        teams: { [namespace]: { replicas: 40, cpuCores: 200, memoryBytes: 2 ** 40, gpus: 30 } },
        clusters: { [cluster]: { replicas: 400, cpuCores: 2000, memoryBytes: 10 * 2 ** 40, gpus: 300 } },
      },
      prices: { cpuCoreHour: 0.04, memoryGiBHour: 0.005, gpuHour: { H100: 3.2, A100: 1.8 } },
      history: Array.from({ length: 50 }, (_, h) => ({
        at: new Date(nowMs - h * 97_000).toISOString(),
        verb: pick(VERBS),
        target: { ...target, name: `svc-${h % 7}` },
      })),
      slo: { latencyP99Ms: 120 + (i % 300), successRate: 0.9995 },
      spendMonthToDate: { [namespace]: 40_000 + i * 10 },
      availableReplicas: 4,
    };
    return { action, context };
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function run(policyCount: number, samples: number): void {
  const random = prng(policyCount);
  const docs = makePolicies(policyCount, random);
  const compileStart = process.hrtime.bigint();
  const set = compilePolicies(docs);
  const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6;
  const inputs = makeInputs(64, random);

  let denies = 0;
  let matched = 0;
  for (let i = 0; i < Math.min(samples, 5000); i++) {
    const { action, context } = inputs[i % inputs.length]!;
    evaluate(action, context, set);
  }
  const latencies = new Float64Array(samples);
  const start = process.hrtime.bigint();
  for (let i = 0; i < samples; i++) {
    const { action, context } = inputs[i % inputs.length]!;
    const t0 = process.hrtime.bigint();
    const d = evaluate(action, context, set);
    latencies[i] = Number(process.hrtime.bigint() - t0) / 1000;
    if (d.result === 'deny') denies++;
    matched += d.matchedPolicies.length;
  }
  const totalS = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort();
  const row = [
    String(policyCount).padStart(8),
    Math.round(samples / totalS)
      .toLocaleString('en-US')
      .padStart(14),
    percentile(latencies, 50).toFixed(1).padStart(9),
    percentile(latencies, 99).toFixed(1).padStart(9),
    (matched / samples).toFixed(1).padStart(12),
    `${((100 * denies) / samples).toFixed(0)}%`.padStart(7),
    compileMs.toFixed(1).padStart(11),
  ];
  console.log(row.join('  '));
}

function runUncompiled(policyCount: number, samples: number): void {
  const random = prng(policyCount);
  const docs = makePolicies(policyCount, random);
  const inputs = makeInputs(64, random);
  const latencies = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const { action, context } = inputs[i % inputs.length]!;
    const t0 = process.hrtime.bigint();
    evaluate(action, context, docs);
    latencies[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  latencies.sort();
  console.log(
    `  documents array (validated + compiled per call), ${policyCount} policies: ` +
      `p50 ${percentile(latencies, 50).toFixed(0)} µs, p99 ${percentile(latencies, 99).toFixed(0)} µs`,
  );
}

console.log(`policy engine benchmark — node ${process.version}, ${process.arch}`);
console.log(
  'evaluate(action, context, PolicySet), 64 rotating actions/contexts with 50 history entries each',
);
console.log(
  ['policies', 'decisions/s', 'p50 µs', 'p99 µs', 'matched/eval', 'denied', 'compile ms']
    .map((h, i) => h.padStart([8, 14, 9, 9, 12, 7, 11][i]!))
    .join('  '),
);
run(10, 50_000);
run(100, 50_000);
run(1000, 10_000);
runUncompiled(100, 500);
