import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanView } from '../../api/plan-service.ts';
import { applyObject, applyWorkload, ClusterRegistry, getWorkload, waitForRollout } from '../../k8s/index.ts';
import type { LocalStack } from '../../stack/local-stack.ts';
import { listAudit } from '../../store/audit.ts';
import { inferenceDeployment } from '../../testbed/workloads.ts';
import { recordHistory } from '../support/histories.ts';
import { apiClient } from '../support/plans.ts';
import { startTestStack } from '../support/stack.ts';

// The plan pipeline on the real services: every verb, compensation, shadow, TTL, priority
// serialisation and abort, through the HTTP API.
let stack: LocalStack;
let clusters: ClusterRegistry;
let api: ReturnType<typeof apiClient>;

const target = (name: string) =>
  ({ cluster: 'local', namespace: 'pipeline', kind: 'Deployment', name }) as const;
const plan = (id: string, steps: unknown[], extra: Record<string, unknown> = {}) => ({
  id,
  steps,
  requestedBy: 'integration-test',
  reason: 'pipeline test',
  ...extra,
});
const auditKinds = async (planId: string) =>
  (await listAudit(stack.database.db, { planId })).map((r) => `${r.kind}#${r.stepIndex}`);

async function deploy(name: string, replicas: number, readyDelay?: string): Promise<void> {
  await applyWorkload(
    clusters,
    'local',
    inferenceDeployment(name, replicas, { namespace: 'pipeline', ...(readyDelay ? { readyDelay } : {}) }),
  );
  await waitForRollout(clusters, target(name), { timeoutMs: 60_000 });
}

beforeAll(async () => {
  stack = await startTestStack();
  clusters = ClusterRegistry.fromSources(stack.clusters);
  api = apiClient(stack.apiUrl);
  await applyObject(clusters, 'local', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'pipeline' },
  });
});
afterAll(async () => stack?.stop());

describe('plan pipeline', () => {
  it('runs every verb in one multi-step plan', async () => {
    await deploy('verbs', 1);
    const t = target('verbs');
    await api.request(
      'POST',
      '/v1/plans',
      plan('all-verbs', [
        { verb: 'scale', target: t, params: { replicas: 3 } },
        { verb: 'update', target: t, params: { container: 'server', image: 'registry.local/inference:v2' } },
        { verb: 'reschedule', target: t, params: { nodeSelector: { 'sentinel.dev/gpu-pool': 'pool-b' } } },
        { verb: 'rollback', target: t, params: {} },
      ]),
    );
    const view = await api.finished('all-verbs');
    expect(view.phase).toBe('Succeeded');
    expect(view.status?.steps.map((s) => s.phase)).toEqual(['Applied', 'Applied', 'Applied', 'Applied']);
    const live = await getWorkload(clusters, t);
    expect(live.spec.replicas).toBe(3);
    // The rollback undid the reschedule (the newest template change) and kept the new image.
    expect(live.spec.template.spec.containers[0]!.image).toBe('registry.local/inference:v2');
    expect(live.spec.template.spec.nodeSelector?.['sentinel.dev/gpu-pool']).toBeUndefined();
    expect(await auditKinds('all-verbs')).toEqual([
      'step.applied#0',
      'step.applied#1',
      'step.applied#2',
      'step.applied#3',
    ]);
  });

  it('compensates the completed steps in reverse when the third step fails', async () => {
    await deploy('compensated', 1);
    const t = target('compensated');
    await api.request(
      'POST',
      '/v1/plans',
      plan('third-fails', [
        { verb: 'scale', target: t, params: { replicas: 2 } },
        { verb: 'update', target: t, params: { container: 'server', image: 'registry.local/inference:v2' } },
        {
          verb: 'update',
          target: t,
          params: { container: 'no-such-container', image: 'registry.local/other:v1' },
        },
      ]),
    );
    const view = await api.finished('third-fails');
    expect(view.phase).toBe('RolledBack');
    expect(view.status?.message).toMatch(/step 2 failed: .*no-such-container/);
    expect(view.status?.steps.map((s) => s.phase)).toEqual(['Compensated', 'Compensated', 'Failed']);
    expect(await auditKinds('third-fails')).toEqual([
      'step.applied#0',
      'step.applied#1',
      'step.failed#2',
      'step.compensated#1',
      'step.compensated#0',
    ]);
    const live = await getWorkload(clusters, t);
    expect(live.spec.replicas).toBe(1);
    expect(live.spec.template.spec.containers[0]!.image).toBe('registry.local/inference:v1');
    recordHistory(stack.temporalAddress, 'plan/third-fails', 'plan-compensated');
  });

  it('shadows a plan: decisions and diffs recorded, nothing changed', async () => {
    await deploy('shadowed', 2);
    const t = target('shadowed');
    const before = await getWorkload(clusters, t);
    await api.request(
      'POST',
      '/v1/plans',
      plan(
        'shadow-run',
        [
          { verb: 'scale', target: t, params: { replicas: 6 } },
          {
            verb: 'update',
            target: t,
            params: { container: 'server', image: 'registry.local/inference:v3' },
          },
        ],
        { mode: 'shadow' },
      ),
    );
    const view = await api.finished('shadow-run');
    expect(view.phase).toBe('Succeeded');
    expect(view.status?.message).toMatch(/shadow run/);
    expect(view.status?.steps.map((s) => s.phase)).toEqual(['Shadowed', 'Shadowed']);
    expect(view.status?.steps[0]?.change).toEqual({ replicas: { from: 2, to: 6 } });
    const after = await getWorkload(clusters, t);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const audit = await listAudit(stack.database.db, { planId: 'shadow-run' });
    expect(audit.map((r) => r.kind)).toEqual(['step.shadowed', 'step.shadowed']);
    expect(audit[1]!.body).toMatchObject({ outcome: { dryRun: true } });
    expect(JSON.stringify(audit[1]!.body)).toContain('inference:v3');
    recordHistory(stack.temporalAddress, 'plan/shadow-run', 'plan-shadow');
  });

  it('never applies an expired plan', async () => {
    await deploy('expiring', 1);
    const before = await getWorkload(clusters, target('expiring'));
    await api.request(
      'POST',
      '/v1/plans',
      plan('too-late', [{ verb: 'scale', target: target('expiring'), params: { replicas: 4 } }], {
        notAfter: new Date(Date.now() - 1000).toISOString(),
      }),
    );
    const view = await api.finished('too-late');
    expect(view.phase).toBe('Expired');
    expect((await getWorkload(clusters, target('expiring'))).metadata.resourceVersion).toBe(
      before.metadata.resourceVersion,
    );
    expect(await auditKinds('too-late')).toEqual([]);
  });

  it('serialises plans on one workload and runs the higher priority first', async () => {
    await deploy('contended', 1, '10s');
    const t = target('contended');
    await api.request(
      'POST',
      '/v1/plans',
      plan('holder', [{ verb: 'scale', target: t, params: { replicas: 2 } }]),
    );
    await api.until('holder', (v) => v.status?.steps[0]?.phase === 'Running');
    await api.request(
      'POST',
      '/v1/plans',
      plan('low', [{ verb: 'scale', target: t, params: { replicas: 3 } }], { priority: 10 }),
    );
    await api.until('low', (v) => v.phase === 'Waiting');
    await api.request(
      'POST',
      '/v1/plans',
      plan('high', [{ verb: 'scale', target: t, params: { replicas: 4 } }], { priority: 500 }),
    );
    const waiting = await api.until('high', (v) => v.phase === 'Waiting');
    expect(waiting.status?.waitingFor).toContain('local/pipeline/Deployment/contended');

    const results: PlanView[] = [];
    for (const id of ['holder', 'high', 'low']) results.push(await api.finished(id));
    expect(results.map((r) => r.phase)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    const applied = (await listAudit(stack.database.db, { workload: 'local/pipeline/Deployment/contended' }))
      .filter((r) => r.kind === 'step.applied')
      .map((r) => r.planId);
    expect(applied).toEqual(['holder', 'high', 'low']);
    expect((await getWorkload(clusters, t)).spec.replicas).toBe(3);
  });

  it('aborts mid-plan: the step in flight stops and earlier steps are rolled back', async () => {
    await deploy('aborted', 1, '20s');
    const t = target('aborted');
    await api.request(
      'POST',
      '/v1/plans',
      plan('abort-me', [
        { verb: 'update', target: t, params: { container: 'server', env: { MODE: 'fast' } } },
        { verb: 'scale', target: t, params: { replicas: 3 } },
      ]),
    );
    // Step 0 waits ~20 s for its new pod: abort while it is in flight.
    await api.until('abort-me', (v) => v.status?.steps[0]?.phase === 'Running');
    const abort = await api.request<{ accepted: boolean }>('POST', '/v1/plans/abort-me/abort', {
      actor: 'sre',
      reason: 'wrong env',
    });
    expect(abort.status).toBe(200);
    expect(abort.body.accepted).toBe(true);
    const view = await api.finished('abort-me');
    expect(view.phase).toBe('Aborted');
    expect(view.status?.message).toMatch(/aborted by sre: wrong env; rolled back/);
    expect(view.status?.steps[1]?.phase).toBe('Pending');
    const live = await getWorkload(clusters, t);
    expect(live.spec.template.spec.containers[0]!.env ?? []).toEqual([]);
    expect(live.spec.replicas).toBe(1);
    expect(await auditKinds('abort-me')).toEqual(['step.cancelled#0', 'step.compensated#0']);

    const late = await api.request<{ code: string }>('POST', '/v1/plans/abort-me/abort', { actor: 'sre' });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('SENTINEL_ERR_CONTROL_REJECTED');
    recordHistory(stack.temporalAddress, 'plan/abort-me', 'plan-aborted');
  });
});
