import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RolloutService } from '../../api/rollout-service.ts';
import { RolloutSpecSchema, type RolloutStatus } from '../../domain/rollout.ts';
import { rolloutStatusQuery } from '../../domain/rollout-messages.ts';
import { ClusterRegistry, getWorkload } from '../../k8s/index.ts';
import { listAudit } from '../../store/audit.ts';
import { openDatabase, type DatabaseHandle } from '../../store/database.ts';
import { SIMULATED_READY_DELAY_ANNOTATION } from '../../testbed/kube-stages.ts';
import { startTestbed, type Testbed } from '../../testbed/index.ts';
import { startWorkerProcess } from '../../testbed/worker-process.ts';
import { deployServing } from '../support/rollout-stack.ts';
import { eventually } from '../support/stack.ts';

// Worker processes are killed (SIGKILL) while a canary's step waits for slow pods and while
// it pauses; new worker processes pick the rollout up, the pause ends on its workflow-time
// deadline, and the rollout promotes with exactly one write per change.
let testbed: Testbed;
let database: DatabaseHandle;
let connection: Connection;
const NS = 'crash';

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

it('finishes a canary exactly once when its worker is killed during a step and during a pause', async () => {
  const clusters = ClusterRegistry.fromSources(testbed.clusterSpec);
  await deployServing(clusters, { namespace: NS, name: 'model', replicas: 2 });
  const target = { cluster: 'local', namespace: NS, kind: 'Deployment' as const, name: 'model' };
  const before = await getWorkload(clusters, target);

  const env = {
    TEMPORAL_ADDRESS: testbed.temporal!.address,
    DATABASE_URL: testbed.postgres!.url,
    SENTINEL_CLUSTERS: testbed.clusterSpec.map((c) => `${c.name}=${c.kubeconfigPath}`).join(','),
  };
  const worker = (n: number) =>
    startWorkerProcess({ name: `worker-${n}`, logFile: join(testbed.dataDir, `worker-${n}.log`), env });

  const first = await worker(1);
  const client = new Client({ connection });
  const spec = RolloutSpecSchema.parse({
    target: { cluster: 'local', namespace: NS, name: 'model' },
    // New pods take 6 s to become Ready, so a step stays in flight long enough to kill it.
    template: {
      containers: [{ name: 'server', image: 'registry.local/inference:v2' }],
      annotations: { [SIMULATED_READY_DELAY_ANNOTATION]: '6s' },
    },
    strategy: { canary: { steps: [{ setWeight: 50 }, { pause: { duration: '5s' } }, { setWeight: 100 }] } },
    progressDeadlineSeconds: 120,
    requestedBy: 'integration-test',
    reason: 'worker crash',
  });
  await new RolloutService(client).start(spec);
  const handle = client.workflow.getHandle('rollout/local/crash/model');

  // 1. Kill the worker while setWeight 50 waits for its slow canary pod.
  await eventually(
    async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      return pending.some((a) => a.activityType?.name === 'waitDeploymentReady');
    },
    (waiting) => waiting,
    60_000,
  );
  first.signal('SIGKILL');
  await first.waitForExit();

  // 2. A second worker finishes the step; kill it during the pause.
  const second = await worker(2);
  const paused = await eventually(
    () => handle.query(rolloutStatusQuery),
    (status: RolloutStatus) => status.phase === 'Paused',
    60_000,
  );
  expect(paused.pause?.until).not.toBeNull();
  second.signal('SIGKILL');
  await second.waitForExit();
  // The pause's deadline passes while no worker runs: wait until the deadline the status
  // names, not for a fixed while.
  await sleep(Math.max(0, Date.parse(paused.pause!.until!) + 1_000 - Date.now()));

  const third = await worker(3);
  try {
    const result = (await handle.result()) as RolloutStatus;
    expect(result.phase).toBe('Promoted');
    // The pause ended on its deadline in workflow time, not a second pause after the restart.
    const pause = result.steps[1]!;
    const pausedMs = Date.parse(pause.finishedAt!) - Date.parse(pause.startedAt!);
    expect(pausedMs).toBeGreaterThanOrEqual(5_000);

    // One write per change, whatever the attempts: one audit record each, each a real change,
    // and the stable's template changed exactly once (one generation, one revision).
    const audit = await listAudit(database.db, { planId: 'rollout/local/crash/model' });
    expect(audit.map((r) => r.kind)).toEqual([
      'rollout.createCanary',
      'rollout.setWeight',
      'rollout.setWeight',
      'rollout.promoteStable',
      'rollout.promoteStable',
      'rollout.deleteCanary',
    ]);
    const outcomes = audit.map((r) => (r.body as { outcome: { changed: boolean } }).outcome.changed);
    // The stable's scale to its unchanged size is a no-op by design.
    expect(outcomes).toEqual([true, true, true, true, false, true]);
    const after = await getWorkload(clusters, target);
    expect(after.metadata.generation).toBe(before.metadata.generation! + 1);
    expect(Number(after.metadata.annotations?.['sentinel.dev/revision'] ?? 0)).toBe(
      Number(before.metadata.annotations?.['sentinel.dev/revision'] ?? 0) + 1,
    );
    expect(after.spec.template.spec.containers[0]!.image).toBe('registry.local/inference:v2');

    // The step in flight really was retried on another worker.
    const history = await handle.fetchHistory();
    const waitAttempts = (history.events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    expect(Math.max(...waitAttempts)).toBeGreaterThanOrEqual(2);
  } finally {
    await third.stop();
  }
});
