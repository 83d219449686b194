import type { ClusterRegistry } from './clusters.ts';
import { parseQuantity } from './quantity.ts';
import type { RetryOptions } from './retry.ts';
import type { Container, KubeObject, Toleration } from './types.ts';
import { retrying } from './workloads.ts';

/** The resource name of NVIDIA GPUs (the device plugin's extended resource). */
export const GPU_RESOURCE = 'nvidia.com/gpu';
/** The node label that names a node's GPU pool. */
export const GPU_POOL_LABEL = 'sentinel.dev/gpu-pool';

/** Amounts of the resources Sentinel plans with. */
export interface ResourceAmounts {
  gpus: number;
  cpuCores: number;
  memoryBytes: number;
  pods: number;
}

/** One node: what it can hold, what its pods ask for, and what is left. */
export interface NodeCapacity {
  name: string;
  /** `sentinel.dev/gpu-pool`, when the node has one. */
  pool?: string;
  /** `nvidia.com/gpu.product`, when the node has one. */
  gpuProduct?: string;
  labels: Record<string, string>;
  ready: boolean;
  /** False when cordoned or tainted NoSchedule/NoExecute. */
  schedulable: boolean;
  allocatable: ResourceAmounts;
  requested: ResourceAmounts;
  free: ResourceAmounts;
}

/** Totals over several nodes. */
export interface CapacityTotals {
  nodes: number;
  allocatable: ResourceAmounts;
  requested: ResourceAmounts;
  free: ResourceAmounts;
}

/** The read model of a cluster's capacity. */
export interface ClusterCapacity {
  cluster: string;
  nodes: NodeCapacity[];
  /** Over ready, schedulable nodes only: what new pods can actually use. */
  total: CapacityTotals;
  /** Per GPU pool (nodes without a pool under `''`), ready and schedulable nodes only. */
  pools: Record<string, CapacityTotals>;
  /** Pods that ask for GPUs but are not bound to a node yet. */
  pendingGpuPods: number;
  /** When it was read (ISO 8601). */
  observedAt: string;
}

interface NodeObject extends KubeObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: (Toleration & { key: string })[] };
  status?: { allocatable?: Record<string, string>; conditions?: { type: string; status: string }[] };
}

interface PodObject extends KubeObject {
  spec: {
    nodeName?: string;
    containers: Container[];
    initContainers?: Container[];
    overhead?: Record<string, string>;
  };
  status?: { phase?: string };
}

export const zero = (): ResourceAmounts => ({ gpus: 0, cpuCores: 0, memoryBytes: 0, pods: 0 });

function amount(map: Record<string, string> | undefined, name: string): number {
  const value = map?.[name];
  if (value === undefined) return 0;
  const parsed = parseQuantity(value);
  return Number.isFinite(parsed) ? parsed : 0;
}

/** A container's effective request: its request, or its limit where only a limit is set. */
function containerRequest(c: Container, name: string): number {
  return c.resources?.requests?.[name] !== undefined
    ? amount(c.resources.requests, name)
    : amount(c.resources?.limits, name);
}

/** What the scheduler charges a pod: the larger of its containers' sum and any one init container, plus overhead. */
function podRequest(pod: PodObject, name: string): number {
  const main = pod.spec.containers.reduce((sum, c) => sum + containerRequest(c, name), 0);
  const init = (pod.spec.initContainers ?? []).reduce(
    (max, c) => Math.max(max, containerRequest(c, name)),
    0,
  );
  return Math.max(main, init) + amount(pod.spec.overhead, name);
}

export function requestOf(pod: PodObject): ResourceAmounts {
  return {
    gpus: podRequest(pod, GPU_RESOURCE),
    cpuCores: podRequest(pod, 'cpu'),
    memoryBytes: podRequest(pod, 'memory'),
    pods: 1,
  };
}

export function add(a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts {
  return {
    gpus: a.gpus + b.gpus,
    cpuCores: a.cpuCores + b.cpuCores,
    memoryBytes: a.memoryBytes + b.memoryBytes,
    pods: a.pods + b.pods,
  };
}

function subtract(a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts {
  return {
    gpus: Math.max(0, a.gpus - b.gpus),
    cpuCores: Math.max(0, a.cpuCores - b.cpuCores),
    memoryBytes: Math.max(0, a.memoryBytes - b.memoryBytes),
    pods: Math.max(0, a.pods - b.pods),
  };
}

function totals(nodes: readonly NodeCapacity[]): CapacityTotals {
  const t: CapacityTotals = { nodes: nodes.length, allocatable: zero(), requested: zero(), free: zero() };
  for (const n of nodes) {
    t.allocatable = add(t.allocatable, n.allocatable);
    t.requested = add(t.requested, n.requested);
    t.free = add(t.free, n.free);
  }
  return t;
}

/** Options for {@link getClusterCapacity}. */
export interface CapacityOptions {
  retry?: RetryOptions | false;
  signal?: AbortSignal;
}

/**
 * Reads a cluster's nodes and the pods bound to them and sums, per node, per GPU pool and
 * in total, allocatable and requested `nvidia.com/gpu`, CPU, memory and pod slots. Pods
 * that finished (Succeeded/Failed) hold nothing.
 */
export async function getClusterCapacity(
  registry: ClusterRegistry,
  cluster: string,
  options: CapacityOptions = {},
): Promise<ClusterCapacity> {
  const client = registry.client(cluster);
  return retrying(options.retry, options.signal, async () => {
    const [nodeList, podList] = await Promise.all([
      client.request<{ items: NodeObject[] }>({
        method: 'GET',
        path: '/api/v1/nodes',
        signal: options.signal,
      }),
      client.request<{ items: PodObject[] }>({
        method: 'GET',
        path: '/api/v1/pods',
        query: { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' },
        signal: options.signal,
      }),
    ]);
    const requestedByNode = new Map<string, ResourceAmounts>();
    let pendingGpuPods = 0;
    for (const pod of podList.items) {
      const request = requestOf(pod);
      if (!pod.spec.nodeName) {
        if (request.gpus > 0) pendingGpuPods++;
        continue;
      }
      requestedByNode.set(pod.spec.nodeName, add(requestedByNode.get(pod.spec.nodeName) ?? zero(), request));
    }
    const nodes = nodeList.items
      .map((node): NodeCapacity => {
        const allocatable: ResourceAmounts = {
          gpus: amount(node.status?.allocatable, GPU_RESOURCE),
          cpuCores: amount(node.status?.allocatable, 'cpu'),
          memoryBytes: amount(node.status?.allocatable, 'memory'),
          pods: amount(node.status?.allocatable, 'pods'),
        };
        const requested = requestedByNode.get(node.metadata.name) ?? zero();
        const labels = node.metadata.labels ?? {};
        const pool = labels[GPU_POOL_LABEL];
        const gpuProduct = labels['nvidia.com/gpu.product'];
        return {
          name: node.metadata.name,
          ...(pool !== undefined && { pool }),
          ...(gpuProduct !== undefined && { gpuProduct }),
          labels,
          ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
          schedulable:
            node.spec?.unschedulable !== true &&
            !(node.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'),
          allocatable,
          requested,
          free: subtract(allocatable, requested),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    const usable = nodes.filter((n) => n.ready && n.schedulable);
    const pools: Record<string, CapacityTotals> = {};
    for (const pool of new Set(usable.map((n) => n.pool ?? ''))) {
      pools[pool] = totals(usable.filter((n) => (n.pool ?? '') === pool));
    }
    return {
      cluster,
      nodes,
      total: totals(usable),
      pools,
      pendingGpuPods,
      observedAt: new Date().toISOString(),
    };
  });
}
