import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutSpecInput } from '../../domain/rollout.ts';
import { getClusterCapacity, getWorkload, scaleWorkload } from '../../k8s/index.ts';
import { listAudit } from '../../store/audit.ts';
import { listOutbox } from '../../store/outbox.ts';
import { temporalCliPath } from '../../temporal/cli.ts';
import { recordHistory } from '../support/histories.ts';
import { apiClient } from '../support/plans.ts';
import {
  deployServing,
  errorRateTemplate,
  errorRatioQuery,
  FAILING,
  HEALTHY,
  removeServing,
  rolloutApi,
  servingPods,
  startRolloutStack,
  steerSimulator,
  watchReadyPods,
  type RolloutStack,
} from '../support/rollout-stack.ts';
import { eventually } from '../support/stack.ts';

// Canary rollouts on the real services: Temporal, a kube-apiserver with kwok GPU nodes,
// Prometheus scraping the workload simulator, through the HTTP API (and the Temporal CLI).
let stack: RolloutStack;
let api: ReturnType<typeof rolloutApi>;
const NS = 'canary';

const target = (name: string) => ({ cluster: 'local', namespace: NS, name });
const deployment = (name: string) => ({ cluster: 'local', namespace: NS, kind: 'Deployment' as const, name });
const image = async (name: string) =>
  (await getWorkload(stack.registry, deployment(name))).spec.template.spec.containers[0]!.image;
const auditKinds = async (name: string) =>
  (await listAudit(stack.database.db, { planId: `rollout/local/${NS}/${name}` })).map((r) => r.kind);

const medianLatency = (version: string) =>
  `histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{version="${version}"}[5s])))`;

function canarySpec(
  name: string,
  extra: Partial<RolloutSpecInput> & { steps?: unknown[] } = {},
): RolloutSpecInput {
  const { steps, ...rest } = extra;
  return {
    target: target(name),
    template: { containers: [{ name: 'server', image: 'registry.local/inference:v2' }] },
    strategy: {
      canary: {
        steps: (steps ?? [
          { setWeight: 50 },
          { pause: { duration: '1s' } },
          {
            analysis: {
              templates: [{ templateName: 'error-rate' }],
              args: [{ name: 'version', value: 'canary' }],
              judges: [
                {
                  name: 'median-latency',
                  canaryQuery: medianLatency('canary'),
                  stableQuery: medianLatency('stable'),
                  range: '20s',
                  step: '1s',
                  initialDelay: '3s',
                },
              ],
            },
          },
          { setWeight: 100 },
        ]) as never,
      },
    },
    analysisTemplates: [errorRateTemplate({ count: 3 })],
    progressDeadlineSeconds: 60,
    capacityCheckInterval: '1s',
    requestedBy: 'integration-test',
    reason: 'canary test',
    ...rest,
  };
}

beforeAll(async () => {
  stack = await startRolloutStack();
  api = rolloutApi(stack.apiUrl);
});
afterAll(async () => stack?.stop());

describe('canary rollout', () => {
  it('runs every step of a healthy canary and promotes it', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'healthy', replicas: 2 });
    await steerSimulator(stack, 'canary', HEALTHY);
    // Every state of the two Deployments is watched, so the mid-way state is seen however
    // briefly it lasts (no poll has to land inside the analysis step).
    const watch = await watchReadyPods(stack.registry, NS, ['healthy', 'healthy-canary']);
    const started = await api.start(canarySpec('healthy'));
    expect(started.status).toBe(201);
    expect(started.body.workflowId).toBe(`rollout/local/${NS}/healthy`);

    const view = await api.finished(`local/${NS}/healthy`);
    await watch.stop();
    // Mid-way, both Deployments served at once: 2 stable and 1 canary pod Ready.
    expect(watch.seen.trail, watch.seen.trail.join('\n')).toContain('healthy=2 healthy-canary=1');
    expect(view.phase).toBe('Promoted');
    expect(view.status?.steps.map((s) => s.phase)).toEqual([
      'Completed',
      'Completed',
      'Completed',
      'Completed',
      'Completed',
    ]);
    const analysis = view.status?.analyses[0];
    expect(analysis?.phase).toBe('Successful');
    expect(analysis?.metrics[0]?.measurements.length).toBe(3);
    // Mann-Whitney: the canary's median latency against the stable's, both healthy.
    expect(analysis?.judges[0]).toMatchObject({ name: 'median-latency', verdict: 'pass' });
    const { sizes } = analysis!.judges[0]!.result as { sizes: { canary: number; stable: number } };
    expect(sizes.canary).toBeGreaterThanOrEqual(5);
    expect(sizes.stable).toBe(sizes.canary);
    expect(await image('healthy')).toBe('registry.local/inference:v2');
    expect((await getWorkload(stack.registry, deployment('healthy'))).spec.replicas).toBe(2);
    await expect(getWorkload(stack.registry, deployment('healthy-canary'))).rejects.toThrow(/not found/i);
    expect(await auditKinds('healthy')).toEqual([
      'rollout.createCanary',
      'rollout.setWeight',
      'rollout.analysis',
      'rollout.setWeight',
      'rollout.promoteStable',
      'rollout.promoteStable',
      'rollout.deleteCanary',
    ]);
    recordHistory(stack.temporalAddress, `rollout/local/${NS}/healthy`, 'rollout-canary-promoted');
    await removeServing(stack.registry, NS, 'healthy');
  });

  it('rolls a failing canary back automatically and leaves the stable untouched', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'failing', replicas: 2 });
    const before = await getWorkload(stack.registry, deployment('failing'));
    await steerSimulator(stack, 'canary', FAILING);
    try {
      await api.start(canarySpec('failing'));
      const view = await api.finished(`local/${NS}/failing`);
      expect(view.phase).toBe('RolledBack');
      expect(view.status?.message).toMatch(
        /analysis of step 2 failed: .*failure-limit|failed \(1\) > failureLimit/,
      );
      expect(view.status?.analyses[0]?.phase).toBe('Failed');
      expect(view.status?.steps.map((s) => s.phase)).toEqual([
        'Completed',
        'Completed',
        'Failed',
        'Pending',
        'Pending',
      ]);
    } finally {
      await steerSimulator(stack, 'canary', HEALTHY);
    }
    const after = await getWorkload(stack.registry, deployment('failing'));
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    await expect(getWorkload(stack.registry, deployment('failing-canary'))).rejects.toThrow(/not found/i);
    await eventually(
      () => servingPods(stack.registry, NS, 'failing'),
      (pods) => pods.canary === 0 && pods.stable === 2,
      30_000,
    );
    expect(await auditKinds('failing')).toEqual([
      'rollout.createCanary',
      'rollout.setWeight',
      'rollout.analysis',
      'rollout.rollback',
      'rollout.rollback',
    ]);
    const events = (await listOutbox(stack.database.db, { key: `local/${NS}/Deployment/failing` })).map(
      (e) => e.type,
    );
    expect(events).toContain('dev.sentinel.rollout.setWeight');
    expect(events).toContain('dev.sentinel.rollout.rollback');
    expect(events.at(-1)).toBe('dev.sentinel.rollout.finished');
    recordHistory(stack.temporalAddress, `rollout/local/${NS}/failing`, 'rollout-canary-rolled-back');
    await removeServing(stack.registry, NS, 'failing');
  });

  it('aborts mid-canary on `temporal workflow signal --name abort`; one rollout per workload', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'aborted', replicas: 2 });
    const before = await getWorkload(stack.registry, deployment('aborted'));
    const spec = canarySpec('aborted', { steps: [{ setWeight: 50 }, { pause: {} }, { setWeight: 100 }] });
    expect((await api.start(spec)).status).toBe(201);
    const paused = await api.until(`local/${NS}/aborted`, (v) => v.phase === 'Paused');
    expect(paused.status?.pause).toMatchObject({ reason: 'step', until: null });

    const second = await api.start(spec);
    expect(second.status).toBe(409);
    expect((second.body as unknown as { code: string }).code).toBe('SENTINEL_ERR_CONFLICT');

    // The Web UI's "paused rollouts in cluster local" is a visibility query on search attributes.
    const listed = await eventually(
      () => api.list('phase=Paused&cluster=local'),
      (items) => items.some((i) => i.workflowId === `rollout/local/${NS}/aborted`),
      15_000,
    );
    expect(listed.find((i) => i.workflowId === `rollout/local/${NS}/aborted`)).toMatchObject({
      kind: 'canary',
      phase: 'Paused',
      step: 1,
    });

    await promisify(execFile)(temporalCliPath(), [
      'workflow',
      'signal',
      '--address',
      stack.temporalAddress,
      '--workflow-id',
      `rollout/local/${NS}/aborted`,
      '--name',
      'abort',
      '--input',
      JSON.stringify({ actor: 'sre', reason: 'latency looks off' }),
    ]);
    const view = await api.finished(`local/${NS}/aborted`);
    expect(view.phase).toBe('Aborted');
    expect(view.status?.message).toMatch(/aborted by sre: latency looks off; rolled back/);
    expect(view.status?.abort).toMatchObject({ actor: 'sre' });
    await eventually(
      () => servingPods(stack.registry, NS, 'aborted'),
      (pods) => pods.canary === 0 && pods.stable === 2,
      30_000,
    );
    expect((await getWorkload(stack.registry, deployment('aborted'))).metadata.resourceVersion).toBe(
      before.metadata.resourceVersion,
    );
    const late = await api.control(`local/${NS}/aborted`, 'abort');
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('SENTINEL_ERR_CONTROL_REJECTED');
    await removeServing(stack.registry, NS, 'aborted');
  });

  it('takes pause, resume and promote through the API, answered synchronously', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'operated', replicas: 2 });
    const id = `local/${NS}/operated`;
    await api.start(
      canarySpec('operated', {
        steps: [{ setWeight: 50 }, { pause: { duration: '2s' } }, { pause: {} }, { setWeight: 100 }],
      }),
    );
    await api.until(id, (v) => v.status?.currentStep === 1 && v.phase === 'Paused');
    // Nothing to resume: the validator refuses before the workflow changes anything.
    const refused = await api.control(id, 'resume');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('SENTINEL_ERR_CONTROL_REJECTED');
    expect((await api.control(id, 'pause', { actor: 'sre', reason: 'hold' })).body.accepted).toBe(true);
    // The timed pause ends, and the operator's pause holds the rollout before the next step.
    const held = await api.until(id, (v) => v.status?.pause?.reason === 'operator');
    expect(held.phase).toBe('Paused');
    expect(held.status?.currentStep).toBe(1);
    expect((await api.control(id, 'promote')).status).toBe(409);
    expect((await api.control(id, 'resume')).body.accepted).toBe(true);
    await api.until(id, (v) => v.status?.currentStep === 2 && v.status.pause?.reason === 'step');
    const promoted = await api.control(id, 'promote', { actor: 'sre' });
    expect(promoted.body).toMatchObject({ accepted: true });
    const view = await api.finished(id);
    expect(view.phase).toBe('Promoted');
    expect(view.status?.steps[2]?.message).toBe('ended by promote');
    await removeServing(stack.registry, NS, 'operated');
  });

  it('waits for GPU capacity instead of leaving canary pods Pending, and goes on when it appears', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'gpu', replicas: 2, gpus: 1 });
    // Another GPU workload takes every GPU left.
    const free = (await getClusterCapacity(stack.registry, 'local')).total.free.gpus;
    await deployServing(stack.registry, { namespace: NS, name: 'hog', replicas: free, gpus: 1 });
    expect((await getClusterCapacity(stack.registry, 'local')).total.free.gpus).toBe(0);

    const id = `local/${NS}/gpu`;
    await api.start(canarySpec('gpu', { steps: [{ setWeight: 50 }, { setWeight: 100 }] }));
    const waiting = await api.until(id, (v) => v.phase === 'WaitingForCapacity');
    expect(waiting.status?.waitingFor).toMatch(/1 nvidia\.com\/gpu for 1 pod\(s\) of 1; 0 free/);
    const listed = await eventually(
      () => api.list('phase=WaitingForCapacity&cluster=local'),
      (items) => items.some((i) => i.workflowId === `rollout/${id}`),
      15_000,
    );
    expect(listed.length).toBeGreaterThan(0);
    // No Pending pods: the canary Deployment is still at 0 replicas.
    expect((await getWorkload(stack.registry, deployment('gpu-canary'))).spec.replicas).toBe(0);
    expect((await getClusterCapacity(stack.registry, 'local')).pendingGpuPods).toBe(0);

    // Capacity appears: the other workload scales down by the canary's 2 pods and the
    // stable's surge pod.
    await scaleWorkload(stack.registry, deployment('hog'), { replicas: free - 3 });
    const view = await api.finished(id);
    expect(view.phase).toBe('Promoted');
    expect(await image('gpu')).toBe('registry.local/inference:v2');
    await removeServing(stack.registry, NS, 'gpu');
    await removeServing(stack.registry, NS, 'hog');
  });

  it('rolls back when the canary pods miss their readiness deadline', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'slow', replicas: 2 });
    const before = await getWorkload(stack.registry, deployment('slow'));
    await api.start(
      canarySpec('slow', {
        template: {
          containers: [{ name: 'server', image: 'registry.local/inference:v2' }],
          annotations: { 'sentinel.dev/simulated-ready-delay': '60s' },
        },
        steps: [{ setWeight: 50 }, { setWeight: 100 }],
        progressDeadlineSeconds: 3,
      }),
    );
    const view = await api.finished(`local/${NS}/slow`);
    expect(view.phase).toBe('RolledBack');
    expect(view.status?.message).toMatch(/slow-canary not Ready by .*progressDeadlineSeconds.*; rolled back/);
    await expect(getWorkload(stack.registry, deployment('slow-canary'))).rejects.toThrow(/not found/i);
    expect((await getWorkload(stack.registry, deployment('slow'))).metadata.resourceVersion).toBe(
      before.metadata.resourceVersion,
    );
    await removeServing(stack.registry, NS, 'slow');
  });

  it('pauses for a human on an inconclusive analysis and goes on when promoted', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'unsure', replicas: 2 });
    const id = `local/${NS}/unsure`;
    await api.start(
      canarySpec('unsure', {
        // A metric with no conditions only collects values: every measurement is Inconclusive.
        analysisTemplates: [
          {
            name: 'observe',
            metrics: [
              { name: 'error-ratio', provider: { prometheus: { query: errorRatioQuery('canary') } } },
            ],
          },
        ],
        steps: [
          { setWeight: 50 },
          { analysis: { templates: [{ templateName: 'observe' }] } },
          { setWeight: 100 },
        ],
      }),
    );
    const held = await api.until(id, (v) => v.status?.pause?.reason === 'inconclusive');
    expect(held.phase).toBe('Paused');
    expect(held.status?.analyses[0]).toMatchObject({ phase: 'Inconclusive' });
    expect(held.status?.analyses[0]?.metrics[0]?.measurements[0]?.values?.length).toBe(1);
    expect(
      (await api.control(id, 'promote', { actor: 'sre', reason: 'values look fine' })).body.accepted,
    ).toBe(true);
    expect((await api.finished(id)).phase).toBe('Promoted');
    await removeServing(stack.registry, NS, 'unsure');
  });

  it('scales the stable down as the canary grows (dynamic stable scale) and back up on abort; YAML bodies', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'dynamic', replicas: 4 });
    const id = `local/${NS}/dynamic`;
    const invalid = await fetch(new URL('/v1/rollouts', stack.apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: `target: { cluster: local, namespace: ${NS}, name: dynamic }\ntemplate: { containers: [{ name: server, image: v2 }] }\nstrategy: { canary: { steps: [{ setWeight: 101 }] } }\nrequestedBy: sre\nreason: test\n`,
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      code: 'SENTINEL_ERR_VALIDATION',
      issues: [
        { path: 'strategy.canary.steps.0.setWeight', message: 'Too big: expected number to be <=100' },
      ],
    });
    const started = await fetch(new URL('/v1/rollouts', stack.apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: [
        `target: { cluster: local, namespace: ${NS}, name: dynamic }`,
        'template: { containers: [{ name: server, image: registry.local/inference:v2 }] }',
        'strategy:',
        '  canary:',
        '    dynamicStableScale: true',
        '    steps: [{ setWeight: 25 }, { setWeight: 75 }, { pause: {} }]',
        'requestedBy: sre',
        'reason: dynamic stable scale',
        '',
      ].join('\n'),
    });
    expect(started.status).toBe(201);
    const paused = await api.until(id, (v) => v.phase === 'Paused');
    expect(paused.status?.replicas).toEqual({ total: 4, stable: 1, canary: 3 });
    await eventually(
      () => servingPods(stack.registry, NS, 'dynamic'),
      (pods) => pods.stable === 1 && pods.canary === 3,
      30_000,
    );
    expect((await api.control(id, 'abort', { actor: 'sre' })).body.accepted).toBe(true);
    expect((await api.finished(id)).phase).toBe('Aborted');
    expect((await getWorkload(stack.registry, deployment('dynamic'))).spec.replicas).toBe(4);
    await eventually(
      () => servingPods(stack.registry, NS, 'dynamic'),
      (pods) => pods.stable === 4 && pods.canary === 0,
      30_000,
    );
    await removeServing(stack.registry, NS, 'dynamic');
  });

  it('holds the workload lock: a plan on the same Deployment waits until the rollout ends', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'locked', replicas: 2 });
    const id = `local/${NS}/locked`;
    await api.start(canarySpec('locked', { steps: [{ setWeight: 50 }, { pause: {} }] }));
    await api.until(id, (v) => v.phase === 'Paused');
    const plans = apiClient(stack.apiUrl);
    await plans.request('POST', '/v1/plans', {
      id: 'scale-locked',
      verb: 'scale',
      target: deployment('locked'),
      params: { replicas: 3 },
      requestedBy: 'integration-test',
      reason: 'competes with the rollout',
    });
    const waiting = await plans.until('scale-locked', (v) => v.phase === 'Waiting');
    expect(waiting.status?.waitingFor).toContain(`local/${NS}/Deployment/locked`);
    expect((await getWorkload(stack.registry, deployment('locked'))).spec.replicas).toBe(2);
    await api.control(id, 'promote');
    expect((await api.finished(id)).phase).toBe('Promoted');
    expect((await plans.finished('scale-locked')).phase).toBe('Succeeded');
    expect((await getWorkload(stack.registry, deployment('locked'))).spec.replicas).toBe(3);
    await removeServing(stack.registry, NS, 'locked');
  });
});
