import { readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  ClusterRegistry,
  KubeUnavailableError,
  applyObject,
  applyWorkload,
  getClusterCapacity,
  listWorkloadPods,
  scaleWorkload,
  updateWorkload,
  waitForRollout,
  type WorkloadTarget,
} from '../../../k8s/index.ts';
import { startKubeCluster } from '../../../testbed/kube.ts';
import { gpuDeployment, testCluster } from './fixtures.ts';

interface KubeconfigFile {
  clusters: unknown[];
  users: unknown[];
  contexts: unknown[];
}

describe('many clusters from one process', () => {
  it('drives two clusters loaded from KUBECONFIG and from contexts; an unreachable one fails alone', async () => {
    const [eastCluster, westCluster] = await Promise.all([
      startKubeCluster(testCluster('east', { nodes: 2 })),
      startKubeCluster(testCluster('west', { nodes: 2 })),
    ]);
    await using east = eastCluster;
    await using west = westCluster;

    // KUBECONFIG with two files: one cluster per context, named after it.
    using fromEnv = ClusterRegistry.fromEnv({
      KUBECONFIG: [east.kubeconfigPath, west.kubeconfigPath].join(delimiter),
    });
    expect(fromEnv.names()).toEqual(['east', 'west']);

    // One kubeconfig with both contexts, each loaded under the name plans use.
    const merged = [east.kubeconfigPath, west.kubeconfigPath].map(
      (p) => parse(readFileSync(p, 'utf8')) as KubeconfigFile,
    );
    const combinedPath = join(east.dataDir, 'combined.kubeconfig');
    writeFileSync(
      combinedPath,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: merged.flatMap((k) => k.clusters),
        users: merged.flatMap((k) => k.users),
        contexts: merged.flatMap((k) => k.contexts),
        'current-context': 'east',
      }),
    );
    using registry = ClusterRegistry.fromSources([
      { name: 'gpu-east', kubeconfigPath: combinedPath, context: 'east' },
      { name: 'gpu-west', kubeconfigPath: combinedPath, context: 'west' },
    ]);
    expect(registry.names()).toEqual(['gpu-east', 'gpu-west']);

    const targets: WorkloadTarget[] = ['gpu-east', 'gpu-west'].map((cluster) => ({
      cluster,
      namespace: 'serving',
      kind: 'Deployment',
      name: 'inference',
    }));
    await Promise.all(
      targets.map(async (t) => {
        await applyObject(registry, t.cluster, {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: t.namespace },
        });
        await applyWorkload(
          registry,
          t.cluster,
          gpuDeployment({ namespace: t.namespace, name: t.name, replicas: 1 }),
        );
        await waitForRollout(registry, t, { timeoutMs: 60_000 });
      }),
    );

    // Different changes to each cluster at once.
    const [eastScale, westScale] = await Promise.all([
      scaleWorkload(registry, targets[0]!, 3, { wait: { timeoutMs: 60_000 } }),
      scaleWorkload(registry, targets[1]!, 2, { wait: { timeoutMs: 60_000 } }),
    ]);
    expect([eastScale.applied.replicas, westScale.applied.replicas]).toEqual([3, 2]);
    expect((await listWorkloadPods(registry, targets[0]!)).length).toBe(3);
    expect((await listWorkloadPods(registry, targets[1]!)).length).toBe(2);
    // The same objects seen through the KUBECONFIG-loaded registry.
    expect((await listWorkloadPods(fromEnv, { ...targets[1]!, cluster: 'west' })).length).toBe(2);
    const capacities = await Promise.all(registry.names().map((c) => getClusterCapacity(registry, c)));
    expect(capacities.map((c) => [c.cluster, c.total.allocatable.gpus, c.total.requested.gpus])).toEqual([
      ['gpu-east', 16, 3],
      ['gpu-west', 16, 2],
    ]);

    // West goes away: its calls fail fast with a typed error naming it; east carries on.
    await west.stopApiServer();
    const [westResult, eastResult] = await Promise.allSettled([
      updateWorkload(
        registry,
        targets[1]!,
        { container: 'main', image: 'registry.example/trainer:2.0' },
        { retry: { maxElapsedMs: 1_500, initialDelayMs: 100 } },
      ),
      updateWorkload(
        registry,
        targets[0]!,
        { container: 'main', image: 'registry.example/trainer:2.0' },
        { wait: true },
      ),
    ]);
    expect(westResult.status).toBe('rejected');
    const err = (westResult as PromiseRejectedResult).reason as KubeUnavailableError;
    expect(err).toBeInstanceOf(KubeUnavailableError);
    expect(err).toMatchObject({ cluster: 'gpu-west', retryable: true });
    expect(err.message).toMatch(/^cluster gpu-west /);
    expect(eastResult).toMatchObject({ status: 'fulfilled', value: { changed: true } });
    const health = await registry.probe(2_000);
    expect(health.map((h) => h.reachable)).toEqual([true, false]);

    await west.startApiServer();
    const later = await updateWorkload(registry, targets[1]!, {
      container: 'main',
      image: 'registry.example/trainer:2.0',
    });
    expect(later.changed).toBe(true);
  });
});
