import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyObject, applyWorkload, ClusterRegistry } from '../../k8s/index.ts';
import { parsePolicyDocument } from '../../policy/index.ts';
import type { LocalStack } from '../../stack/local-stack.ts';
import { listAudit } from '../../store/audit.ts';
import { putPolicy } from '../../store/policies.ts';
import { inferenceDeployment } from '../../testbed/workloads.ts';
import { runCli } from '../support/cli.ts';
import { apiClient } from '../support/plans.ts';
import { startTestStack } from '../support/stack.ts';

// `sentinel audit verify` proves the trail: it passes on a real run (applied, denied and
// compensated steps) and fails at exactly the record someone altered in the database.
let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
  const clusters = ClusterRegistry.fromSources(stack.clusters);
  await applyObject(clusters, 'local', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'audited' },
  });
  await applyWorkload(clusters, 'local', inferenceDeployment('svc', 1, { namespace: 'audited' }));
  await putPolicy(
    stack.database.db,
    parsePolicyDocument(`
id: audited-max-replicas
version: 1
description: at most 5 replicas
priority: 10
mode: enforce
selector: { namespaces: [audited] }
rule: { type: quota, scope: workload, maxReplicas: 5 }
`),
    'test',
  );
  const api = apiClient(stack.apiUrl);
  const target = { cluster: 'local', namespace: 'audited', kind: 'Deployment', name: 'svc' };
  const base = { requestedBy: 'e2e', reason: 'audit trail' };
  await api.request('POST', '/v1/plans', {
    ...base,
    id: 'a-ok',
    verb: 'scale',
    target,
    params: { replicas: 3 },
  });
  await api.finished('a-ok');
  await api.request('POST', '/v1/plans', {
    ...base,
    id: 'a-denied',
    verb: 'scale',
    target,
    params: { replicas: 9 },
  });
  await api.finished('a-denied');
  await api.request('POST', '/v1/plans', {
    ...base,
    id: 'a-rolled-back',
    steps: [
      { verb: 'scale', target, params: { replicas: 2 } },
      { verb: 'update', target, params: { container: 'missing', image: 'x:1' } },
    ],
  });
  await api.finished('a-rolled-back');
});
afterAll(async () => stack?.stop());

it('verifies the whole trail of a real run', async () => {
  const result = await runCli(['--api', stack.apiUrl, 'audit', 'verify']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(
    /^OK: 5 records \(#1\.\.#5\), hash chain intact, 4 policy decisions re-evaluated and unchanged, no denied action executed/,
  );
});

it('fails at the record that was altered after it was written', async () => {
  const denied = (await listAudit(stack.database.db, { planId: 'a-denied' }))[0]!;
  // Tampering needs the append-only trigger out of the way, as an attacker with DBA rights would.
  await stack.database.db.execute(sql`ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only`);
  await stack.database.db.execute(
    sql`UPDATE audit_records SET body = jsonb_set(body, '{decision,result}', '"allow"') WHERE seq = ${denied.seq}`,
  );
  await stack.database.db.execute(sql`ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only`);

  const result = await runCli(['--api', stack.apiUrl, 'audit', 'verify']);
  expect(result.code).toBe(1);
  expect(result.stdout).toContain(
    `FAILED at record #${denied.seq} (plan/a-denied/step/0/step.denied): hash-mismatch`,
  );
});
