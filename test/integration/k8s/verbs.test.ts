import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClusterRegistry,
  KubeInvalidError,
  SentinelMetadata,
  applyObject,
  applyWorkload,
  getClusterCapacity,
  getWorkload,
  isPodReady,
  listWorkloadPods,
  rescheduleWorkload,
  rollbackWorkload,
  scaleWorkload,
  undoMutation,
  updateWorkload,
  waitForRollout,
  type Container,
  type KubeObject,
  type PodTemplate,
  type WorkloadKind,
  type WorkloadTarget,
} from '../../../k8s/index.ts';
import { startKubeCluster, type KubeCluster } from '../../../testbed/kube.ts';
import { gpuDeployment, gpuJob, gpuStatefulSet, testCluster } from './fixtures.ts';

let cluster: KubeCluster;
let registry: ClusterRegistry;

beforeAll(async () => {
  cluster = await startKubeCluster(testCluster('verbs', { gpusPerNode: 16 }));
  registry = ClusterRegistry.fromSources([{ name: 'verbs', kubeconfigPath: cluster.kubeconfigPath }]);
});

afterAll(async () => {
  registry?.close();
  await cluster?.stop();
});

const manifests: Record<WorkloadKind, typeof gpuDeployment> = {
  Deployment: gpuDeployment,
  StatefulSet: gpuStatefulSet,
  Job: gpuJob,
};

let counter = 0;

/** A fresh namespace with one workload of `kind`, rolled out. */
async function workload(
  kind: WorkloadKind,
  fixture: { replicas?: number; pool?: string } = {},
): Promise<WorkloadTarget> {
  const namespace = `${kind.toLowerCase()}-${++counter}`;
  await applyObject(registry, 'verbs', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  const target: WorkloadTarget = { cluster: 'verbs', namespace, kind, name: 'trainer' };
  await applyWorkload(
    registry,
    'verbs',
    manifests[kind]({ namespace, name: 'trainer', pool: 'pool-a', ...fixture }),
  );
  await waitForRollout(registry, target, { timeoutMs: 60_000 });
  return target;
}

async function podImages(target: WorkloadTarget): Promise<string[]> {
  const pods = await listWorkloadPods(registry, target);
  return pods.map((p) => p.spec.containers.find((c) => c.name === 'main')?.image ?? '').sort();
}

async function podPools(target: WorkloadTarget): Promise<string[]> {
  const [pods, capacity] = await Promise.all([
    listWorkloadPods(registry, target),
    getClusterCapacity(registry, 'verbs'),
  ]);
  const poolOf = new Map(capacity.nodes.map((n) => [n.name, n.pool]));
  return pods.map((p) => poolOf.get(p.spec.nodeName ?? '') ?? 'unscheduled');
}

function mainContainer(obj: KubeObject): Container {
  const spec = obj.spec as { template: PodTemplate };
  const main = spec.template.spec.containers.find((c) => c.name === 'main');
  if (!main) throw new Error('no main container');
  return main;
}

describe.each(['Deployment', 'StatefulSet', 'Job'] as const)('scale a %s', (kind) => {
  it('dry-runs, scales, waits for the pods, repeats as a no-op and undoes', async () => {
    const target = await workload(kind, { replicas: 2 });
    const before = await getWorkload(registry, target);

    const dry = await scaleWorkload(registry, target, { replicas: 3 }, { dryRun: true });
    expect(dry).toMatchObject({
      changed: true,
      dryRun: true,
      previous: { replicas: 2 },
      applied: { replicas: 3 },
    });
    expect(dry.diff).toMatch(kind === 'Job' ? /spec\.parallelism: 2 → 3/ : /spec\.replicas: 2 → 3/);
    expect((await getWorkload(registry, target)).metadata.resourceVersion).toBe(
      before.metadata.resourceVersion,
    );

    const scaled = await scaleWorkload(
      registry,
      target,
      { replicas: 3 },
      { wait: { timeoutMs: 60_000 }, planId: 'plan-1' },
    );
    expect(scaled).toMatchObject({
      changed: true,
      dryRun: false,
      inverse: { verb: 'scale', params: { replicas: 2 } },
    });
    const pods = await listWorkloadPods(registry, target);
    expect(pods).toHaveLength(3);
    expect(pods.every(isPodReady)).toBe(true);
    expect(
      (await getWorkload(registry, target)).metadata.annotations?.[SentinelMetadata.planAnnotation],
    ).toBe('plan-1');

    const settled = await getWorkload(registry, target);
    const again = await scaleWorkload(registry, target, { replicas: 3 });
    expect(again.changed).toBe(false);
    expect((await getWorkload(registry, target)).metadata.resourceVersion).toBe(
      settled.metadata.resourceVersion,
    );

    await undoMutation(registry, target, scaled.inverse, { wait: { timeoutMs: 60_000 } });
    expect(await listWorkloadPods(registry, target)).toHaveLength(2);
  });
});

describe.each(['Deployment', 'StatefulSet'] as const)('update a %s', (kind) => {
  it('changes image, env and resources of one container, rolls out, is a no-op the second time, and undoes exactly', async () => {
    const target = await workload(kind);
    const before = await getWorkload(registry, target);
    const params = {
      container: 'main',
      image: 'registry.example/trainer:2.0',
      env: { MODEL: 'mistral', BATCH: '64' },
      resources: { requests: { cpu: '2000m', memory: '2Gi' } },
    };

    const dry = await updateWorkload(registry, target, params, { dryRun: true });
    expect(dry.changed).toBe(true);
    expect(dry.diff).toContain(
      'spec.template.spec.containers[main].image: "registry.example/trainer:1.0" → "registry.example/trainer:2.0"',
    );
    expect(mainContainer(dry.object!).image).toBe('registry.example/trainer:2.0');
    const afterDry = await getWorkload(registry, target);
    expect(afterDry.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(mainContainer(afterDry).image).toBe('registry.example/trainer:1.0');

    const updated = await updateWorkload(registry, target, params, {
      wait: { timeoutMs: 90_000 },
      planId: 'plan-2',
    });
    expect(updated).toMatchObject({
      changed: true,
      previous: {
        container: 'main',
        image: 'registry.example/trainer:1.0',
        env: { MODEL: 'llama', BATCH: null },
        resources: { requests: { cpu: '1', memory: '1Gi' } },
      },
      applied: { image: 'registry.example/trainer:2.0', env: { MODEL: 'mistral', BATCH: '64' } },
    });
    expect(await podImages(target)).toEqual(['registry.example/trainer:2.0', 'registry.example/trainer:2.0']);
    const live = await getWorkload(registry, target);
    expect(live.metadata.annotations?.[SentinelMetadata.revisionAnnotation]).toBe('1');
    expect(mainContainer(live).env).toEqual([
      { name: 'MODEL', value: 'mistral' },
      { name: 'BATCH', value: '64' },
    ]);
    // The sidecar is untouched.
    expect(live.spec.template.spec.containers.find((c) => c.name === 'sidecar')?.image).toBe(
      'registry.example/metrics:1.0',
    );

    // "2" cores equals "2000m": the second identical update is a no-op.
    const again = await updateWorkload(registry, target, params);
    expect(again.changed).toBe(false);
    expect((await getWorkload(registry, target)).metadata.generation).toBe(live.metadata.generation);

    const undone = await undoMutation(registry, target, updated.inverse, { wait: { timeoutMs: 90_000 } });
    expect(undone.changed).toBe(true);
    const restored = await getWorkload(registry, target);
    expect(mainContainer(restored)).toMatchObject({
      image: 'registry.example/trainer:1.0',
      env: [{ name: 'MODEL', value: 'llama' }],
      resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { 'nvidia.com/gpu': '1' } },
    });
    expect(restored.metadata.annotations?.[SentinelMetadata.revisionAnnotation]).toBe('2');
  });
});

describe.each(['Deployment', 'StatefulSet'] as const)('roll back a %s', (kind) => {
  it('returns to the previous revision, then to a given one, restoring images; repeats are no-ops', async () => {
    const target = await workload(kind);
    const wait = { timeoutMs: 90_000 };
    await updateWorkload(
      registry,
      target,
      { container: 'main', image: 'registry.example/trainer:2.0' },
      { wait },
    );
    await updateWorkload(
      registry,
      target,
      { container: 'main', image: 'registry.example/trainer:3.0' },
      { wait },
    );
    expect(await podImages(target)).toEqual(['registry.example/trainer:3.0', 'registry.example/trainer:3.0']);

    const dry = await rollbackWorkload(registry, target, {}, { dryRun: true });
    expect(dry).toMatchObject({
      changed: true,
      dryRun: true,
      previous: { revision: 3 },
      applied: { revision: 2 },
    });
    expect(dry.diff).toContain('"registry.example/trainer:3.0" → "registry.example/trainer:2.0"');
    expect(await podImages(target)).toEqual(['registry.example/trainer:3.0', 'registry.example/trainer:3.0']);

    const back = await rollbackWorkload(registry, target, {}, { wait, operationId: 'rollback-1' });
    expect(back).toMatchObject({
      changed: true,
      previous: { revision: 3, images: { main: 'registry.example/trainer:3.0' } },
      applied: { revision: 2, images: { main: 'registry.example/trainer:2.0' } },
      inverse: { verb: 'rollback', params: { toRevision: 3 } },
    });
    expect(await podImages(target)).toEqual(['registry.example/trainer:2.0', 'registry.example/trainer:2.0']);

    // The same operation retried (e.g. by Temporal after a lost answer) changes nothing more.
    const retried = await rollbackWorkload(registry, target, {}, { wait, operationId: 'rollback-1' });
    expect(retried).toMatchObject({ changed: false, previous: { revision: 3 }, applied: { revision: 2 } });
    expect(await podImages(target)).toEqual(['registry.example/trainer:2.0', 'registry.example/trainer:2.0']);

    const first = await rollbackWorkload(registry, target, { toRevision: 1 }, { wait });
    expect(first).toMatchObject({
      changed: true,
      applied: { revision: 1, images: { main: 'registry.example/trainer:1.0' } },
    });
    expect(await podImages(target)).toEqual(['registry.example/trainer:1.0', 'registry.example/trainer:1.0']);
    expect((await rollbackWorkload(registry, target, { toRevision: 1 })).changed).toBe(false);

    // The inverse goes back to where the rollback started.
    await undoMutation(registry, target, first.inverse, { wait });
    expect(await podImages(target)).toEqual(['registry.example/trainer:2.0', 'registry.example/trainer:2.0']);
  });
});

describe.each(['Deployment', 'StatefulSet'] as const)('reschedule a %s', (kind) => {
  it('moves the pods to the other GPU pool and waits for them to land', async () => {
    const target = await workload(kind);
    expect(await podPools(target)).toEqual(['pool-a', 'pool-a']);
    const before = await getWorkload(registry, target);

    const dry = await rescheduleWorkload(
      registry,
      target,
      { nodeSelector: { 'sentinel.dev/gpu-pool': 'pool-b' } },
      { dryRun: true },
    );
    expect(dry.changed).toBe(true);
    expect(dry.diff).toContain(
      '~ spec.template.spec.nodeSelector."sentinel.dev/gpu-pool": "pool-a" → "pool-b"',
    );
    expect((await getWorkload(registry, target)).metadata.resourceVersion).toBe(
      before.metadata.resourceVersion,
    );

    const moved = await rescheduleWorkload(
      registry,
      target,
      {
        nodeSelector: { 'sentinel.dev/gpu-pool': 'pool-b' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
      { wait: { timeoutMs: 90_000 } },
    );
    expect(moved).toMatchObject({
      changed: true,
      previous: { nodeSelector: { 'sentinel.dev/gpu-pool': 'pool-a' }, tolerations: [] },
      inverse: {
        verb: 'reschedule',
        params: { nodeSelector: { 'sentinel.dev/gpu-pool': 'pool-a' }, tolerations: [] },
      },
    });
    expect(moved.placement).toHaveLength(2);
    expect(await podPools(target)).toEqual(['pool-b', 'pool-b']);

    const again = await rescheduleWorkload(registry, target, {
      nodeSelector: { 'sentinel.dev/gpu-pool': 'pool-b' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(again.changed).toBe(false);
    expect(again.placement).toHaveLength(2);

    await undoMutation(registry, target, moved.inverse, { wait: { timeoutMs: 90_000 } });
    expect(await podPools(target)).toEqual(['pool-a', 'pool-a']);
    expect((await getWorkload(registry, target)).spec.template.spec.tolerations).toBeUndefined();
  });
});

describe('verbs that do not apply to Jobs', () => {
  it('refuses update, rollback and reschedule of a Job with a non-retryable invalid error', async () => {
    const target = await workload('Job');
    const attempts = [
      updateWorkload(registry, target, { container: 'main', image: 'x:2' }),
      rollbackWorkload(registry, target, {}),
      rescheduleWorkload(registry, target, { nodeSelector: { 'sentinel.dev/gpu-pool': 'pool-b' } }),
    ];
    for (const attempt of attempts) {
      const err = await attempt.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KubeInvalidError);
      expect(err).toMatchObject({
        code: 'SENTINEL_ERR_K8S_INVALID',
        retryable: false,
        cluster: 'verbs',
        kind: 'Job',
      });
    }
  });
});

describe('capacity view', () => {
  it('reports allocatable and requested GPUs, CPU and memory per node, per pool and in total', async () => {
    const before = await getClusterCapacity(registry, 'verbs');
    expect(before.nodes).toHaveLength(4);
    expect(before.total.allocatable.gpus).toBe(64);
    expect(Object.keys(before.pools).sort()).toEqual(['pool-a', 'pool-b']);
    expect(before.pools['pool-b']?.allocatable.gpus).toBe(32);
    expect(before.nodes[0]).toMatchObject({
      ready: true,
      schedulable: true,
      allocatable: { gpus: 16, cpuCores: 64, memoryBytes: 512 * 2 ** 30, pods: 110 },
    });

    // Three pods of two GPUs, 1 CPU and 1 GiB (main) + 100m (sidecar) each, all in pool-b.
    const namespace = 'capacity';
    await applyObject(registry, 'verbs', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    await applyWorkload(
      registry,
      'verbs',
      gpuDeployment({ namespace, name: 'big', replicas: 3, gpus: 2, pool: 'pool-b' }),
    );
    await waitForRollout(
      registry,
      { cluster: 'verbs', namespace, kind: 'Deployment', name: 'big' },
      { timeoutMs: 60_000 },
    );

    const after = await getClusterCapacity(registry, 'verbs');
    expect(after.total.requested.gpus - before.total.requested.gpus).toBe(6);
    expect((after.pools['pool-b']?.requested.gpus ?? 0) - (before.pools['pool-b']?.requested.gpus ?? 0)).toBe(
      6,
    );
    expect(after.pools['pool-a']?.requested.gpus).toBe(before.pools['pool-a']?.requested.gpus);
    expect(after.total.requested.cpuCores - before.total.requested.cpuCores).toBeCloseTo(3.3, 6);
    expect(after.total.requested.memoryBytes - before.total.requested.memoryBytes).toBe(3 * 2 ** 30);
    expect(after.total.free.gpus).toBe(after.total.allocatable.gpus - after.total.requested.gpus);
    for (const node of after.nodes) expect(node.free.gpus).toBe(node.allocatable.gpus - node.requested.gpus);
  });
});
