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

/** The replica field each kind scales: `spec.replicas`, or a Job's `spec.parallelism`. */
function countOf(target: WorkloadTarget, workload: WorkloadObject): number {
  return target.kind === 'Job' ? (workload.spec.parallelism ?? 1) : (workload.spec.replicas ?? 1);
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

/** The provenance annotations the options ask for; empty when they name no plan or operation. */
function provenance(o: MutationOptionsWithDefaults): Record<string, string> {
  return {
    ...(o.planId !== undefined && { [SentinelMetadata.planAnnotation]: o.planId }),
    ...(o.operationId !== undefined && { [SentinelMetadata.operationAnnotation]: o.operationId }),
  };
}

/** True when every provenance annotation asked for is already on the workload. */
function provenanceRecorded(live: WorkloadObject, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => live.metadata.annotations?.[key] === value);
}

/**
 * One attempt: read the workload, then, if the count differs, one merge patch of the
 * workload itself that sets the count and the provenance annotations together, under the
 * resourceVersion that was read. One write means no moment exists at which the count has
 * changed and the annotations still name the previous changer, so a worker killed at any
 * point leaves either nothing or the whole change.
 *
 * `resumed` (a repeat of an operation whose earlier attempt may have made the change): when
 * the count is already right but the annotations do not name this plan and operation, they
 * are written (same precondition), which finishes what an earlier attempt of a two-write
 * scale began. A first attempt that finds the count right writes nothing.
 */
async function scaleOnce(
  client: KubeClient,
  target: WorkloadTarget,
  count: number,
  o: MutationOptionsWithDefaults,
  resumed: boolean,
): Promise<ScaleResult> {
  const live = await readWorkload(client, target, o.signal);
  const current = countOf(target, live);
  const annotations = provenance(o);
  const field = target.kind === 'Job' ? 'parallelism' : 'replicas';
  if (current === count) {
    if (!resumed || o.dryRun || provenanceRecorded(live, annotations))
      return result(target, o, current, count, live.metadata.resourceVersion ?? '');
    const stamped = await client.request<WorkloadObject>({
      method: 'PATCH',
      path: workloadPath(target),
      query: { fieldManager: o.fieldManager },
      body: { metadata: { resourceVersion: live.metadata.resourceVersion, annotations } },
      contentType: PatchType.merge,
      subject: subjectOf(target),
      signal: o.signal,
    });
    return result(target, o, current, count, stamped.metadata.resourceVersion ?? '');
  }
  const stored = await client.request<WorkloadObject>({
    method: 'PATCH',
    path: workloadPath(target),
    query: { fieldManager: o.fieldManager, ...(o.dryRun && { dryRun: 'All' }) },
    body: {
      metadata: {
        resourceVersion: live.metadata.resourceVersion,
        ...(Object.keys(annotations).length > 0 && { annotations }),
      },
      spec: { [field]: count },
    },
    contentType: PatchType.merge,
    subject: subjectOf(target),
    signal: o.signal,
  });
  return result(
    target,
    o,
    current,
    countOf(target, stored),
    stored.metadata.resourceVersion ?? '',
    live,
    stored,
  );
}

/**
 * Sets a workload's replicas: `spec.replicas` of a Deployment or StatefulSet, the
 * parallelism of a Job. Reads first and does nothing when the count is already right, so a
 * retried call never scales twice; the count and the provenance annotations
 * (`sentinel.dev/plan`, `sentinel.dev/operation`) go in one merge patch with a
 * resourceVersion precondition, so a racing write makes it re-read (409, retried) rather
 * than overwrite, and the annotations always name the operation that made the last change.
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
    scaleOnce(client, target, replicas, o, options.resumed ?? false),
  );
  if (o.wait) await waitForRollout(registry, target, o.wait);
  return outcome;
}
