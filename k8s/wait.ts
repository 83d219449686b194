import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterRegistry } from './clusters.ts';
import type { KubeClient } from './client.ts';
import {
  KubeConflictError,
  KubeError,
  KubeNotFoundError,
  KubeQuotaExceededError,
  KubeRolloutFailedError,
  KubeTimeoutError,
  type KubeStatus,
} from './errors.ts';
import { resourcePath, WORKLOAD_TYPES } from './resources.ts';
import { backoffDelay } from './retry.ts';
import type { RolloutStatus, WaitOptions, WorkloadObject, WorkloadTarget } from './types.ts';
import { subjectOf } from './workloads.ts';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function conditionOf(obj: WorkloadObject, type: string): Condition | undefined {
  const conditions = (obj.status?.conditions ?? []) as Condition[];
  return conditions.find((c) => c.type === type && c.status === 'True');
}

/**
 * Where a workload's rollout stands, read from its status the way `kubectl rollout status`
 * reads it. Throws `SENTINEL_ERR_K8S_ROLLOUT_FAILED` when the rollout cannot finish by
 * itself (progress deadline exceeded, Job failed) and `SENTINEL_ERR_K8S_QUOTA_EXCEEDED`
 * when a ResourceQuota keeps the controller from creating pods.
 */
export function rolloutStatus(target: WorkloadTarget, obj: WorkloadObject): RolloutStatus {
  const s = obj.status ?? {};
  const generation = obj.metadata.generation ?? 0;
  const observedGeneration = num(s.observedGeneration);
  const base = {
    generation,
    observedGeneration,
    replicas: num(s.replicas),
    updatedReplicas: num(s.updatedReplicas),
    readyReplicas: num(s.readyReplicas),
    availableReplicas: num(s.availableReplicas),
    resourceVersion: obj.metadata.resourceVersion ?? '',
  };
  const waiting = (message: string): RolloutStatus => ({ done: false, message, ...base });
  const done = (message: string): RolloutStatus => ({ done: true, message, ...base });
  const context = { cluster: target.cluster, ...subjectOf(target) };

  const quota = conditionOf(obj, 'ReplicaFailure');
  if (quota?.message && /exceeded quota/i.test(quota.message)) {
    throw new KubeQuotaExceededError(`the controller cannot create pods: ${quota.message}`, context);
  }

  switch (target.kind) {
    case 'Deployment': {
      if (generation > observedGeneration)
        return waiting('waiting for the deployment spec update to be observed');
      const progressing = ((s.conditions ?? []) as Condition[]).find((c) => c.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded') {
        throw new KubeRolloutFailedError(`progress deadline exceeded: ${progressing.message ?? ''}`, context);
      }
      const desired = obj.spec.replicas ?? 1;
      if (base.updatedReplicas < desired)
        return waiting(`${base.updatedReplicas} of ${desired} new replicas have been updated`);
      if (base.replicas > base.updatedReplicas) {
        return waiting(`${base.replicas - base.updatedReplicas} old replicas are pending termination`);
      }
      if (base.availableReplicas < base.updatedReplicas) {
        return waiting(`${base.availableReplicas} of ${base.updatedReplicas} updated replicas are available`);
      }
      return done(`deployment successfully rolled out (${base.availableReplicas} available)`);
    }
    case 'StatefulSet': {
      if (observedGeneration === 0 || generation > observedGeneration)
        return waiting('waiting for the statefulset spec update to be observed');
      const desired = obj.spec.replicas ?? 1;
      if (base.replicas !== desired) return waiting(`${base.replicas} of ${desired} pods exist`);
      if (base.readyReplicas < desired) return waiting(`${base.readyReplicas} of ${desired} pods are ready`);
      const strategy = obj.spec.updateStrategy as
        { type?: string; rollingUpdate?: { partition?: number } } | undefined;
      if (strategy?.type === 'OnDelete') return done('statefulset uses OnDelete: pods update when deleted');
      const partition = strategy?.rollingUpdate?.partition ?? 0;
      if (partition > 0) {
        return base.updatedReplicas < desired - partition
          ? waiting(`${base.updatedReplicas} of ${desired - partition} partitioned pods updated`)
          : done(`partitioned rollout complete (${base.updatedReplicas} updated)`);
      }
      if (s.updateRevision !== s.currentRevision) {
        return waiting(
          `${base.updatedReplicas} of ${desired} pods are at revision ${String(s.updateRevision)}`,
        );
      }
      if (base.availableReplicas < desired)
        return waiting(`${base.availableReplicas} of ${desired} pods are available`);
      return done(
        `statefulset rolled out (${base.readyReplicas} ready at revision ${String(s.currentRevision)})`,
      );
    }
    case 'Job': {
      const failed = conditionOf(obj, 'Failed');
      if (failed)
        throw new KubeRolloutFailedError(
          `job failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim(),
          context,
        );
      if (conditionOf(obj, 'Complete')) return done('job complete');
      if (obj.spec.suspend === true) return done('job is suspended');
      const parallelism = obj.spec.parallelism ?? 1;
      const succeeded = num(s.succeeded);
      const expected =
        obj.spec.completions === undefined
          ? parallelism
          : Math.max(0, Math.min(parallelism, obj.spec.completions - succeeded));
      const active = num(s.active);
      const ready = num(s.ready);
      if (active !== expected) return waiting(`${active} of ${expected} pods are active`);
      if (ready < expected) return waiting(`${ready} of ${expected} active pods are ready`);
      return done(`job running with ${active} ready pods`);
    }
  }
}

function isGone(err: unknown): boolean {
  return err instanceof KubeConflictError && err.httpStatus === 410;
}

/** Options for {@link watchWorkload}. */
export interface WatchWorkloadOptions extends WaitOptions {
  /** Start watching from this resourceVersion instead of listing first. */
  resourceVersion?: string;
}

/**
 * Watches one workload until `until` returns a value. A dropped connection is re-established
 * from the last resourceVersion seen (bookmarks included); `410 Gone` relists. Times out with
 * a retryable `SENTINEL_ERR_K8S_TIMEOUT` that carries the last status message.
 */
export async function watchWorkload<T>(
  registry: ClusterRegistry,
  target: WorkloadTarget,
  until: (obj: WorkloadObject) => T | undefined,
  options: WatchWorkloadOptions = {},
): Promise<T> {
  const client = registry.client(target.cluster);
  const timeoutMs = options.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const context = { cluster: target.cluster, ...subjectOf(target) };
  const collection = resourcePath(WORKLOAD_TYPES[target.kind], target.namespace);
  const fieldSelector = `metadata.name=${target.name}`;
  let resourceVersion = options.resourceVersion;
  let lastError: string | undefined;
  let failures = 0;

  const timedOut = (cause?: unknown): KubeTimeoutError =>
    new KubeTimeoutError(
      `gave up waiting after ${timeoutMs} ms${lastError ? ` (last connection error: ${lastError})` : ''}`,
      context,
      { cause },
    );

  for (;;) {
    if (timeout.aborted) throw timedOut();
    if (options.signal?.aborted) throw options.signal.reason;
    let result: { value: T } | undefined;
    let failure: Error | undefined;
    const consider = (obj: WorkloadObject): boolean => {
      try {
        const value = until(obj);
        if (value === undefined) return false;
        result = { value };
        return true;
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
        return true;
      }
    };
    try {
      if (resourceVersion === undefined) {
        const list = await listOne(client, collection, fieldSelector, context, signal);
        const [obj] = list.items;
        if (!obj) throw new KubeNotFoundError('the workload does not exist', context);
        resourceVersion = list.metadata.resourceVersion;
        if (consider(obj)) {
          if (failure !== undefined) throw failure;
          if (result) return result.value;
        }
      }
      await client.watch<WorkloadObject | KubeStatus>(
        collection,
        {
          fieldSelector,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.max(1, Math.min(300, Math.ceil((deadline - Date.now()) / 1000))),
        },
        (event) => {
          failures = 0;
          if (event.type === 'ERROR') {
            const status = event.object as KubeStatus;
            if (status.code === 410) resourceVersion = undefined;
            else
              failure = new KubeConflictError(`watch failed: ${status.message ?? 'unknown error'}`, context, {
                httpStatus: status.code ?? 0,
              });
            return true;
          }
          const obj = event.object as WorkloadObject;
          resourceVersion = obj.metadata.resourceVersion ?? resourceVersion;
          if (event.type === 'BOOKMARK') return false;
          if (event.type === 'DELETED') {
            failure = new KubeNotFoundError('the workload was deleted while waiting', context);
            return true;
          }
          return consider(obj);
        },
        { signal, subject: subjectOf(target) },
      );
      if (failure !== undefined) throw failure;
      if (result) return result.value;
      // The server ended the watch (its timeout): watch again from the last resourceVersion.
    } catch (err) {
      if (timeout.aborted) throw timedOut(err);
      if (options.signal?.aborted) throw options.signal.reason;
      if (isGone(err)) {
        resourceVersion = undefined;
        continue;
      }
      if (!(err instanceof KubeError) || !err.retryable || err instanceof KubeConflictError) throw err;
      // The apiserver went away: back off, then re-establish the watch from where it broke.
      failures++;
      lastError = err.message;
      const delay = Math.min(backoffDelay(failures, 250, 5_000), Math.max(0, deadline - Date.now()));
      await sleep(delay, undefined, { signal }).catch(() => undefined);
    }
  }

  async function listOne(
    c: KubeClient,
    path: string,
    selector: string,
    ctx: typeof context,
    s: AbortSignal,
  ): Promise<{ metadata: { resourceVersion: string }; items: WorkloadObject[] }> {
    return c.request({ method: 'GET', path, query: { fieldSelector: selector }, subject: ctx, signal: s });
  }
}

/**
 * Waits, by watch, until the workload's rollout is complete: observedGeneration caught up,
 * all replicas updated, ready and available, old ones gone (Jobs: the expected pods active
 * and ready, or complete).
 */
export async function waitForRollout(
  registry: ClusterRegistry,
  target: WorkloadTarget,
  options: WatchWorkloadOptions = {},
): Promise<RolloutStatus> {
  let last = 'no status observed yet';
  try {
    return await watchWorkload(
      registry,
      target,
      (obj) => {
        const status = rolloutStatus(target, obj);
        if (status.message !== last) {
          last = status.message;
          options.onProgress?.(status);
        }
        return status.done ? status : undefined;
      },
      options,
    );
  } catch (err) {
    if (err instanceof KubeTimeoutError) {
      throw new KubeTimeoutError(
        `rollout not complete: ${last}`,
        { cluster: target.cluster, ...subjectOf(target) },
        { cause: err },
      );
    }
    throw err;
  }
}
