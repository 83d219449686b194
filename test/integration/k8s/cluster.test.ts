import { describe, expect, it } from 'vitest';
import {
  ClusterRegistry,
  applyObject,
  applyWorkload,
  getWorkload,
  isPodReady,
  listWorkloadPods,
  scaleWorkload,
  waitForRollout,
  type WorkloadTarget,
} from '../../../k8s/index.ts';
import { startKubeCluster } from '../../../testbed/kube.ts';
import { gpuDeployment, testCluster } from './fixtures.ts';

describe('local Kubernetes testbed', () => {
  it('starts a cluster whose Deployments really schedule GPU pods, and scales one idempotently', async () => {
    await using cluster = await startKubeCluster(testCluster('dev'));
    expect(cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    using registry = ClusterRegistry.fromSources([{ name: 'dev', kubeconfigPath: cluster.kubeconfigPath }]);
    expect(registry.names()).toEqual(['dev']);

    await applyObject(registry, 'dev', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    const target: WorkloadTarget = {
      cluster: 'dev',
      namespace: 'team-a',
      kind: 'Deployment',
      name: 'trainer',
    };
    const applied = await applyWorkload(
      registry,
      'dev',
      gpuDeployment({ namespace: 'team-a', name: 'trainer', replicas: 2 }),
    );
    expect(applied.created).toBe(true);
    await waitForRollout(registry, target, { timeoutMs: 60_000 });

    const pods = await listWorkloadPods(registry, target);
    expect(pods).toHaveLength(2);
    expect(pods.every(isPodReady)).toBe(true);
    expect(pods.every((p) => p.spec.nodeName?.startsWith('gpu-node-'))).toBe(true);

    // Dry run: the apiserver answers with what it would store and stores nothing.
    const before = await getWorkload(registry, target);
    const dry = await scaleWorkload(registry, target, 4, { dryRun: true });
    expect(dry).toMatchObject({
      changed: true,
      dryRun: true,
      previous: { replicas: 2 },
      applied: { replicas: 4 },
    });
    expect(dry.diff).toContain('spec.replicas: 2 → 4');
    const afterDry = await getWorkload(registry, target);
    expect(afterDry.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(afterDry.spec.replicas).toBe(2);

    const scaled = await scaleWorkload(registry, target, 4, { wait: { timeoutMs: 60_000 } });
    expect(scaled).toMatchObject({
      changed: true,
      dryRun: false,
      previous: { replicas: 2 },
      applied: { replicas: 4 },
      inverse: { verb: 'scale', replicas: 2 },
    });
    expect(scaled.resourceVersion).not.toBe(before.metadata.resourceVersion);
    const scaledPods = await listWorkloadPods(registry, target);
    expect(scaledPods).toHaveLength(4);
    expect(scaledPods.every(isPodReady)).toBe(true);

    // The same scale again writes nothing: the rolled-out object keeps its resourceVersion.
    const settled = await getWorkload(registry, target);
    const again = await scaleWorkload(registry, target, { replicas: 4 });
    expect(again).toMatchObject({ changed: false, previous: { replicas: 4 }, applied: { replicas: 4 } });
    expect(again.diff).toBeUndefined();
    expect(again.resourceVersion).toBe(settled.metadata.resourceVersion);
    const afterNoop = await getWorkload(registry, target);
    expect(afterNoop.metadata.resourceVersion).toBe(settled.metadata.resourceVersion);
    expect(afterNoop.metadata.generation).toBe(settled.metadata.generation);

    // Applying the same manifest again is a no-op too.
    const reapplied = await applyWorkload(
      registry,
      'dev',
      gpuDeployment({ namespace: 'team-a', name: 'trainer', replicas: 4 }),
    );
    expect(reapplied.changed).toBe(false);
  });
});
