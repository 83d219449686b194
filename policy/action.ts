import { z } from 'zod';
import { WorkloadTargetSchema } from '../domain/plan.ts';
import { POLICY_VERBS } from './verbs.ts';

const labels = z.record(z.string(), z.string());

/**
 * Requests of ONE replica. Inside a given `resources` object an omitted quantity means "none
 * requested" (0); leaving the whole object out means "unknown", which rules that need it
 * report (see `onMissingInput`).
 */
export const ReplicaResourcesSchema = z.strictObject({
  /** CPU cores (0.5 = 500m). */
  cpuCores: z.number().nonnegative().optional(),
  /** Memory in bytes. */
  memoryBytes: z.number().nonnegative().optional(),
  /** `nvidia.com/gpu` devices. */
  gpus: z.number().int().nonnegative().optional(),
  /** GPU model (e.g. `H100`), used to look up the GPU price. */
  gpuModel: z.string().min(1).optional(),
});
export type ReplicaResources = z.infer<typeof ReplicaResourcesSchema>;

/**
 * What is about to be done, described for policy evaluation. Only `verb` and `target` are
 * required; every rule documents what it does when an input it needs is missing.
 */
export const PolicyActionSchema = z.strictObject({
  verb: z.enum(POLICY_VERBS),
  target: WorkloadTargetSchema,
  /** The ActionPlan (or rollout) this action belongs to; recorded, not interpreted. */
  planId: z.string().min(1).optional(),
  /** The plan is marked emergency; only freeze windows with `allowEmergency` honour it. */
  emergency: z.boolean().optional(),
  workloadLabels: labels.optional(),
  namespaceLabels: labels.optional(),
  clusterLabels: labels.optional(),
  /** Replicas the workload has now (spec). */
  currentReplicas: z.number().int().nonnegative().optional(),
  /** Replicas after the action; defaults to `currentReplicas` for verbs other than `scale`. */
  desiredReplicas: z.number().int().nonnegative().optional(),
  /** Per-replica requests after the action. */
  resources: ReplicaResourcesSchema.optional(),
  /** Per-replica requests before the action, when the action changes them; defaults to `resources`. */
  currentResources: ReplicaResourcesSchema.optional(),
  /**
   * Replicas a rolling change may take down at once. When absent for a rolling verb the
   * Kubernetes Deployment default applies: 25% of the replicas, rounded down.
   */
  maxUnavailable: z.number().int().nonnegative().optional(),
});
/** See {@link PolicyActionSchema}. */
export type PolicyAction = z.infer<typeof PolicyActionSchema>;
