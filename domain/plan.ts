import { z } from 'zod';
import { parseQuantity } from '../policy/quantity.ts';
import {
  dnsLabel,
  dnsSubdomain,
  envVarName,
  envVarValue,
  jsonValue,
  labelKey,
  labelValue,
  text,
} from './strings.ts';

export const WorkloadKind = { Deployment: 'Deployment', StatefulSet: 'StatefulSet', Job: 'Job' } as const;
export type WorkloadKind = (typeof WorkloadKind)[keyof typeof WorkloadKind];

/** The workload a plan step acts on. `cluster` is a name from Sentinel's cluster registry. */
export const WorkloadTargetSchema = z.strictObject({
  cluster: dnsLabel,
  namespace: dnsLabel,
  kind: z.enum([WorkloadKind.Deployment, WorkloadKind.StatefulSet, WorkloadKind.Job]),
  name: dnsSubdomain,
});
export type WorkloadTarget = z.infer<typeof WorkloadTargetSchema>;

/** `cluster/namespace/kind/name`, the key used to serialise and audit work on one workload. */
export function workloadKey(t: WorkloadTarget): string {
  return `${t.cluster}/${t.namespace}/${t.kind}/${t.name}`;
}

/** Largest quantity value accepted: the apiserver keeps quantities as int64 (milli-units aside). */
const MAX_QUANTITY = 2 ** 63;

/**
 * A resource quantity (`500m`, `16Gi`, `2`, `1e3`, or a number), checked with the policy
 * engine's parser so that what the apiserver would refuse, or write as nonsense, is a 400.
 */
const ResourceQuantity = z.union([text({ min: 1, max: 64 }), z.number().nonnegative()]).refine(
  (value) => {
    const parsed = parseQuantity(value);
    return parsed !== undefined && parsed <= MAX_QUANTITY;
  },
  { message: 'must be a Kubernetes quantity such as "500m", "16Gi" or 2, at most 2^63' },
);

/** Container requests and limits as Kubernetes writes them (`cpu: 500m`, `nvidia.com/gpu: 1`). */
export const ContainerResourcesSchema = z.strictObject({
  requests: z.record(labelKey, ResourceQuantity).optional(),
  limits: z.record(labelKey, ResourceQuantity).optional(),
});

export const ScaleParamsSchema = z.strictObject({
  replicas: z.number().int().min(0).max(10_000),
});

export const UpdateParamsSchema = z
  .strictObject({
    container: dnsLabel,
    image: text({ min: 1, max: 1024 }).optional(),
    env: z.record(envVarName, envVarValue).optional(),
    resources: ContainerResourcesSchema.optional(),
  })
  .refine((p) => p.image !== undefined || p.env !== undefined || p.resources !== undefined, {
    message: 'update needs at least one of image, env or resources',
  });

export const RollbackParamsSchema = z.strictObject({
  /** Revision to return to; the previous revision when absent. */
  toRevision: z.number().int().positive().optional(),
});

export const RescheduleParamsSchema = z
  .strictObject({
    nodeSelector: z.record(labelKey, labelValue).optional(),
    tolerations: z
      .array(
        z.strictObject({
          key: z.union([z.literal(''), labelKey]).optional(),
          operator: z.enum(['Exists', 'Equal']).optional(),
          value: labelValue.optional(),
          effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
        }),
      )
      .optional(),
    affinity: z.record(text({ min: 1, max: 253 }), jsonValue).optional(),
  })
  .refine((p) => p.nodeSelector !== undefined || p.tolerations !== undefined || p.affinity !== undefined, {
    message: 'reschedule needs at least one of nodeSelector, tolerations or affinity',
  });

export const PlanVerb = {
  scale: 'scale',
  update: 'update',
  rollback: 'rollback',
  reschedule: 'reschedule',
} as const;
export type PlanVerb = (typeof PlanVerb)[keyof typeof PlanVerb];

/** One action on one workload; the verb decides the shape of `params`. */
export const PlanStepSchema = z.discriminatedUnion('verb', [
  z.strictObject({ verb: z.literal('scale'), target: WorkloadTargetSchema, params: ScaleParamsSchema }),
  z.strictObject({ verb: z.literal('update'), target: WorkloadTargetSchema, params: UpdateParamsSchema }),
  z.strictObject({ verb: z.literal('rollback'), target: WorkloadTargetSchema, params: RollbackParamsSchema }),
  z.strictObject({
    verb: z.literal('reschedule'),
    target: WorkloadTargetSchema,
    params: RescheduleParamsSchema,
  }),
]);
export type PlanStep = z.infer<typeof PlanStepSchema>;

export const PlanMode = { execute: 'execute', shadow: 'shadow' } as const;
export type PlanMode = (typeof PlanMode)[keyof typeof PlanMode];

export const PLAN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * An ActionPlan as submitted by an operator, CI or InfraMind. A single-step plan is written
 * with `verb`, `target` and `params` at the top level; a multi-step plan lists `steps`.
 */
export const ActionPlanSchema = z.strictObject({
  id: z
    .string()
    .regex(PLAN_ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 . _ - and start alphanumeric'),
  steps: z.array(PlanStepSchema).min(1).max(50),
  priority: z.number().int().min(0).max(1000).default(100),
  notAfter: z.iso.datetime({ offset: true }).optional(),
  mode: z.enum([PlanMode.execute, PlanMode.shadow]).default(PlanMode.execute),
  emergency: z.boolean().default(false),
  requestedBy: text({ min: 1, max: 200 }),
  reason: text({ min: 1, max: 2000 }),
});
export type ActionPlan = z.infer<typeof ActionPlanSchema>;

/** What a client may send: either `steps`, or one step's fields at the top level. */
export const ActionPlanInputSchema = z.preprocess((raw) => {
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && !('steps' in raw) && 'verb' in raw) {
    const { verb, target, params, ...rest } = raw as Record<string, unknown>;
    return { ...rest, steps: [{ verb, target, params }] };
  }
  return raw;
}, ActionPlanSchema);
export type ActionPlanInput = z.input<typeof ActionPlanInputSchema>;

export const PlanPhase = {
  Pending: 'Pending',
  Waiting: 'Waiting',
  Running: 'Running',
  Paused: 'Paused',
  Succeeded: 'Succeeded',
  Denied: 'Denied',
  Expired: 'Expired',
  Failed: 'Failed',
  RolledBack: 'RolledBack',
  RollbackFailed: 'RollbackFailed',
  Aborted: 'Aborted',
} as const;
export type PlanPhase = (typeof PlanPhase)[keyof typeof PlanPhase];
export const TERMINAL_PLAN_PHASES: ReadonlySet<PlanPhase> = new Set([
  PlanPhase.Succeeded,
  PlanPhase.Denied,
  PlanPhase.Expired,
  PlanPhase.Failed,
  PlanPhase.RolledBack,
  PlanPhase.RollbackFailed,
  PlanPhase.Aborted,
]);

export const StepPhase = {
  Pending: 'Pending',
  Running: 'Running',
  Applied: 'Applied',
  /** Ran, and found the workload already as the step asks: nothing was written. */
  Unchanged: 'Unchanged',
  Shadowed: 'Shadowed',
  Denied: 'Denied',
  Failed: 'Failed',
  Compensated: 'Compensated',
} as const;
export type StepPhase = (typeof StepPhase)[keyof typeof StepPhase];

/** Policy outcome summarised for status views; the full decision lives in the audit record. */
export const DecisionSummarySchema = z.object({
  stepIndex: z.number().int(),
  result: z.enum(['allow', 'deny', 'warn']),
  violations: z.array(z.object({ policyId: z.string(), message: z.string() })),
  at: z.string(),
});
export type DecisionSummary = z.infer<typeof DecisionSummarySchema>;

export const StepStatusSchema = z.object({
  index: z.number().int(),
  verb: z.enum(['scale', 'update', 'rollback', 'reschedule']),
  workload: z.string(),
  phase: z.enum(Object.values(StepPhase) as [StepPhase, ...StepPhase[]]),
  message: z.string().optional(),
  /** What the driver changed, e.g. `{ replicas: { from: 2, to: 5 } }`. */
  change: z.record(z.string(), z.unknown()).optional(),
});
export type StepStatus = z.infer<typeof StepStatusSchema>;

/** Live state of a plan, as the workflow's `status` query and `GET /v1/plans/:id` report it. */
export const PlanStatusSchema = z.object({
  planId: z.string(),
  phase: z.enum(Object.values(PlanPhase) as [PlanPhase, ...PlanPhase[]]),
  mode: z.enum([PlanMode.execute, PlanMode.shadow]),
  currentStep: z.number().int().nullable(),
  steps: z.array(StepStatusSchema),
  decisions: z.array(DecisionSummarySchema),
  waitingFor: z.string().nullable(),
  message: z.string().nullable(),
  updatedAt: z.string(),
});
export type PlanStatus = z.infer<typeof PlanStatusSchema>;
