import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanView } from '../../api/plan-service.ts';
import type { PolicyEvaluation, PolicyVersionView, PolicyWriteResult } from '../../api/policy-service.ts';
import { applyObject, applyWorkload, ClusterRegistry, getWorkload } from '../../k8s/index.ts';
import type { PolicyDocument } from '../../policy/index.ts';
import type { LocalStack } from '../../stack/local-stack.ts';
import { listAudit } from '../../store/audit.ts';
import { getPlan } from '../../store/plans.ts';
import { eventually, inferenceDeployment, startTestStack } from '../support/stack.ts';

// /v1/policies on the real stack: versioned CRUD over the database, dry-run evaluation
// against the live kube-apiserver, and plans evaluated by the worker against what was stored.
let stack: LocalStack;
let clusters: ClusterRegistry;
const target = { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'inference' } as const;
const TOKENS = { viewer: 'viewer-token', operator: 'operator-token', admin: 'admin-token' } as const;

interface Problem {
  code: string;
  detail: string;
  issues?: { path: string; message: string }[];
}

async function call<T>(
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; type?: string } = {},
): Promise<{ status: number; type: string; location: string | null; body: T }> {
  const token = options.token === undefined ? TOKENS.admin : options.token;
  const type = options.type ?? 'application/json';
  const response = await fetch(new URL(path, stack.apiUrl), {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': type }),
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    location: response.headers.get('location'),
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

const maxReplicas = (limit: number, extra: Partial<PolicyDocument> = {}) => ({
  id: 'ml-max-replicas',
  version: 1,
  description: `at most ${limit} replicas per workload in ml`,
  priority: 100,
  mode: 'enforce',
  selector: { namespaces: ['ml'] },
  rule: { type: 'quota', scope: 'workload', maxReplicas: limit },
  ...extra,
});

const freezeYaml = (hour: number) => `
id: ops-freeze
version: 1
description: no changes in the ops namespace at night
mode: warn
selector: { namespaces: [ops] }
rule:
  type: freezeWindow
  windows:
    - cron: '0 ${hour} * * *'
      duration: 2h
`;

const scalePlan = (id: string, replicas: number) => ({
  id,
  verb: 'scale',
  target,
  params: { replicas },
  requestedBy: 'integration-test',
  reason: 'policy API test',
});

const finished = (id: string) =>
  eventually(
    async () => (await call<PlanView>('GET', `/v1/plans/${id}`)).body,
    (view) => ['Succeeded', 'Denied', 'Failed', 'RolledBack', 'Expired', 'Aborted'].includes(view.phase),
    120_000,
  );

beforeAll(async () => {
  stack = await startTestStack({
    SENTINEL_API_TOKENS: Object.entries(TOKENS)
      .map(([role, token]) => `${token}:${role}`)
      .join(','),
  });
  clusters = ClusterRegistry.fromSources(stack.clusters);
  await applyObject(clusters, 'local', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
  await applyWorkload(clusters, 'local', inferenceDeployment('inference', 2));
});
afterAll(async () => stack?.stop());

describe('policy CRUD with versions', () => {
  it('creates a policy, refuses other content under its id, and stores new versions with PUT', async () => {
    const created = await call<PolicyWriteResult>('POST', '/v1/policies', { body: maxReplicas(8) });
    expect(created.status).toBe(201);
    expect(created.location).toBe('/v1/policies/ml-max-replicas');
    expect(created.body).toMatchObject({
      id: 'ml-max-replicas',
      version: 1,
      changed: true,
      previousVersion: null,
      createdBy: 'admin',
      deletedAt: null,
      document: { version: 1, rule: { maxReplicas: 8 } },
    });

    const again = await call<PolicyWriteResult>('POST', '/v1/policies', { body: maxReplicas(8) });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ version: 1, changed: false });
    const conflicting = await call<Problem>('POST', '/v1/policies', { body: maxReplicas(9) });
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.code).toBe('SENTINEL_ERR_CONFLICT');

    // The version in the body is not trusted: the server numbers versions.
    const v2 = await call<PolicyWriteResult>('PUT', '/v1/policies/ml-max-replicas', {
      body: maxReplicas(6, { version: 7 }),
    });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({
      version: 2,
      changed: true,
      previousVersion: 1,
      document: { version: 2 },
    });
    const unchanged = await call<PolicyWriteResult>('PUT', '/v1/policies/ml-max-replicas', {
      body: maxReplicas(6),
    });
    expect(unchanged.body).toMatchObject({ version: 2, changed: false });

    const current = await call<PolicyVersionView>('GET', '/v1/policies/ml-max-replicas', {
      token: TOKENS.viewer,
    });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ version: 2, document: { rule: { maxReplicas: 6 } } });
    const first = await call<PolicyVersionView>('GET', '/v1/policies/ml-max-replicas?version=1');
    expect(first.body).toMatchObject({ version: 1, document: { version: 1, rule: { maxReplicas: 8 } } });
    expect((await call<Problem>('GET', '/v1/policies/ml-max-replicas?version=9')).status).toBe(404);

    const versions = await call<{ items: PolicyVersionView[] }>(
      'GET',
      '/v1/policies/ml-max-replicas/versions',
    );
    expect(versions.body.items.map((v) => v.version)).toEqual([2, 1]);
    const list = await call<{ items: PolicyDocument[] }>('GET', '/v1/policies');
    expect(list.body.items.map((p) => `${p.id}@${p.version}`)).toEqual(['ml-max-replicas@2']);
  });

  it('requires the id in the path to match the document', async () => {
    const mismatch = await call<Problem>('PUT', '/v1/policies/other-id', { body: maxReplicas(6) });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.code).toBe('SENTINEL_ERR_VALIDATION');
    expect(mismatch.body.issues).toEqual([
      { path: 'id', message: 'must equal the id in the path ("other-id"), received "ml-max-replicas"' },
    ]);
    expect((await call<Problem>('GET', '/v1/policies/other-id')).status).toBe(404);
  });

  it('gives reads to viewers, dry runs to operators and writes to admins only', async () => {
    expect((await call('GET', '/v1/policies', { token: null })).status).toBe(401);
    expect((await call('GET', '/v1/policies', { token: TOKENS.viewer })).status).toBe(200);
    const denied = [
      await call<Problem>('POST', '/v1/policies', { body: maxReplicas(8), token: TOKENS.viewer }),
      await call<Problem>('PUT', '/v1/policies/ml-max-replicas', {
        body: maxReplicas(1),
        token: TOKENS.operator,
      }),
      await call<Problem>('DELETE', '/v1/policies/ml-max-replicas', { token: TOKENS.operator }),
      await call<Problem>('POST', '/v1/policies/evaluate', { body: scalePlan('p', 3), token: TOKENS.viewer }),
    ];
    expect(denied.map((r) => [r.status, r.body.code])).toEqual(
      Array(4).fill([403, 'SENTINEL_ERR_FORBIDDEN']),
    );
    const dryRun = await call('POST', '/v1/policies/evaluate', {
      body: scalePlan('p', 3),
      token: TOKENS.operator,
    });
    expect(dryRun.status).toBe(200);
    expect((await call<PolicyVersionView>('GET', '/v1/policies/ml-max-replicas')).body.version).toBe(2);
  });
});

describe('malformed policies', () => {
  it('answers 400 problem+json naming each bad field and its reason, and stores nothing', async () => {
    const bad = await call<Problem>('POST', '/v1/policies', {
      body: {
        ...maxReplicas(8),
        id: 'bad-policy',
        rule: { type: 'quota', scope: 'workload', maxReplicas: 'lots' },
        selecter: {},
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect(bad.body.code).toBe('SENTINEL_ERR_POLICY_INVALID');
    expect(bad.body.issues).toEqual(
      expect.arrayContaining([
        { path: 'rule.maxReplicas', message: 'expected number, received string' },
        { path: '', message: 'unknown field "selecter"' },
      ]),
    );
    expect(bad.body.detail).toContain('rule.maxReplicas: expected number, received string');
    expect((await call('GET', '/v1/policies/bad-policy')).status).toBe(404);

    const badCron = await call<Problem>('PUT', '/v1/policies/bad-freeze', {
      body: {
        id: 'bad-freeze',
        version: 1,
        rule: { type: 'freezeWindow', windows: [{ cron: '0 25 * * *', duration: '1h' }] },
      },
    });
    expect(badCron.status).toBe(400);
    expect(badCron.body.issues?.map((i) => i.path)).toEqual(['rule.windows[0].cron']);
    expect(badCron.body.issues?.[0]?.message).toMatch(/hour field "25"/);
  });
});

describe('YAML bodies', () => {
  it('stores a policy sent as application/yaml or text/yaml', async () => {
    const created = await call<PolicyWriteResult>('POST', '/v1/policies', {
      body: freezeYaml(22),
      type: 'application/yaml',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'ops-freeze',
      version: 1,
      document: { mode: 'warn', rule: { windows: [{ cron: '0 22 * * *' }] } },
    });
    const v2 = await call<PolicyWriteResult>('PUT', '/v1/policies/ops-freeze', {
      body: freezeYaml(23),
      type: 'text/yaml; charset=utf-8',
    });
    expect(v2.body).toMatchObject({ version: 2, changed: true });
  });

  it('names the field of an invalid YAML policy and refuses broken YAML and unknown media types', async () => {
    const invalid = await call<Problem>('POST', '/v1/policies', {
      body: freezeYaml(22).replace('mode: warn', 'mode: block').replace('id: ops-freeze', 'id: ops-freeze-2'),
      type: 'application/yaml',
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({
      code: 'SENTINEL_ERR_POLICY_INVALID',
      issues: [{ path: 'mode', message: 'expected one of "enforce" | "warn" | "dryrun", received "block"' }],
    });
    const broken = await call<Problem>('POST', '/v1/policies', {
      body: 'id: [unclosed\nversion: 1\n',
      type: 'application/yaml',
    });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('SENTINEL_ERR_VALIDATION');
    expect(broken.body.detail).toMatch(/invalid YAML/);
    const xml = await call<Problem>('POST', '/v1/policies', {
      body: freezeYaml(22),
      type: 'application/xml',
    });
    expect(xml.status).toBe(415);
    expect(xml.body.code).toBe('SENTINEL_ERR_UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('soft delete', () => {
  it('hides the policy from current reads and evaluation but keeps every version readable', async () => {
    const deleted = await call<PolicyVersionView>('DELETE', '/v1/policies/ops-freeze');
    expect(deleted.status).toBe(200);
    expect(deleted.body.version).toBe(2);
    expect(deleted.body.deletedAt).not.toBeNull();

    const current = await call<Problem>('GET', '/v1/policies/ops-freeze');
    expect(current.status).toBe(404);
    expect(current.body.detail).toMatch(/was deleted/);
    // A deleted resource is not served under its path (issue 14 item 18: schemathesis'
    // use-after-free check); its history stays readable under /v1/policy-history.
    expect((await call<Problem>('GET', '/v1/policies/ops-freeze?version=1')).status).toBe(404);
    expect((await call<Problem>('GET', '/v1/policies/ops-freeze/versions')).status).toBe(404);
    const versions = await call<{ items: PolicyVersionView[] }>('GET', '/v1/policy-history/ops-freeze');
    expect(versions.body.items.map((v) => [v.version, v.deletedAt !== null])).toEqual([
      [2, true],
      [1, false],
    ]);
    for (const version of [1, 2]) {
      const old = await call<PolicyVersionView>('GET', `/v1/policy-history/ops-freeze/${version}`);
      expect(old.status).toBe(200);
      expect(old.body.document.version).toBe(version);
    }
    expect((await call<Problem>('GET', '/v1/policy-history/ops-freeze/3')).status).toBe(404);
    const list = await call<{ items: PolicyDocument[] }>('GET', '/v1/policies');
    expect(list.body.items.map((p) => p.id)).not.toContain('ops-freeze');
    expect((await call<Problem>('DELETE', '/v1/policies/ops-freeze')).status).toBe(404);

    // Re-creating continues the numbering, so an audit record's version never means two things.
    const recreated = await call<PolicyWriteResult>('PUT', '/v1/policies/ops-freeze', {
      body: freezeYaml(21),
      type: 'application/yaml',
    });
    expect(recreated.status).toBe(201);
    expect(recreated.body).toMatchObject({ version: 3, changed: true, previousVersion: null });
    await call('DELETE', '/v1/policies/ops-freeze');
  });
});

describe('dry-run evaluation', () => {
  it('answers deny for an over-quota plan with the violation, and starts and changes nothing', async () => {
    const before = await getWorkload(clusters, target);
    const answer = await call<PolicyEvaluation>('POST', '/v1/policies/evaluate', {
      body: scalePlan('dry-run-over-quota', 12),
      token: TOKENS.operator,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      planId: 'dry-run-over-quota',
      result: 'deny',
      policies: [{ id: 'ml-max-replicas', version: 2 }],
    });
    const [step] = answer.body.steps;
    expect(step).toMatchObject({
      index: 0,
      verb: 'scale',
      workload: 'local/ml/Deployment/inference',
      result: 'deny',
      matchedPolicies: [{ id: 'ml-max-replicas', version: 2 }],
      action: { currentReplicas: 2, desiredReplicas: 12, workloadLabels: { app: 'inference' } },
    });
    expect(step!.violations).toHaveLength(1);
    expect(step!.violations[0]).toMatchObject({
      policyId: 'ml-max-replicas',
      version: 2,
      ruleType: 'quota',
      mode: 'enforce',
      enforced: true,
    });
    expect(step!.violations[0]!.message).toMatch(/12/);
    expect(step!.inputDigest).toMatch(/^[0-9a-f]{64}$/);

    const after = await getWorkload(clusters, target);
    expect(after.spec.replicas).toBe(2);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    await expect(
      stack.client.workflow.getHandle('plan/dry-run-over-quota').describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(await getPlan(stack.database.db, 'dry-run-over-quota')).toBeUndefined();
    expect(await listAudit(stack.database.db, { planId: 'dry-run-over-quota' })).toEqual([]);
  });

  it('allows a plan within the policies, accepts a plan without an id, and evaluates every step', async () => {
    const answer = await call<PolicyEvaluation>('POST', '/v1/policies/evaluate', {
      body: {
        requestedBy: 'integration-test',
        reason: 'two steps',
        steps: [
          { verb: 'scale', target, params: { replicas: 3 } },
          { verb: 'scale', target, params: { replicas: 7 } },
        ],
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.planId).toMatch(/^dry-run-/);
    expect(answer.body.steps.map((s) => s.result)).toEqual(['allow', 'deny']);
    expect(answer.body.result).toBe('deny');
  });

  it('names the step whose workload does not exist, and validates the plan like POST /v1/plans', async () => {
    const missing = await call<Problem>('POST', '/v1/policies/evaluate', {
      body: { ...scalePlan('dry-run-missing', 1), target: { ...target, name: 'no-such-workload' } },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.issues?.[0]?.path).toBe('steps.0.target');
    expect(missing.body.detail).toMatch(/no-such-workload/);
    const invalid = await call<Problem>('POST', '/v1/policies/evaluate', { body: scalePlan('bad', -1) });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues?.map((i) => i.path)).toEqual(['steps.0.params.replicas']);
  });
});

describe('plans after a policy change', () => {
  const refsOf = async (planId: string) => {
    const [record] = await listAudit(stack.database.db, { planId });
    return (record?.body as { decision?: { policyRefs?: unknown; result?: string } }).decision;
  };

  it('evaluates a plan submitted after a PUT against the new version, as the audit record shows', async () => {
    const v3 = await call<PolicyWriteResult>('PUT', '/v1/policies/ml-max-replicas', {
      body: maxReplicas(10),
    });
    expect(v3.body.version).toBe(3);
    expect((await call('POST', '/v1/plans', { body: scalePlan('after-put-scale-to-9', 9) })).status).toBe(
      202,
    );
    expect((await finished('after-put-scale-to-9')).phase).toBe('Succeeded');
    expect(await refsOf('after-put-scale-to-9')).toMatchObject({
      result: 'allow',
      policyRefs: [{ id: 'ml-max-replicas', version: 3 }],
    });

    const v4 = await call<PolicyWriteResult>('PUT', '/v1/policies/ml-max-replicas', { body: maxReplicas(8) });
    expect(v4.body.version).toBe(4);
    await call('POST', '/v1/plans', { body: scalePlan('after-put-scale-to-10', 10) });
    const denied = await finished('after-put-scale-to-10');
    expect(denied.phase).toBe('Denied');
    expect(await refsOf('after-put-scale-to-10')).toMatchObject({
      result: 'deny',
      policyRefs: [{ id: 'ml-max-replicas', version: 4 }],
      violations: [{ policyId: 'ml-max-replicas', version: 4 }],
    });
    expect((await getWorkload(clusters, target)).spec.replicas).toBe(9);
  });
});

describe('OpenAPI', () => {
  it('documents every policy route with schemas derived from zod', async () => {
    const doc = await call<{
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>('GET', '/openapi.json', { token: null });
    expect(Object.keys(doc.body.paths['/v1/policies']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.body.paths['/v1/policies/{id}']!).sort()).toEqual(['delete', 'get', 'put']);
    expect(doc.body.paths['/v1/policies/{id}/versions']).toHaveProperty('get');
    expect(doc.body.paths['/v1/policies/evaluate']).toHaveProperty('post');
    expect(doc.body.components.schemas.PolicyDocument?.properties).toHaveProperty('rule');
    expect(doc.body.components.schemas.PolicyEvaluation?.properties).toHaveProperty('steps');
  });
});
