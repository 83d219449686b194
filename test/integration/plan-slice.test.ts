import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanView } from '../../api/plan-service.ts';
import { planStatusQuery } from '../../domain/plan-messages.ts';
import { applyObject, applyWorkload, getWorkload } from '../../k8s/index.ts';
import { ClusterRegistry } from '../../k8s/index.ts';
import { parsePolicyDocument } from '../../policy/index.ts';
import type { LocalStack } from '../../stack/local-stack.ts';
import { listAudit } from '../../store/audit.ts';
import { putPolicy } from '../../store/policies.ts';
import { recordHistory } from '../support/histories.ts';
import { eventually, inferenceDeployment, startTestStack } from '../support/stack.ts';

// The walking skeleton end to end: HTTP → Temporal workflow → policy → kube-apiserver →
// database, on the real services the testbed starts.
let stack: LocalStack;
let clusters: ClusterRegistry;
const target = { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'inference' } as const;

async function api<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; type: string; body: T }> {
  const response = await fetch(new URL(path, stack.apiUrl), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: (await response.json()) as T,
  };
}

const finished = (id: string) =>
  eventually(
    async () => (await api<PlanView>('GET', `/v1/plans/${id}`)).body,
    (view) => ['Succeeded', 'Denied', 'Failed', 'RolledBack', 'Expired', 'Aborted'].includes(view.phase),
  );

const scalePlan = (id: string, replicas: number) => ({
  id,
  verb: 'scale',
  target,
  params: { replicas },
  requestedBy: 'integration-test',
  reason: 'walking skeleton',
});

beforeAll(async () => {
  stack = await startTestStack();
  clusters = ClusterRegistry.fromSources(stack.clusters);
  await applyObject(clusters, 'local', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
  await applyWorkload(clusters, 'local', inferenceDeployment('inference', 2));
  await putPolicy(
    stack.database.db,
    parsePolicyDocument(`
id: ml-max-replicas
version: 1
description: at most 8 replicas per workload in ml
priority: 100
mode: enforce
selector: { namespaces: [ml] }
rule: { type: quota, scope: workload, maxReplicas: 8 }
`),
    'test',
  );
});
afterAll(async () => stack?.stop());

describe('scale plan through the whole stack', () => {
  it('applies a scale plan: workflow, cluster, plan row, audit row and status query agree', async () => {
    const submitted = await api<PlanView & { created: boolean }>(
      'POST',
      '/v1/plans',
      scalePlan('scale-to-4', 4),
    );
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ created: true, workflowId: 'plan/scale-to-4' });

    const view = await finished('scale-to-4');
    expect(view.phase).toBe('Succeeded');
    expect(view.status?.steps[0]).toMatchObject({
      phase: 'Applied',
      change: { replicas: { from: 2, to: 4 } },
    });

    const live = await getWorkload(clusters, target);
    expect(live.spec.replicas).toBe(4);

    const status = await stack.client.workflow.getHandle('plan/scale-to-4').query(planStatusQuery);
    expect(status.phase).toBe('Succeeded');

    const audit = await listAudit(stack.database.db, { planId: 'scale-to-4' });
    expect(audit.map((r) => r.kind)).toEqual(['step.applied']);
    expect(audit[0]!.body).toMatchObject({ decision: { result: 'allow' } });
    recordHistory(stack.temporalAddress, 'plan/scale-to-4', 'plan-scale-succeeded');
  });

  it('starts one workflow for a resubmitted plan id and refuses different content under it', async () => {
    const again = await api<PlanView & { created: boolean }>('POST', '/v1/plans', scalePlan('scale-to-4', 4));
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    const conflicting = await api<{ code: string }>('POST', '/v1/plans', scalePlan('scale-to-4', 5));
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.code).toBe('SENTINEL_ERR_CONFLICT');
    const runs = [];
    for await (const run of stack.client.workflow.list({ query: `WorkflowId = 'plan/scale-to-4'` }))
      runs.push(run);
    expect(runs).toHaveLength(1);
  });

  it('finds plans by the workload search attribute', async () => {
    const found = await eventually(
      async () => {
        const ids: string[] = [];
        for await (const run of stack.client.workflow.list({ query: `SentinelWorkload = 'inference'` }))
          ids.push(run.workflowId);
        return ids;
      },
      (ids) => ids.includes('plan/scale-to-4'),
    );
    expect(found).toContain('plan/scale-to-4');
  });

  it('answers an invalid plan with 400 problem+json naming each bad field', async () => {
    const bad = await api<{ code: string; issues: { path: string }[] }>('POST', '/v1/plans', {
      ...scalePlan('bad-plan', -3),
      target: { ...target, kind: 'Pod' },
    });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect(bad.body.code).toBe('SENTINEL_ERR_VALIDATION');
    expect(bad.body.issues.map((i) => i.path).sort()).toEqual([
      'steps.0.params.replicas',
      'steps.0.target.kind',
    ]);
    const notJson = await fetch(new URL('/v1/plans', stack.apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"id": ',
    });
    expect(notJson.status).toBe(400);
  });

  it('denies a scale above quota, records the denial and leaves the cluster unchanged', async () => {
    const before = await getWorkload(clusters, target);
    await api('POST', '/v1/plans', scalePlan('scale-to-12', 12));
    const view = await finished('scale-to-12');
    expect(view.phase).toBe('Denied');
    expect(view.status?.decisions[0]).toMatchObject({
      result: 'deny',
      violations: [{ policyId: 'ml-max-replicas' }],
    });
    const after = await getWorkload(clusters, target);
    expect(after.spec.replicas).toBe(4);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const audit = await listAudit(stack.database.db, { planId: 'scale-to-12' });
    expect(audit.map((r) => r.kind)).toEqual(['step.denied']);
    recordHistory(stack.temporalAddress, 'plan/scale-to-12', 'plan-scale-denied');
  });
});
