import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PlanService } from '../../api/plan-service.ts';
import { ActionPlanInputSchema } from '../../domain/plan.ts';
import { planStatusQuery } from '../../domain/plan-messages.ts';
import { applyObject, applyWorkload, ClusterRegistry, getWorkload, waitForRollout } from '../../k8s/index.ts';
import { listAudit } from '../../store/audit.ts';
import { openDatabase, type DatabaseHandle } from '../../store/database.ts';
import { startTestbed, type Testbed } from '../../testbed/index.ts';
import { startWorkerProcess } from '../../testbed/worker-process.ts';
import { inferenceDeployment } from '../../testbed/workloads.ts';
import type { actionPlanWorkflow } from '../../workflows/action-plan.ts';
import { eventually } from '../support/stack.ts';

// A worker process is killed (SIGKILL) while the plan's Kubernetes step is in flight; a new
// worker process picks the plan up and it finishes exactly once.
let testbed: Testbed;
let database: DatabaseHandle;
let connection: Connection;
const target = { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'trainer' } as const;

beforeAll(async () => {
  testbed = await startTestbed({ temporal: true, postgres: true, clusters: ['local'] });
  database = await openDatabase({ kind: 'postgres', url: testbed.postgres!.url });
  connection = await Connection.connect({ address: testbed.temporal!.address });
});
afterAll(async () => {
  await connection?.close();
  await database?.close();
  await testbed?.stop();
});

it('finishes a plan exactly once when its worker is killed mid-step', async () => {
  const clusters = ClusterRegistry.fromSources(testbed.clusterSpec);
  await applyObject(clusters, 'local', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
  await applyWorkload(clusters, 'local', inferenceDeployment('trainer', 1, { readyDelay: '8s' }));
  await waitForRollout(clusters, target, { timeoutMs: 60_000 });
  const generationBefore = (await getWorkload(clusters, target)).metadata.generation!;

  const env = {
    TEMPORAL_ADDRESS: testbed.temporal!.address,
    DATABASE_URL: testbed.postgres!.url,
    SENTINEL_CLUSTERS: testbed.clusterSpec.map((c) => `${c.name}=${c.kubeconfigPath}`).join(','),
  };
  const first = await startWorkerProcess({
    name: 'worker-1',
    logFile: join(testbed.dataDir, 'worker-1.log'),
    env,
  });

  const client = new Client({ connection });
  const plans = new PlanService(client, database.db);
  const plan = ActionPlanInputSchema.parse({
    id: 'crash-scale',
    verb: 'scale',
    target,
    params: { replicas: 12 },
    requestedBy: 'integration-test',
    reason: 'worker crash',
  });
  await plans.submit(plan);
  const handle = client.workflow.getHandle<typeof actionPlanWorkflow>('plan/crash-scale');

  // Kill the worker once the step has made its change and is waiting for the slow pods to
  // become Ready: the most delicate moment for exactly-once.
  await eventually(
    async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const replicas = (await getWorkload(clusters, target)).spec.replicas;
      return pending.some((a) => a.activityType?.name === 'applyStep') && replicas === 12;
    },
    (midStep) => midStep,
    60_000,
  );
  first.signal('SIGKILL');
  await first.waitForExit();

  const second = await startWorkerProcess({
    name: 'worker-2',
    logFile: join(testbed.dataDir, 'worker-2.log'),
    env,
  });
  try {
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect((await handle.query(planStatusQuery)).phase).toBe('Succeeded');

    const live = await getWorkload(clusters, target);
    expect(live.spec.replicas).toBe(12);
    // Exactly one write, whatever the number of attempts: the scale and its provenance
    // annotations go in one patch (a Deployment counts annotation changes in its generation,
    // so a separate annotation write would show as a second generation).
    expect(live.metadata.generation).toBe(generationBefore + 1);
    expect(live.metadata.annotations?.['sentinel.dev/operation']).toBe('plan/crash-scale/step/0');

    const audit = await listAudit(database.db, { planId: 'crash-scale' });
    expect(audit.map((r) => r.kind)).toEqual(['step.applied']);
    expect(audit[0]!.body).toMatchObject({
      outcome: { changed: true, change: { replicas: { from: 1, to: 12 } } },
    });

    // The step really was retried on the second worker.
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
  } finally {
    await second.stop();
  }
});

it('keeps a paused plan paused across a worker restart and resumes it', async () => {
  const clusters = ClusterRegistry.fromSources(testbed.clusterSpec);
  const target2 = { ...target, name: 'paused-app' };
  await applyWorkload(clusters, 'local', inferenceDeployment('paused-app', 1, { readyDelay: '4s' }));
  await waitForRollout(clusters, target2, { timeoutMs: 60_000 });
  const env = {
    TEMPORAL_ADDRESS: testbed.temporal!.address,
    DATABASE_URL: testbed.postgres!.url,
    SENTINEL_CLUSTERS: testbed.clusterSpec.map((c) => `${c.name}=${c.kubeconfigPath}`).join(','),
  };
  const first = await startWorkerProcess({
    name: 'worker-3',
    logFile: join(testbed.dataDir, 'worker-3.log'),
    env,
  });
  const client = new Client({ connection });
  await new PlanService(client, database.db).submit(
    ActionPlanInputSchema.parse({
      id: 'pause-across-restart',
      steps: [
        { verb: 'scale', target: target2, params: { replicas: 2 } },
        { verb: 'scale', target: target2, params: { replicas: 3 } },
      ],
      requestedBy: 'integration-test',
      reason: 'pause and resume',
    }),
  );
  const handle = client.workflow.getHandle<typeof actionPlanWorkflow>('plan/pause-across-restart');
  await eventually(
    () => handle.query(planStatusQuery),
    (s) => s.currentStep === 0,
  );
  await handle.signal('pause', { actor: 'sre', reason: 'investigating' });
  await eventually(
    () => handle.query(planStatusQuery),
    (s) => s.phase === 'Paused',
  );

  // The worker that held the workflow in its cache goes away; another answers from history.
  await first.stop();
  const second = await startWorkerProcess({
    name: 'worker-4',
    logFile: join(testbed.dataDir, 'worker-4.log'),
    env,
  });
  try {
    // The new worker answers once it has polled; wait for that state, not for a moment.
    const paused = await eventually(
      () => handle.query(planStatusQuery),
      (status) => status.phase === 'Paused',
      60_000,
    );
    expect(paused.phase).toBe('Paused');
    expect(paused.waitingFor).toMatch(/resume/);
    expect((await getWorkload(clusters, target2)).spec.replicas).toBe(2);

    await handle.signal('resume', { actor: 'sre' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect((await getWorkload(clusters, target2)).spec.replicas).toBe(3);
  } finally {
    await second.stop();
  }
});
