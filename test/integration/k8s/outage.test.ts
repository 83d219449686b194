import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  ClusterRegistry,
  SentinelMetadata,
  applyObject,
  applyWorkload,
  getWorkload,
  listWorkloadPods,
  updateWorkload,
  waitForRollout,
  type KubeObject,
  type WorkloadTarget,
} from '../../../k8s/index.ts';
import { startKubeCluster } from '../../../testbed/kube.ts';
import { gpuDeployment, testCluster } from './fixtures.ts';

const OUTAGE_MS = 30_000;

async function replicaSets(registry: ClusterRegistry, target: WorkloadTarget): Promise<KubeObject[]> {
  const list = await registry.client(target.cluster).request<{ items: KubeObject[] }>({
    method: 'GET',
    path: `/apis/apps/v1/namespaces/${target.namespace}/replicasets`,
    query: { labelSelector: `app=${target.name}` },
  });
  return list.items;
}

describe('kube-apiserver outage in the middle of an update', () => {
  it('retries through a 30 s outage and completes once, with no duplicate change', async () => {
    await using cluster = await startKubeCluster(testCluster('outage'));
    using registry = ClusterRegistry.fromSources([
      { name: 'outage', kubeconfigPath: cluster.kubeconfigPath },
    ]);
    const target: WorkloadTarget = {
      cluster: 'outage',
      namespace: 'training',
      kind: 'Deployment',
      name: 'trainer',
    };
    await applyObject(registry, 'outage', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'training' },
    });
    // minReadySeconds keeps the rollout going long enough for the apiserver to vanish mid-way.
    await applyWorkload(
      registry,
      'outage',
      gpuDeployment({ namespace: 'training', name: 'trainer', replicas: 2, minReadySeconds: 8 }),
    );
    await waitForRollout(registry, target, { timeoutMs: 60_000 });
    const before = await getWorkload(registry, target);

    // Phase 1: the write lands, then the apiserver dies while the driver watches the rollout.
    const retries: string[] = [];
    const update = updateWorkload(
      registry,
      target,
      { container: 'main', image: 'registry.example/trainer:2.0' },
      {
        operationId: 'plan-7/step-0',
        wait: { timeoutMs: 240_000 },
        retry: { maxElapsedMs: 120_000, onRetry: (err) => retries.push(String(err)) },
      },
    );
    using observer = ClusterRegistry.fromSources([
      { name: 'outage', kubeconfigPath: cluster.kubeconfigPath },
    ]);
    await expect
      .poll(async () => (await getWorkload(observer, target, { retry: false })).metadata.generation, {
        timeout: 30_000,
        interval: 50,
      })
      .toBe((before.metadata.generation ?? 0) + 1);
    const midway = await getWorkload(observer, target);
    expect(midway.metadata.annotations?.[SentinelMetadata.revisionAnnotation]).toBe('1');
    await cluster.stopApiServer();
    const stoppedAt = Date.now();
    await sleep(OUTAGE_MS);
    await cluster.startApiServer();
    const result = await update;
    console.info(`update finished ${Date.now() - stoppedAt} ms after the apiserver stopped`);
    expect(result).toMatchObject({ changed: true, previous: { image: 'registry.example/trainer:1.0' } });

    const after = await getWorkload(registry, target);
    // Exactly one change: one generation, one Sentinel revision, one new ReplicaSet.
    expect(after.metadata.generation).toBe((before.metadata.generation ?? 0) + 1);
    expect(after.metadata.annotations?.[SentinelMetadata.revisionAnnotation]).toBe('1');
    expect(after.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(await replicaSets(registry, target)).toHaveLength(2);
    const pods = await listWorkloadPods(registry, target);
    expect(pods.map((p) => p.spec.containers[0]?.image)).toEqual([
      'registry.example/trainer:2.0',
      'registry.example/trainer:2.0',
    ]);

    // Phase 2: the apiserver is down before the write; the operation retries until it is back.
    await cluster.stopApiServer();
    const second = updateWorkload(
      registry,
      target,
      { container: 'main', image: 'registry.example/trainer:3.0' },
      { retry: { maxElapsedMs: 120_000, onRetry: (err) => retries.push(String(err)) } },
    );
    await sleep(OUTAGE_MS / 2);
    await cluster.startApiServer();
    const secondResult = await second;
    expect(secondResult).toMatchObject({
      changed: true,
      previous: { image: 'registry.example/trainer:2.0' },
    });
    expect(retries.some((r) => r.includes('ECONNREFUSED'))).toBe(true);
    await waitForRollout(registry, target, { timeoutMs: 120_000 });

    // Temporal retries the whole activity too: running it again is a no-op.
    const replay = await updateWorkload(registry, target, {
      container: 'main',
      image: 'registry.example/trainer:3.0',
    });
    expect(replay.changed).toBe(false);
    const final = await getWorkload(registry, target);
    expect(final.metadata.generation).toBe((before.metadata.generation ?? 0) + 2);
    expect(final.metadata.annotations?.[SentinelMetadata.revisionAnnotation]).toBe('2');
    expect(await replicaSets(registry, target)).toHaveLength(3);
  }, 300_000);
});
