import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClusterRegistry,
  KubeConflictError,
  KubeForbiddenError,
  KubeInvalidError,
  KubeNotFoundError,
  KubeQuotaExceededError,
  KubeRolloutFailedError,
  KubeTimeoutError,
  KubeUnavailableError,
  KubeUnknownClusterError,
  PatchType,
  applyObject,
  applyWorkload,
  deleteObject,
  getWorkload,
  scaleWorkload,
  updateWorkload,
  waitForRollout,
  watchWorkload,
  type KubeError,
  type WorkloadTarget,
} from '../../../k8s/index.ts';
import { startKubeCluster, type KubeCluster } from '../../../testbed/kube.ts';
import { freePort } from '../../../testbed/ports.ts';
import { gpuDeployment, testCluster } from './fixtures.ts';

let cluster: KubeCluster;
let registry: ClusterRegistry;

beforeAll(async () => {
  cluster = await startKubeCluster(testCluster('errs'));
  registry = ClusterRegistry.fromSources([{ name: 'errs', kubeconfigPath: cluster.kubeconfigPath }]);
});

afterAll(async () => {
  registry?.close();
  await cluster?.stop();
});

let counter = 0;

async function deployment(
  fixture: Partial<Parameters<typeof gpuDeployment>[0]> = {},
  wait = true,
): Promise<WorkloadTarget> {
  const namespace = `errors-${++counter}`;
  await applyObject(registry, 'errs', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await applyWorkload(registry, 'errs', gpuDeployment({ namespace, name: 'trainer', ...fixture }));
  const target: WorkloadTarget = { cluster: 'errs', namespace, kind: 'Deployment', name: 'trainer' };
  if (wait) await waitForRollout(registry, target, { timeoutMs: 60_000 });
  return target;
}

async function failure(promise: Promise<unknown>): Promise<KubeError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (outcome === undefined) throw new Error('expected the operation to fail');
  return outcome as KubeError;
}

describe('typed errors from a real apiserver', () => {
  it('unknown cluster: names the cluster and the known ones, not retryable', async () => {
    const err = await failure(
      scaleWorkload(registry, { cluster: 'nope', namespace: 'x', kind: 'Deployment', name: 'y' }, 1),
    );
    expect(err).toBeInstanceOf(KubeUnknownClusterError);
    expect(err).toMatchObject({
      code: 'SENTINEL_ERR_K8S_UNKNOWN_CLUSTER',
      retryable: false,
      cluster: 'nope',
    });
    expect(err.message).toContain('known: errs');
  });

  it('not found: carries cluster, namespace, kind and name, not retryable', async () => {
    const target: WorkloadTarget = {
      cluster: 'errs',
      namespace: 'default',
      kind: 'StatefulSet',
      name: 'ghost',
    };
    const err = await failure(scaleWorkload(registry, target, 3));
    expect(err).toBeInstanceOf(KubeNotFoundError);
    expect(err.details).toMatchObject({
      code: 'SENTINEL_ERR_K8S_NOT_FOUND',
      retryable: false,
      cluster: 'errs',
      namespace: 'default',
      kind: 'StatefulSet',
      name: 'ghost',
      httpStatus: 404,
    });
  });

  it('forbidden: a read-only user may read but not scale', async () => {
    const target = await deployment();
    using viewer = ClusterRegistry.fromSources([
      { name: 'errs', kubeconfigPath: cluster.viewerKubeconfigPath },
    ]);
    expect((await getWorkload(viewer, target)).spec.replicas).toBe(2);
    const err = await failure(scaleWorkload(viewer, target, 5));
    expect(err).toBeInstanceOf(KubeForbiddenError);
    expect(err).toMatchObject({ code: 'SENTINEL_ERR_K8S_FORBIDDEN', retryable: false, httpStatus: 403 });
    expect(err.message).toContain('sentinel-viewer');
  });

  it('invalid: the apiserver rejects an empty image with field causes, not retryable', async () => {
    const target = await deployment();
    const err = await failure(updateWorkload(registry, target, { container: 'main', image: '' }));
    expect(err).toBeInstanceOf(KubeInvalidError);
    expect(err).toMatchObject({ code: 'SENTINEL_ERR_K8S_INVALID', retryable: false, httpStatus: 422 });
    expect((err as KubeInvalidError).causes.join('\n')).toContain('spec.template.spec.containers[0].image');
    const missing = await failure(updateWorkload(registry, target, { container: 'nope', image: 'x:1' }));
    expect(missing).toBeInstanceOf(KubeInvalidError);
    expect(missing.message).toContain('containers: main, sidecar');
  });

  it('quota exceeded: a ResourceQuota 403 on create, and pods the controller may not create', async () => {
    const target = await deployment({ replicas: 2 });
    await applyObject(registry, 'errs', {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'gpus', namespace: target.namespace },
      spec: { hard: { 'count/deployments.apps': '1', 'requests.nvidia.com/gpu': '3' } },
    });
    // The quota controller must have computed usage before admission enforces it.
    await expect
      .poll(async () => {
        const quota = await registry.client('errs').request<{ status?: { used?: Record<string, string> } }>({
          method: 'GET',
          path: `/api/v1/namespaces/${target.namespace}/resourcequotas/gpus`,
        });
        return quota.status?.used?.['count/deployments.apps'];
      })
      .toBe('1');
    const err = await failure(
      applyWorkload(registry, 'errs', gpuDeployment({ namespace: target.namespace, name: 'second' }), {
        retry: false,
      }),
    );
    expect(err).toBeInstanceOf(KubeQuotaExceededError);
    expect(err).toMatchObject({ code: 'SENTINEL_ERR_K8S_QUOTA_EXCEEDED', retryable: false, httpStatus: 403 });

    // Scaling past the GPU quota is accepted, but the rollout reports the quota.
    const waited = await failure(scaleWorkload(registry, target, 5, { wait: { timeoutMs: 60_000 } }));
    expect(waited).toBeInstanceOf(KubeQuotaExceededError);
    expect(waited.message).toContain('exceeded quota');
  });

  it('conflict: a write with a stale resourceVersion is a retryable 409', async () => {
    const target = await deployment();
    const live = await getWorkload(registry, target);
    await scaleWorkload(registry, target, 3);
    const err = await failure(
      registry.client('errs').request({
        method: 'PATCH',
        path: `/apis/apps/v1/namespaces/${target.namespace}/deployments/trainer`,
        body: { metadata: { resourceVersion: live.metadata.resourceVersion }, spec: { replicas: 4 } },
        contentType: PatchType.merge,
      }),
    );
    expect(err).toBeInstanceOf(KubeConflictError);
    expect(err).toMatchObject({ code: 'SENTINEL_ERR_K8S_CONFLICT', retryable: true, httpStatus: 409 });
  });

  it('racing scales are serialised by resourceVersion preconditions: every change sees the one before it', async () => {
    const target = await deployment({ replicas: 1 });
    let conflicts = 0;
    const wanted = [2, 3, 4, 5, 6, 7];
    const results = await Promise.all(
      wanted.map((replicas) =>
        scaleWorkload(registry, target, replicas, {
          retry: { initialDelayMs: 20, onRetry: (e) => void (e instanceof KubeConflictError && conflicts++) },
        }),
      ),
    );
    // Linearisable: each previous value is the initial one or another call's result, each exactly once.
    const previous = results.map((r) => r.previous.replicas).sort();
    expect(new Set(previous).size).toBe(wanted.length);
    for (const p of previous) expect([1, ...wanted]).toContain(p);
    const final = (await getWorkload(registry, target)).spec.replicas ?? 0;
    expect(previous).not.toContain(final);
    expect(results.every((r) => r.changed)).toBe(true);
    console.info(`racing scales: ${conflicts} conflicts retried`);
  });

  it('rollout failed: progress deadline exceeded is a non-retryable typed failure', async () => {
    const target = await deployment({ pool: 'pool-z', progressDeadlineSeconds: 2, replicas: 1 }, false);
    const err = await failure(waitForRollout(registry, target, { timeoutMs: 60_000 }));
    expect(err).toBeInstanceOf(KubeRolloutFailedError);
    expect(err).toMatchObject({ code: 'SENTINEL_ERR_K8S_ROLLOUT_FAILED', retryable: false });
    expect(err.message).toContain('progress deadline exceeded');
  });

  it('timeout: a wait that runs out is retryable and says where the rollout stood', async () => {
    const target = await deployment({ pool: 'pool-z', replicas: 1 }, false);
    const started = Date.now();
    const err = await failure(waitForRollout(registry, target, { timeoutMs: 1_500 }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(KubeTimeoutError);
    expect(err).toMatchObject({ code: 'SENTINEL_ERR_K8S_TIMEOUT', retryable: true });
    expect(err.message).toMatch(/rollout not complete: 0 of 1 updated replicas are available/);
  });

  it('410 Gone: a watch from a resourceVersion the apiserver no longer has relists and still completes', async () => {
    const target = await deployment();
    const old = (await getWorkload(registry, target)).metadata.resourceVersion ?? '';
    // A restarted apiserver's watch cache starts at the current revision: older ones are gone.
    await scaleWorkload(registry, target, 3);
    await cluster.stopApiServer();
    await cluster.startApiServer();
    let first: { type: string; code?: number } | undefined;
    const outcome = await registry
      .client('errs')
      .watch<{ code?: number }>(
        `/apis/apps/v1/namespaces/${target.namespace}/deployments`,
        { resourceVersion: old },
        (event) => {
          first = { type: event.type, ...(event.object.code !== undefined && { code: event.object.code }) };
          return true;
        },
      )
      .catch((err: unknown) => err);
    if (outcome instanceof KubeConflictError) expect(outcome.httpStatus).toBe(410);
    else expect(first).toEqual({ type: 'ERROR', code: 410 });
    // ... and the driver's watch relists instead of failing.
    const replicas = await watchWorkload(registry, target, (d) => d.spec.replicas, {
      resourceVersion: old,
      timeoutMs: 30_000,
    });
    expect(replicas).toBe(3);
  });

  it('unavailable: an unreachable cluster fails with a retryable error naming it, and the others keep working', async () => {
    const target = await deployment();
    const port = await freePort();
    const deadConfig = join(cluster.dataDir, 'dead.kubeconfig');
    writeFileSync(
      deadConfig,
      readFileSync(cluster.kubeconfigPath, 'utf8')
        .replace(/server: .*/, `server: https://127.0.0.1:${port}`)
        .replace(/\berrs\b/g, 'dead'),
    );
    using both = ClusterRegistry.fromKubeconfigs([cluster.kubeconfigPath, deadConfig]);
    expect(both.names()).toEqual(['dead', 'errs']);
    const err = await failure(
      scaleWorkload(both, { ...target, cluster: 'dead' }, 3, {
        retry: { maxElapsedMs: 1_000, initialDelayMs: 100 },
      }),
    );
    expect(err).toBeInstanceOf(KubeUnavailableError);
    expect(err).toMatchObject({ code: 'SENTINEL_ERR_K8S_UNAVAILABLE', retryable: true, cluster: 'dead' });
    expect(err.message).toMatch(/^cluster dead Deployment .*ECONNREFUSED/);
    expect((await scaleWorkload(both, target, 3)).changed).toBe(true);
    const health = await both.probe();
    expect(health.map((h) => [h.cluster, h.reachable])).toEqual([
      ['dead', false],
      ['errs', true],
    ]);
  });
});

describe('request framing', () => {
  it('sends a DELETE with a body and keeps the kept-alive connection usable', async () => {
    const target = await deployment({}, false);
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: target.namespace, name: target.name };
    // Several deletes and reads in a row reuse one connection; a badly framed body would turn
    // the request after it into a 400.
    expect(await deleteObject(registry, 'errs', ref)).toBe(true);
    for (let i = 0; i < 3; i++) {
      expect(await deleteObject(registry, 'errs', ref)).toBe(false);
      await expect(getWorkload(registry, target)).rejects.toBeInstanceOf(KubeNotFoundError);
    }
  });
});
