import type { WorkloadKind, WorkloadTarget } from '../domain/plan.ts';
import type { RetryOptions } from './retry.ts';

export type { WorkloadKind, WorkloadTarget };

/** The parts of a Kubernetes object the driver reads; everything else passes through untouched. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  [field: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  [field: string]: unknown;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Record<string, unknown>;
  nodeName?: string;
  [field: string]: unknown;
}

export interface PodTemplate {
  metadata?: ObjectMeta;
  spec: PodSpec;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

/** A Deployment, StatefulSet or Job as the driver sees it. */
export interface WorkloadObject extends KubeObject {
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: {
    replicas?: number;
    parallelism?: number;
    completions?: number;
    selector?: LabelSelector;
    template: PodTemplate;
    [field: string]: unknown;
  };
  status?: Record<string, unknown>;
}

/** Sentinel's labels and annotations on the objects it changes. */
export const SentinelMetadata = {
  /** Label on workloads created through {@link applyWorkload}. */
  managedByLabel: 'app.kubernetes.io/managed-by',
  managedByValue: 'sentinel',
  /** Annotation: the plan that last changed the workload. */
  planAnnotation: 'sentinel.dev/plan',
  /** Annotation: how many changes Sentinel has made to the workload, bumped in the same write. */
  revisionAnnotation: 'sentinel.dev/revision',
  /** Annotation: idempotency key of the last operation, so a retried operation recognises its own change. */
  operationAnnotation: 'sentinel.dev/operation',
  /** Annotation (rollback only): the revision a rollback left, so a retry can report it. */
  rolledBackFromAnnotation: 'sentinel.dev/rolled-back-from',
  /** Annotation (rollback only): the revision a rollback returned to, as it was numbered then. */
  rolledBackToAnnotation: 'sentinel.dev/rolled-back-to',
  /**
   * Annotation (rollback only): digest of the pod template the rollback wrote. The two marks
   * above describe that template only; once the template has changed they are ignored.
   */
  rolledBackTemplateAnnotation: 'sentinel.dev/rolled-back-template',
} as const;

/** The default field manager of every write. */
export const SENTINEL_FIELD_MANAGER = 'sentinel';

/** Options of a rollout wait. */
export interface WaitOptions {
  /**
   * Give up (with a retryable `SENTINEL_ERR_K8S_TIMEOUT`) after this long.
   * @default 300_000
   */
  timeoutMs?: number;
  /** Called on each observed change, e.g. to heartbeat a Temporal activity. */
  onProgress?: (status: RolloutStatus) => void;
  signal?: AbortSignal;
}

/** Where a rollout stands, from the workload's status. */
export interface RolloutStatus {
  done: boolean;
  /** Human-readable, in the style of `kubectl rollout status`. */
  message: string;
  generation: number;
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  resourceVersion: string;
}

/** Options every mutating verb takes. */
export interface MutationOptions {
  /**
   * Run the write as a server-side dry run (`dryRun=All`): the apiserver validates and
   * admits it and answers with the object it would store, and stores nothing.
   * @default false
   */
  dryRun?: boolean;
  /** @default 'sentinel' */
  fieldManager?: string;
  /** The plan making the change, recorded in the `sentinel.dev/plan` annotation. */
  planId?: string;
  /**
   * Idempotency key of this operation (e.g. `<workflowId>/<step>`), recorded in the
   * `sentinel.dev/operation` annotation; a retry that finds it on the live object knows
   * its change is already made. Needed only where "desired equals live" cannot tell,
   * i.e. a rollback to "the previous revision".
   */
  operationId?: string;
  /**
   * This call repeats an operation whose earlier attempt may already have made the change
   * (a retried activity: `activityInfo().attempt > 1`). A verb that finds its change in place
   * then makes sure the provenance annotations name this `planId`/`operationId`, finishing
   * what the earlier attempt began; a first attempt that finds nothing to change writes
   * nothing.
   * @default false
   */
  resumed?: boolean;
  /**
   * Wait for the rollout to finish after the change (never for dry runs). A no-op waits too,
   * so that a retried operation whose first attempt changed the workload still waits.
   * @default false
   */
  wait?: boolean | WaitOptions;
  /** Called with each rollout status change while waiting (same as `wait.onProgress`). */
  onProgress?: (status: RolloutStatus) => void;
  /** Retry policy for retryable failures; `false` to try once. */
  retry?: RetryOptions | false;
  signal?: AbortSignal;
}

export interface MutationOptionsWithDefaults {
  dryRun: boolean;
  fieldManager: string;
  planId: string | undefined;
  operationId: string | undefined;
  wait: WaitOptions | undefined;
  retry: RetryOptions | false;
  signal: AbortSignal | undefined;
}

export function mutationOptionsWithDefaults(options: MutationOptions = {}): MutationOptionsWithDefaults {
  const dryRun = options.dryRun ?? false;
  return {
    dryRun,
    fieldManager: options.fieldManager ?? SENTINEL_FIELD_MANAGER,
    planId: options.planId,
    operationId: options.operationId,
    wait:
      dryRun || !options.wait
        ? undefined
        : {
            ...(options.onProgress !== undefined && { onProgress: options.onProgress }),
            ...(options.signal !== undefined && { signal: options.signal }),
            ...(options.wait === true ? {} : options.wait),
          },
    retry: options.retry ?? {},
    signal: options.signal,
  };
}

/** The driver's verbs. */
export const DriverVerb = {
  scale: 'scale',
  update: 'update',
  rollback: 'rollback',
  reschedule: 'reschedule',
} as const;
export type DriverVerb = (typeof DriverVerb)[keyof typeof DriverVerb];

export interface ScaleParams {
  replicas: number;
}

/** Env values and resource quantities set to `null` are removed (what an inverse needs). */
export interface UpdateParams {
  /** The container to change, by name. */
  container: string;
  image?: string;
  env?: Record<string, string | null>;
  resources?: {
    requests?: Record<string, string | number | null>;
    limits?: Record<string, string | number | null>;
  };
}

export interface RollbackParams {
  /** The revision to return to; the one before the current when absent. */
  toRevision?: number;
}

/** Each field given replaces the pod template's field as a whole; `{}` / `[]` clears it. */
export interface RescheduleParams {
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Record<string, unknown>;
}

export interface ScaleState {
  replicas: number;
}
export type UpdateState = UpdateParams;
export interface RollbackState {
  /** The workload's revision: `deployment.kubernetes.io/revision` or the ControllerRevision number. */
  revision: number;
  /** Image of each container at that revision. */
  images: Record<string, string>;
}
export type RescheduleState = RescheduleParams;

/**
 * What undoes a change: the verb and the parameters that restore the previous state, in the
 * shape of a plan step (`{ ...inverse, target }` is one).
 */
export interface ScaleInverse {
  verb: 'scale';
  params: ScaleParams;
  /** Same as `params.replicas` (the milestone-1 shape of this result). */
  replicas: number;
}
export interface UpdateInverse {
  verb: 'update';
  params: UpdateParams;
}
export interface RollbackInverse {
  verb: 'rollback';
  params: { toRevision: number };
}
export interface RescheduleInverse {
  verb: 'reschedule';
  params: RescheduleParams;
}
export type InverseAction = ScaleInverse | UpdateInverse | RollbackInverse | RescheduleInverse;

/**
 * What every verb returns. `previous` and `applied` describe the fields the verb acts on;
 * `inverse` is the call that restores `previous`. A no-op has `changed: false` and
 * `applied` equal to `previous`.
 */
export interface MutationResult<TState = unknown, TInverse extends InverseAction = InverseAction> {
  verb: DriverVerb;
  target: WorkloadTarget;
  changed: boolean;
  dryRun: boolean;
  previous: TState;
  applied: TState;
  inverse: TInverse;
  /** resourceVersion of the object after the change (unchanged by a dry run or a no-op). */
  resourceVersion: string;
  /** Readable field-by-field diff of live → stored (or would-be-stored) object; absent for no-ops. */
  diff?: string;
  /** The object the apiserver stored, or would store for a dry run. */
  object?: KubeObject;
}

export type ScaleResult = MutationResult<ScaleState, ScaleInverse>;
export type UpdateResult = MutationResult<UpdateState, UpdateInverse>;
export type RollbackResult = MutationResult<RollbackState, RollbackInverse>;
export type RescheduleResult = MutationResult<RescheduleState, RescheduleInverse>;
