import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RolloutSummary, RolloutView } from '../../api/rollout-service.ts';
import { queryPrometheus } from '../../activities/prometheus.ts';
import { loadConfig } from '../../config/index.ts';
import {
  ROLLOUT_ROLE_LABEL,
  TERMINAL_ROLLOUT_PHASES,
  type RolloutPhase,
  type RolloutSpecInput,
} from '../../domain/rollout.ts';
import { applyObject, applyWorkload, ClusterRegistry, isPodReady, waitForRollout } from '../../k8s/index.ts';
import { resourcePath } from '../../k8s/resources.ts';
import { deleteDeployment } from '../../activities/rollout-kubernetes.ts';
import { startLocalStack, type LocalStack } from '../../stack/local-stack.ts';
import { inferenceDeployment } from '../../testbed/workloads.ts';
import type { WorkloadProfileInput } from '../../testbed/workload-simulator.ts';
import { eventually } from './stack.ts';

/** Simulated traffic of a healthy version: 1% errors. */
export const HEALTHY: WorkloadProfileInput = { errorRate: 0.01, latencyMs: { p50: 50, p99: 200 }, rps: 100 };
/** Simulated traffic of a broken version: half the requests fail. */
export const FAILING: WorkloadProfileInput = { errorRate: 0.5, latencyMs: { p50: 50, p99: 200 }, rps: 100 };

/** The error ratio of one simulated version over the last 5 s, the query the test analyses use. */
export const errorRatioQuery = (version: string) =>
  `sum(rate(http_requests_total{version="${version}",status="500"}[5s])) / sum(rate(http_requests_total{version="${version}"}[5s]))`;

/**
 * An analysis template over the simulator's metrics: the error ratio of `{{args.version}}`,
 * measured every second; `count` measurements pass it, one failed one fails it, values in
 * between are tolerated three times.
 */
export function errorRateTemplate(options: { name?: string; count?: number } = {}) {
  return {
    name: options.name ?? 'error-rate',
    args: [{ name: 'version' }],
    metrics: [
      {
        name: 'error-rate',
        provider: { prometheus: { query: errorRatioQuery('{{args.version}}') } },
        successCondition: 'result[0] < 0.05',
        failureCondition: 'result[0] >= 0.2',
        interval: '1s',
        // A ratio over a 5 s window passes through the middle when the traffic changes.
        inconclusiveLimit: 3,
        ...(options.count !== undefined && { count: options.count }),
      },
    ],
  };
}

/** The local stack with Prometheus and the workload simulator (versions `stable` and `canary` healthy). */
/** The local stack plus a driver registry for its cluster. */
export type RolloutStack = LocalStack & { registry: ClusterRegistry };

export async function startRolloutStack(): Promise<RolloutStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-rollouts-'));
  const config = loadConfig({ SENTINEL_DATA_DIR: dataDir, SENTINEL_API_PORT: '0' });
  const stack = await startLocalStack(config, {
    externalTemporal: false,
    log: () => undefined,
    observability: {
      workloadSimulator: { seed: 11, profiles: { stable: HEALTHY, canary: HEALTHY, green: HEALTHY } },
    },
  });
  const stop = async () => {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await stack.testbed.prometheus!.waitForTargetsUp();
    // rate() over 5 s needs two scrapes in the window before the ratio is defined.
    await eventually(
      () => queryPrometheus(stack.testbed.prometheus!.url, errorRatioQuery('canary')),
      (values) => values.length === 1 && Number.isFinite(values[0]),
      30_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    ...stack,
    registry: ClusterRegistry.fromSources(stack.clusters),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Steers a simulated version and waits until Prometheus shows its new error ratio (within
 * 0.05), so an analysis started next measures the new behaviour rather than the transition.
 */
export async function steerSimulator(
  stack: LocalStack,
  version: string,
  profile: WorkloadProfileInput,
): Promise<void> {
  stack.testbed.workloadSimulator!.setProfile(version, profile);
  const target = profile.errorRate ?? 0;
  await eventually(
    () => queryPrometheus(stack.testbed.prometheus!.url, errorRatioQuery(version)),
    (values) => values.length === 1 && Math.abs(values[0]! - target) < 0.05,
    30_000,
  );
}

/** A serving Deployment (`app=<name>`) and a Service selecting `app=<name>`. */
export async function deployServing(
  clusters: ClusterRegistry,
  options: { namespace: string; name: string; replicas: number; gpus?: number; readyDelay?: string },
): Promise<void> {
  const { namespace, name } = options;
  await applyObject(clusters, 'local', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  const manifest = inferenceDeployment(name, options.replicas, {
    namespace,
    gpus: options.gpus ?? 0,
    cpu: '100m',
    memory: '128Mi',
    ...(options.readyDelay && { readyDelay: options.readyDelay }),
  });
  await applyWorkload(clusters, 'local', manifest);
  await applyObject(clusters, 'local', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  await waitForRollout(
    clusters,
    { cluster: 'local', namespace, kind: 'Deployment', name },
    { timeoutMs: 60_000 },
  );
}

/** Removes what {@link deployServing} and a rollout created, so GPUs are free for the next test. */
export async function removeServing(
  clusters: ClusterRegistry,
  namespace: string,
  name: string,
): Promise<void> {
  for (const deployment of [name, `${name}-canary`, `${name}-green`])
    await deleteDeployment(clusters, { cluster: 'local', namespace, name: deployment }, false);
  // No DeleteOptions body (see deleteDeployment): Node does not frame a DELETE body.
  await clusters
    .client('local')
    .request({
      method: 'DELETE',
      path: resourcePath(
        { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
        namespace,
        name,
      ),
    })
    .catch(() => undefined);
}

interface PodItem {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** The pods a Service selecting `app=<name>` sends traffic to (Ready, not terminating), by role. */
export async function servingPods(
  clusters: ClusterRegistry,
  namespace: string,
  name: string,
): Promise<{ stable: number; canary: number; green: number; pending: number }> {
  const list = await clusters.client('local').request<{ items: PodItem[] }>({
    method: 'GET',
    path: resourcePath({ apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true }, namespace),
    query: { labelSelector: `app=${name}` },
  });
  const counts = { stable: 0, canary: 0, green: 0, pending: 0 };
  for (const pod of list.items) {
    if (pod.metadata.deletionTimestamp) continue;
    if (!isPodReady(pod as Parameters<typeof isPodReady>[0])) {
      counts.pending++;
      continue;
    }
    const role = pod.metadata.labels?.[ROLLOUT_ROLE_LABEL];
    if (role === 'canary') counts.canary++;
    else if (role === 'green') counts.green++;
    else counts.stable++;
  }
  return counts;
}

/** The rollout API for tests. */
export function rolloutApi(apiUrl: string) {
  const request = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(new URL(path, apiUrl), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const get = async (id: string) => (await request<RolloutView>('GET', `/v1/rollouts/${id}`)).body;
  return {
    request,
    start: (spec: RolloutSpecInput) => request<RolloutView>('POST', '/v1/rollouts', spec),
    get,
    list: async (query: string) =>
      (await request<{ items: RolloutSummary[] }>('GET', `/v1/rollouts?${query}`)).body.items,
    control: (id: string, action: string, body: Record<string, unknown> = { actor: 'test' }) =>
      request<{ accepted: boolean; message: string; code?: string }>(
        'POST',
        `/v1/rollouts/${id}/${action}`,
        body,
      ),
    until: (id: string, done: (view: RolloutView) => boolean, timeoutMs = 90_000) =>
      eventually(() => get(id), done, timeoutMs),
    finished: (id: string, timeoutMs = 120_000) =>
      eventually(
        () => get(id),
        (view) => TERMINAL_ROLLOUT_PHASES.has(view.phase as RolloutPhase),
        timeoutMs,
      ),
  };
}

interface DeploymentItem {
  metadata: { name: string; resourceVersion?: string };
  status?: { readyReplicas?: number };
}

/**
 * Watches the Deployments of `namespace` in cluster `local` from now on and keeps, after every event (in the
 * apiserver's order), the sum of Ready pods of `names`: the lowest sum seen is the least
 * capacity the workload had at any moment of the watch. `seen.trail` lists each state.
 * `until(done)` waits (60 s at most) for a watched state; `stop()` ends the watch.
 */
export async function watchReadyPods(clusters: ClusterRegistry, namespace: string, names: string[]) {
  const client = clusters.client('local');
  const path = resourcePath(
    { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
    namespace,
  );
  const list = await client.request<{ metadata: { resourceVersion: string }; items: DeploymentItem[] }>({
    method: 'GET',
    path,
  });
  const ready = new Map<string, number>();
  for (const item of list.items) ready.set(item.metadata.name, item.status?.readyReplicas ?? 0);
  const sum = () => names.reduce((total, name) => total + (ready.get(name) ?? 0), 0);
  const seen = { min: sum(), events: 0, closed: false, trail: [] as string[] };
  const controller = new AbortController();
  const watching = client
    .watch<DeploymentItem>(
      path,
      { resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 1800 },
      (event) => {
        if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
        const { name } = event.object.metadata;
        ready.set(name, event.type === 'DELETED' ? 0 : (event.object.status?.readyReplicas ?? 0));
        seen.events++;
        seen.min = Math.min(seen.min, sum());
        seen.trail.push(names.map((n) => `${n}=${ready.get(n) ?? 0}`).join(' '));
      },
      { signal: controller.signal },
    )
    .then(
      () => void (seen.closed = true),
      () => undefined,
    );
  return {
    seen,
    ready: (name: string) => ready.get(name) ?? 0,
    /** Waits until the watched state satisfies `done`. */
    until: (done: () => boolean) =>
      eventually(
        () => Promise.resolve(done()),
        (ok) => ok,
        60_000,
      ),
    stop: async () => {
      controller.abort();
      await watching;
    },
  };
}
