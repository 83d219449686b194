import type { ClusterRegistry } from './clusters.ts';
import type { KubeClient } from './client.ts';
import { PatchType } from './client.ts';
import { describeChange } from './diff.ts';
import { KubeInvalidError, KubeNotFoundError } from './errors.ts';
import { resourcePath, resourceType, WORKLOAD_TYPES, type ResourceType } from './resources.ts';
import { withRetry, type RetryOptions } from './retry.ts';
import {
  SENTINEL_FIELD_MANAGER,
  SentinelMetadata,
  type KubeObject,
  type LabelSelector,
  type WorkloadKind,
  type WorkloadObject,
  type WorkloadTarget,
} from './types.ts';

/** The API path of a workload (or of its subresource). */
export function workloadPath(target: WorkloadTarget, subresource?: string): string {
  return resourcePath(WORKLOAD_TYPES[target.kind], target.namespace, target.name, subresource);
}

/** The error context of a workload. */
export function subjectOf(target: WorkloadTarget): { namespace: string; kind: string; name: string } {
  return { namespace: target.namespace, kind: target.kind, name: target.name };
}

/** Runs `operation` under the caller's retry policy (`false`: once). */
export function retrying<T>(
  retry: RetryOptions | false | undefined,
  signal: AbortSignal | undefined,
  operation: () => Promise<T>,
): Promise<T> {
  if (retry === false) return operation();
  return withRetry(operation, { ...retry, signal: retry?.signal ?? signal });
}

/** Reads a workload once (no retry). */
export function readWorkload(
  client: KubeClient,
  target: WorkloadTarget,
  signal?: AbortSignal,
): Promise<WorkloadObject> {
  return client.request<WorkloadObject>({
    method: 'GET',
    path: workloadPath(target),
    subject: subjectOf(target),
    ...(signal !== undefined && { signal }),
  });
}

/** Options for {@link getWorkload}. */
export interface ReadOptions {
  retry?: RetryOptions | false;
  signal?: AbortSignal;
}

/** Reads a Deployment, StatefulSet or Job, retrying transient failures. */
export async function getWorkload(
  registry: ClusterRegistry,
  target: WorkloadTarget,
  options: ReadOptions = {},
): Promise<WorkloadObject> {
  const client = registry.client(target.cluster);
  return retrying(options.retry, options.signal, () => readWorkload(client, target, options.signal));
}

/** Options for {@link applyObject} and {@link applyWorkload}. */
export interface ApplyOptions {
  /** @default false */
  dryRun?: boolean;
  /** @default 'sentinel' */
  fieldManager?: string;
  /**
   * Take ownership of fields another manager set (`force=true`). Sentinel is the authority
   * for the workloads it applies, as GitOps controllers are for theirs.
   * @default true
   */
  force?: boolean;
  /** The plan applying the manifest, recorded in `sentinel.dev/plan`. */
  planId?: string;
  /** Recorded in `sentinel.dev/revision` when given. */
  revision?: string;
  retry?: RetryOptions | false;
  signal?: AbortSignal;
}

/** What an apply did. */
export interface ApplyResult {
  /** False when the live object already matched the manifest. */
  changed: boolean;
  created: boolean;
  dryRun: boolean;
  resourceVersion: string;
  /** Readable diff of live → stored object; absent when nothing changed. */
  diff?: string;
  object: KubeObject;
}

function typeOf(manifest: KubeObject, cluster: string): ResourceType {
  const type =
    manifest.apiVersion && manifest.kind ? resourceType(manifest.apiVersion, manifest.kind) : undefined;
  if (!type) {
    throw new KubeInvalidError(
      `cannot apply ${manifest.apiVersion ?? '?'}/${manifest.kind ?? '?'}: not a kind the driver knows`,
      {
        cluster,
        ...(manifest.metadata?.name !== undefined && { name: manifest.metadata.name }),
      },
    );
  }
  return type;
}

/**
 * Creates or updates any object the driver knows (workloads, namespaces, quotas, ...) with
 * server-side apply under field manager `sentinel`. Applying the same manifest twice is a
 * no-op: the second answer keeps the resourceVersion and reports `changed: false`.
 */
export async function applyObject(
  registry: ClusterRegistry,
  cluster: string,
  manifest: KubeObject,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const client = registry.client(cluster);
  const type = typeOf(manifest, cluster);
  const name = manifest.metadata?.name;
  if (!name) throw new KubeInvalidError('manifest has no metadata.name', { cluster, kind: type.kind });
  const namespace = type.namespaced ? (manifest.metadata?.namespace ?? 'default') : undefined;
  const subject = { kind: type.kind, name, ...(namespace !== undefined && { namespace }) };
  const annotations: Record<string, string> = { ...manifest.metadata?.annotations };
  if (options.planId !== undefined) annotations[SentinelMetadata.planAnnotation] = options.planId;
  if (options.revision !== undefined) annotations[SentinelMetadata.revisionAnnotation] = options.revision;
  const body: KubeObject = {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      name,
      ...(namespace !== undefined && { namespace }),
      ...(Object.keys(annotations).length > 0 && { annotations }),
    },
  };
  const dryRun = options.dryRun ?? false;
  return retrying(options.retry, options.signal, async () => {
    let live: KubeObject | undefined;
    try {
      live = await client.request<KubeObject>({
        method: 'GET',
        path: resourcePath(type, namespace, name),
        subject,
        signal: options.signal,
      });
    } catch (err) {
      if (!(err instanceof KubeNotFoundError)) throw err;
    }
    const stored = await client.request<KubeObject>({
      method: 'PATCH',
      path: resourcePath(type, namespace, name),
      query: {
        fieldManager: options.fieldManager ?? SENTINEL_FIELD_MANAGER,
        force: options.force ?? true,
        ...(dryRun && { dryRun: 'All' }),
      },
      body,
      contentType: PatchType.apply,
      subject,
      signal: options.signal,
    });
    const diff = describeChange(live, stored);
    // Ownership bookkeeping (managedFields) may move without the object changing; that is no change.
    const changed = live === undefined || diff.length > 0;
    return {
      changed,
      created: live === undefined,
      dryRun,
      resourceVersion: stored.metadata?.resourceVersion ?? '',
      ...(changed && diff.length > 0 && { diff }),
      object: stored,
    };
  });
}

/**
 * Creates or updates a Deployment, StatefulSet or Job with server-side apply, labelled
 * `app.kubernetes.io/managed-by: sentinel`.
 */
export async function applyWorkload(
  registry: ClusterRegistry,
  cluster: string,
  manifest: KubeObject,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const kind = manifest.kind as WorkloadKind | undefined;
  if (
    kind === undefined ||
    !(kind in WORKLOAD_TYPES) ||
    WORKLOAD_TYPES[kind].apiVersion !== manifest.apiVersion
  ) {
    throw new KubeInvalidError(
      `applyWorkload takes apps/v1 Deployment or StatefulSet or batch/v1 Job, not ${manifest.apiVersion ?? '?'}/${manifest.kind ?? '?'}`,
      { cluster },
    );
  }
  const labeled: KubeObject = {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      labels: {
        ...manifest.metadata?.labels,
        [SentinelMetadata.managedByLabel]: SentinelMetadata.managedByValue,
      },
    },
  };
  return applyObject(registry, cluster, labeled, options);
}

/** Options for {@link deleteObject}. */
export interface DeleteOptions {
  /** @default 'Background' */
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  retry?: RetryOptions | false;
  signal?: AbortSignal;
}

/** Deletes an object; deleting one that is already gone is a no-op (returns false). */
export async function deleteObject(
  registry: ClusterRegistry,
  cluster: string,
  ref: { apiVersion: string; kind: string; namespace?: string; name: string },
  options: DeleteOptions = {},
): Promise<boolean> {
  const client = registry.client(cluster);
  const type = typeOf({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name } }, cluster);
  return retrying(options.retry, options.signal, async () => {
    try {
      await client.request({
        method: 'DELETE',
        path: resourcePath(type, ref.namespace, ref.name),
        body: {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          propagationPolicy: options.propagationPolicy ?? 'Background',
        },
        subject: {
          kind: ref.kind,
          name: ref.name,
          ...(ref.namespace !== undefined && { namespace: ref.namespace }),
        },
      });
      return true;
    } catch (err) {
      if (err instanceof KubeNotFoundError) return false;
      throw err;
    }
  });
}

/** A label selector in the `key=value,key in (a,b)` form the API's `labelSelector` takes. */
export function selectorString(selector: LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) parts.push(`${key}=${value}`);
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** A Pod as {@link listWorkloadPods} returns it. */
export interface PodObject extends KubeObject {
  metadata: KubeObject['metadata'] & { name: string };
  spec: { nodeName?: string; containers: { name: string; image?: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** The workload's pods that are neither being deleted nor finished, found by its selector. */
export async function listWorkloadPods(
  registry: ClusterRegistry,
  target: WorkloadTarget,
  options: ReadOptions = {},
): Promise<PodObject[]> {
  const client = registry.client(target.cluster);
  return retrying(options.retry, options.signal, async () => {
    const workload = await readWorkload(client, target, options.signal);
    const pods = await client.request<{ items: PodObject[] }>({
      method: 'GET',
      path: resourcePath(
        { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
        target.namespace,
      ),
      query: { labelSelector: selectorString(workload.spec.selector) },
      subject: subjectOf(target),
      signal: options.signal,
    });
    return pods.items.filter(
      (pod) =>
        pod.metadata.deletionTimestamp === undefined &&
        !['Succeeded', 'Failed'].includes(pod.status?.phase ?? ''),
    );
  });
}

/** True when a pod reports the Ready condition. */
export function isPodReady(pod: PodObject): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * The annotations a template-changing write records in the same request: the plan, the
 * operation's idempotency key, and the bumped `sentinel.dev/revision`.
 */
export function sentinelAnnotations(
  live: WorkloadObject,
  options: { planId?: string | undefined; operationId?: string | undefined },
): Record<string, string> {
  const current = Number(live.metadata.annotations?.[SentinelMetadata.revisionAnnotation] ?? '0');
  return {
    [SentinelMetadata.revisionAnnotation]: String((Number.isFinite(current) ? current : 0) + 1),
    ...(options.planId !== undefined && { [SentinelMetadata.planAnnotation]: options.planId }),
    ...(options.operationId !== undefined && { [SentinelMetadata.operationAnnotation]: options.operationId }),
  };
}
