import type { ClusterRegistry } from './clusters.ts';
import { PatchType, type KubeClient } from './client.ts';
import { describeChange } from './diff.ts';
import { KubeInvalidError } from './errors.ts';
import {
  DriverVerb,
  SentinelMetadata,
  mutationOptionsWithDefaults,
  type KubeObject,
  type MutationOptions,
  type MutationOptionsWithDefaults,
  type ScaleParams,
  type ScaleResult,
  type WorkloadObject,
  type WorkloadTarget,
} from './types.ts';
import { waitForRollout } from './wait.ts';
import { readWorkload, retrying, subjectOf, workloadPath } from './workloads.ts';

interface ScaleObject extends KubeObject {
  metadata: { name: string; namespace: string; resourceVersion: string; [field: string]: unknown };
  spec: { replicas?: number };
}

function result(
  target: WorkloadTarget,
  o: MutationOptionsWithDefaults,
  previous: number,
  applied: number,
  resourceVersion: string,
  before?: KubeObject,
  after?: KubeObject,
): ScaleResult {
  const changed = previous !== applied;
  const diff = changed && after ? describeChange(before, after) : '';
  return {
    verb: DriverVerb.scale,
    target,
    changed,
    dryRun: o.dryRun,
    previous: { replicas: previous },
    applied: { replicas: applied },
    inverse: { verb: 'scale', params: { replicas: previous }, replicas: previous },
    resourceVersion,
    ...(diff.length > 0 && { diff }),
    ...(after !== undefined && { object: after }),
  };
}

/** Deployments and StatefulSets: read and write the scale subresource, with a resourceVersion precondition. */
async function scaleSubresource(
  client: KubeClient,
  target: WorkloadTarget,
  replicas: number,
  o: MutationOptionsWithDefaults,
): Promise<ScaleResult> {
  const subject = subjectOf(target);
  const path = workloadPath(target, 'scale');
  const live = await client.request<ScaleObject>({ method: 'GET', path, subject, signal: o.signal });
  const current = live.spec.replicas ?? 0;
  if (current === replicas) return result(target, o, current, replicas, live.metadata.resourceVersion);
  const stored = await client.request<ScaleObject>({
    method: 'PUT',
    path,
    query: { fieldManager: o.fieldManager, ...(o.dryRun && { dryRun: 'All' }) },
    body: {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: {
        name: target.name,
        namespace: target.namespace,
        resourceVersion: live.metadata.resourceVersion,
      },
      spec: { replicas },
    },
    subject,
    signal: o.signal,
  });
  // The scale subresource carries no annotations; provenance goes on the workload itself.
  if (!o.dryRun && (o.planId !== undefined || o.operationId !== undefined)) {
    await client.request({
      method: 'PATCH',
      path: workloadPath(target),
      query: { fieldManager: o.fieldManager },
      body: {
        metadata: {
          annotations: {
            ...(o.planId !== undefined && { [SentinelMetadata.planAnnotation]: o.planId }),
            ...(o.operationId !== undefined && { [SentinelMetadata.operationAnnotation]: o.operationId }),
          },
        },
      },
      contentType: PatchType.merge,
      subject,
      signal: o.signal,
    });
  }
  return result(
    target,
    o,
    current,
    stored.spec.replicas ?? replicas,
    stored.metadata.resourceVersion,
    live,
    stored,
  );
}

/** Jobs: `spec.parallelism` (default 1), with a resourceVersion precondition. */
async function scaleJob(
  client: KubeClient,
  target: WorkloadTarget,
  parallelism: number,
  o: MutationOptionsWithDefaults,
): Promise<ScaleResult> {
  const live = await readWorkload(client, target, o.signal);
  const current = live.spec.parallelism ?? 1;
  if (current === parallelism)
    return result(target, o, current, parallelism, live.metadata.resourceVersion ?? '');
  const stored = await client.request<WorkloadObject>({
    method: 'PATCH',
    path: workloadPath(target),
    query: { fieldManager: o.fieldManager, ...(o.dryRun && { dryRun: 'All' }) },
    body: {
      metadata: {
        resourceVersion: live.metadata.resourceVersion,
        annotations: {
          ...(o.planId !== undefined && { [SentinelMetadata.planAnnotation]: o.planId }),
          ...(o.operationId !== undefined && { [SentinelMetadata.operationAnnotation]: o.operationId }),
        },
      },
      spec: { parallelism },
    },
    contentType: PatchType.merge,
    subject: subjectOf(target),
    signal: o.signal,
  });
  return result(
    target,
    o,
    current,
    stored.spec.parallelism ?? parallelism,
    stored.metadata.resourceVersion ?? '',
    live,
    stored,
  );
}

/**
 * Sets a workload's replicas: the scale subresource of a Deployment or StatefulSet, the
 * parallelism of a Job. Reads first and does nothing when the count is already right, so a
 * retried call never scales twice; writes with a resourceVersion precondition, so a racing
 * write makes it re-read (409, retried) rather than overwrite.
 *
 * `params` may be the replica count itself (the milestone-1 form).
 */
export async function scaleWorkload(
  registry: ClusterRegistry,
  target: WorkloadTarget,
  params: ScaleParams | number,
  options: MutationOptions = {},
): Promise<ScaleResult> {
  const replicas = typeof params === 'number' ? params : params.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new KubeInvalidError(`replicas must be a non-negative integer, not ${replicas}`, {
      cluster: target.cluster,
      ...subjectOf(target),
    });
  }
  const o = mutationOptionsWithDefaults(options);
  const client = registry.client(target.cluster);
  const outcome = await retrying(o.retry, o.signal, () =>
    target.kind === 'Job'
      ? scaleJob(client, target, replicas, o)
      : scaleSubresource(client, target, replicas, o),
  );
  if (o.wait) await waitForRollout(registry, target, o.wait);
  return outcome;
}
