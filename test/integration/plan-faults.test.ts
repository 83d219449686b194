import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanView } from '../../api/plan-service.ts';
import { planWorkflowId, PLAN_TASK_QUEUE } from '../../domain/plan-messages.ts';
import {
  applyObject,
  applyWorkload,
  ClusterRegistry,
  getWorkload,
  PatchType,
  waitForRollout,
} from '../../k8s/index.ts';
import type { LocalStack } from '../../stack/local-stack.ts';
import { getPlan } from '../../store/plans.ts';
import { inferenceDeployment } from '../../testbed/workloads.ts';
import { apiClient } from '../support/plans.ts';
import { eventually, startTestStack } from '../support/stack.ts';

// Plan faults of issue 14 (items 10-13), each input with its right value, on the real stack.
let stack: LocalStack;
let clusters: ClusterRegistry;
let api: ReturnType<typeof apiClient>;

const NAMESPACE = 'plan-faults';
const target = (name: string, cluster = 'local') =>
  ({ cluster, namespace: NAMESPACE, kind: 'Deployment', name }) as const;
const plan = (id: string, steps: unknown[]) => ({
  id,
  steps,
  requestedBy: 'integration-test',
  reason: 'plan faults',
});
const image = (tag: string) => `registry.local/inference:${tag}`;

interface Problem {
  code: string;
  detail: string;
  issues?: { path: string; message: string }[];
}

async function liveImage(name: string): Promise<string | undefined> {
  return (await getWorkload(clusters, target(name))).spec.template.spec.containers[0]!.image;
}

async function workflowExists(planId: string): Promise<boolean> {
  try {
    await stack.client.workflow.getHandle(planWorkflowId(planId)).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

beforeAll(async () => {
  stack = await startTestStack();
  clusters = ClusterRegistry.fromSources(stack.clusters);
  api = apiClient(stack.apiUrl);
  await applyObject(clusters, 'local', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NAMESPACE },
  });
});
afterAll(async () => stack?.stop());

describe('a rollback after a rollout (item 10)', () => {
  it('returns the workload to the revision asked for, and shows a real no-op as a no-op', async () => {
    const t = target('after-rollout');
    await applyWorkload(clusters, 'local', inferenceDeployment(t.name, 1, { namespace: NAMESPACE }));
    await waitForRollout(clusters, t, { timeoutMs: 60_000 });

    // v1 (revision 1) → v2 (revision 2) → back to revision 1 (its ReplicaSet becomes revision 3).
    await api.request(
      'POST',
      '/v1/plans',
      plan('faults-update-v2', [
        { verb: 'update', target: t, params: { container: 'server', image: image('v2') } },
      ]),
    );
    expect((await api.finished('faults-update-v2')).phase).toBe('Succeeded');
    await api.request(
      'POST',
      '/v1/plans',
      plan('faults-rollback-1', [{ verb: 'rollback', target: t, params: { toRevision: 1 } }]),
    );
    expect((await api.finished('faults-rollback-1')).phase).toBe('Succeeded');
    expect(await liveImage(t.name)).toBe(image('v1'));

    // A rollout promotes v3 the way rollouts write templates: a strategic-merge patch of the
    // template that leaves the Deployment's annotations (and so the rollback marks) alone.
    await clusters.client('local').request({
      method: 'PATCH',
      path: `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/${t.name}`,
      body: { spec: { template: { spec: { containers: [{ name: 'server', image: image('v3') }] } } } },
      contentType: PatchType.strategicMerge,
    });
    await waitForRollout(clusters, t, { timeoutMs: 60_000 });
    expect(await liveImage(t.name)).toBe(image('v3'));

    await api.request(
      'POST',
      '/v1/plans',
      plan('faults-rollback-again', [{ verb: 'rollback', target: t, params: { toRevision: 1 } }]),
    );
    const view = await api.finished('faults-rollback-again');
    expect(view.phase).toBe('Succeeded');
    expect(view.status?.steps[0]).toMatchObject({
      phase: 'Applied',
      change: { images: { from: { server: image('v3') }, to: { server: image('v1') } } },
    });
    expect(await liveImage(t.name)).toBe(image('v1'));

    // Now at revision 1's template: the same rollback writes nothing, and says so.
    const before = (await getWorkload(clusters, t)).metadata.generation;
    await api.request(
      'POST',
      '/v1/plans',
      plan('faults-rollback-noop', [{ verb: 'rollback', target: t, params: { toRevision: 1 } }]),
    );
    const noop = await api.finished('faults-rollback-noop');
    expect(noop.phase).toBe('Succeeded');
    expect(noop.status?.steps[0]).toMatchObject({ phase: 'Unchanged', change: {} });
    expect((await getWorkload(clusters, t)).metadata.generation).toBe(before);
    expect(await liveImage(t.name)).toBe(image('v1'));
  });
});

describe('an unknown cluster (item 11)', () => {
  it('is a 400 naming the known clusters, for plans and rollouts, and starts nothing', async () => {
    const response = await api.request<Problem>(
      'POST',
      '/v1/plans',
      plan('faults-east', [{ verb: 'scale', target: target('anything', 'east'), params: { replicas: 2 } }]),
    );
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('SENTINEL_ERR_VALIDATION');
    expect(response.body.issues).toEqual([
      { path: 'steps.0.target.cluster', message: 'unknown cluster "east"; known clusters: local' },
    ]);
    expect(await workflowExists('faults-east')).toBe(false);

    const rollout = await api.request<Problem>('POST', '/v1/rollouts', {
      target: { cluster: 'east', namespace: NAMESPACE, name: 'anything' },
      template: { containers: [{ name: 'server', image: image('v2') }] },
      strategy: { canary: { steps: [{ setWeight: 50 }] } },
      requestedBy: 'integration-test',
      reason: 'plan faults',
    });
    expect(rollout.status).toBe(400);
    expect(rollout.body.issues).toEqual([
      { path: 'target.cluster', message: 'unknown cluster "east"; known clusters: local' },
    ]);
  });

  it('fails a running plan at once when its cluster is gone, with no step left Running', async () => {
    // A plan accepted while "east" existed: started directly, past the API's check.
    const id = 'faults-east-gone';
    const started = Date.now();
    await stack.client.workflow.start('actionPlanWorkflow', {
      taskQueue: PLAN_TASK_QUEUE,
      workflowId: planWorkflowId(id),
      args: [
        {
          ...plan(id, [{ verb: 'scale', target: target('anything', 'east'), params: { replicas: 2 } }]),
          priority: 100,
          mode: 'execute',
          emergency: false,
        },
      ],
    });
    const view = await api.finished(id, 60_000);
    // Before: about 150 s of retries. The policy gate's retries alone start at 1 s, 2 s, 4 s...
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(view.phase).toBe('Failed');
    expect(view.status?.message).toContain('cluster east: no such cluster in the registry (known: local)');
    expect(view.status?.steps[0]).toMatchObject({ phase: 'Failed' });
    expect(view.status?.steps[0]?.message).toMatch(
      /^policy evaluation failed: cluster east: no such cluster/,
    );
  });
});

describe('a string PostgreSQL cannot store (items 12 and 13)', () => {
  const nulPlan = (id: string) =>
    plan(id, [
      {
        verb: 'update',
        target: target('nul'),
        params: { container: 'server', env: { MODEL_NAME: 'llama\u0000' } },
      },
    ]);

  it('is a 400 naming the field, and no workflow starts', async () => {
    const response = await api.request<Problem>('POST', '/v1/plans', nulPlan('faults-nul'));
    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([
      { path: 'steps.0.params.env.MODEL_NAME', message: 'must not contain the NUL character (U+0000)' },
    ]);
    expect(await workflowExists('faults-nul')).toBe(false);
  });

  it('fails a plan whose bookkeeping the database refuses, with the reason, while GET answers 200', async () => {
    // Poison input that bypasses the API's validation: started directly through Temporal.
    const id = 'faults-nul-direct';
    await stack.client.workflow.start('actionPlanWorkflow', {
      taskQueue: PLAN_TASK_QUEUE,
      workflowId: planWorkflowId(id),
      args: [{ ...nulPlan(id), priority: 100, mode: 'execute', emergency: false }],
    });
    const statuses: number[] = [];
    const view = await eventually(
      async () => {
        const response = await api.request<PlanView>('GET', `/v1/plans/${id}`);
        statuses.push(response.status);
        return response.body;
      },
      (v) => v.phase === 'Failed',
      60_000,
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(view.status?.message).toMatch(/bookkeeping failed: the database refused the plan row/);
    const description = await stack.client.workflow.getHandle(planWorkflowId(id)).describe();
    expect(description.status.name).toBe('COMPLETED');
    // Nothing was stored, nothing was changed.
    expect(await getPlan(stack.database.db, id)).toBeUndefined();
    // The ended plan refuses control, instead of accepting an abort that does nothing.
    const abort = await api.request<Problem>('POST', `/v1/plans/${id}/abort`, { reason: 'stop it' });
    expect(abort.status).toBe(409);
  });

  it('answers GET from the Temporal server when no workflow task runs, never 503', async () => {
    // A plan whose workflow tasks nobody takes: no row, and a status query that cannot answer.
    const id = 'faults-no-worker';
    const handle = await stack.client.workflow.start('actionPlanWorkflow', {
      taskQueue: 'plan-faults-nobody-serves-this',
      workflowId: planWorkflowId(id),
      args: [{ ...nulPlan(id), priority: 100, mode: 'execute', emergency: false }],
    });
    try {
      const response = await api.request<PlanView>('GET', `/v1/plans/${id}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ planId: id, phase: 'Pending', status: null });
    } finally {
      await handle.terminate('test done');
    }
  });
});
