/**
 * Sentinel's Kubernetes driver: what activities call to change a cluster.
 *
 * Every verb takes `(registry, target, params, options)` and returns a {@link MutationResult}
 * (`changed`, `previous`, `applied`, `inverse`, `diff`, `dryRun`). Every verb is idempotent
 * (it compares live and desired state first) and writes with resourceVersion preconditions;
 * every failure is a typed {@link KubeError} that says whether it is worth retrying.
 */
export {
  GPU_POOL_LABEL,
  GPU_RESOURCE,
  getClusterCapacity,
  type CapacityOptions,
  type CapacityTotals,
  type ClusterCapacity,
  type NodeCapacity,
  type ResourceAmounts,
} from './capacity.ts';
export { getNamespaceLabels, getNamespaceUsage } from './usage.ts';
export {
  ClusterRegistry,
  kubeconfigPathsFromEnv,
  type ClusterHealth,
  type ClusterRegistryOptions,
  type ClusterSource,
} from './clusters.ts';
export {
  KubeClient,
  PatchType,
  type KubeClientOptions,
  type KubeRequest,
  type WatchEvent,
} from './client.ts';
export { describeChange, diffObjects, formatDiff, type FieldChange } from './diff.ts';
export {
  KubeConflictError,
  KubeError,
  KubeErrorCodes,
  KubeForbiddenError,
  KubeInternalError,
  KubeInvalidError,
  KubeNotFoundError,
  KubeQuotaExceededError,
  KubeRolloutFailedError,
  KubeTimeoutError,
  KubeUnavailableError,
  KubeUnknownClusterError,
  isRetryableKubeError,
  toKubeError,
  type KubeErrorCode,
  type KubeErrorContext,
} from './errors.ts';
export { parseQuantity, sameQuantity } from './quantity.ts';
export { backoffDelay, withRetry, type RetryOptions } from './retry.ts';
export { rescheduleWorkload, type Placement, type RescheduleOutcome } from './reschedule.ts';
export { rollbackWorkload } from './rollback.ts';
export { scaleWorkload } from './scale.ts';
export { updateWorkload } from './update.ts';
export { runVerb, undoMutation, type VerbCall } from './verbs.ts';
export {
  DriverVerb,
  SENTINEL_FIELD_MANAGER,
  SentinelMetadata,
  type Container,
  type InverseAction,
  type KubeObject,
  type LabelSelector,
  type MutationOptions,
  type MutationResult,
  type PodTemplate,
  type RescheduleInverse,
  type RescheduleParams,
  type RescheduleResult,
  type RescheduleState,
  type RollbackInverse,
  type RollbackParams,
  type RollbackResult,
  type RollbackState,
  type RolloutStatus,
  type ScaleInverse,
  type ScaleParams,
  type ScaleResult,
  type ScaleState,
  type Toleration,
  type UpdateInverse,
  type UpdateParams,
  type UpdateResult,
  type UpdateState,
  type WaitOptions,
  type WorkloadKind,
  type WorkloadObject,
  type WorkloadTarget,
} from './types.ts';
export { rolloutStatus, waitForRollout, watchWorkload, type WatchWorkloadOptions } from './wait.ts';
export {
  applyObject,
  applyWorkload,
  deleteObject,
  getWorkload,
  isPodReady,
  listWorkloadPods,
  selectorString,
  type ApplyOptions,
  type ApplyResult,
  type DeleteOptions,
  type PodObject,
  type ReadOptions,
} from './workloads.ts';
