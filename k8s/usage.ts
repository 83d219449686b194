import { add, requestOf, zero, type ResourceAmounts } from './capacity.ts';
import type { ClusterRegistry } from './clusters.ts';
import type { KubeObject } from './types.ts';
import { retrying } from './workloads.ts';

/**
 * What the pods of one namespace request now (pods that finished hold nothing): the usage
 * that namespace quotas count against.
 */
export async function getNamespaceUsage(
  registry: ClusterRegistry,
  cluster: string,
  namespace: string,
  options: { signal?: AbortSignal } = {},
): Promise<ResourceAmounts> {
  const client = registry.client(cluster);
  const pods = await retrying(undefined, options.signal, () =>
    client.request<{ items: Parameters<typeof requestOf>[0][] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      query: { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' },
      subject: { kind: 'Pod', namespace },
    }),
  );
  return pods.items.reduce((sum, pod) => add(sum, requestOf(pod)), zero());
}

/** The labels of a namespace (`{}` when it has none). */
export async function getNamespaceLabels(
  registry: ClusterRegistry,
  cluster: string,
  namespace: string,
): Promise<Record<string, string>> {
  const ns = await registry.client(cluster).request<KubeObject>({
    method: 'GET',
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
    subject: { kind: 'Namespace', name: namespace },
  });
  return ns.metadata?.labels ?? {};
}
