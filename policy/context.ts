import { z } from 'zod';
import { WorkloadTargetSchema } from '../domain/plan.ts';
import { POLICY_VERBS } from './verbs.ts';

const labels = z.record(z.string(), z.string());
const amount = z.number().nonnegative();

/** Resources in use in one scope, counting the target workload as it is now. */
export const ResourceUsageSchema = z.strictObject({
  replicas: z.number().int().nonnegative().optional(),
  cpuCores: amount.optional(),
  memoryBytes: amount.optional(),
  gpus: z.number().int().nonnegative().optional(),
});
export type ResourceUsage = z.infer<typeof ResourceUsageSchema>;

/** Prices per hour. A price is only needed for a resource the action actually requests. */
export const PriceTableSchema = z.strictObject({
  /** Shown in messages. @default 'USD' */
  currency: z.string().min(1).optional(),
  cpuCoreHour: amount.optional(),
  memoryGiBHour: amount.optional(),
  /** Per GPU-hour by model name (matching `resources.gpuModel`). */
  gpuHour: z.record(z.string(), amount).optional(),
  /** Per GPU-hour for a model not listed in `gpuHour`, or when the model is unknown. */
  defaultGpuHour: amount.optional(),
});
export type PriceTable = z.infer<typeof PriceTableSchema>;

/**
 * A past action, as the audit trail records it. Labels are optional: a rate limit whose
 * selector needs labels counts an entry without them (see docs/policy.md).
 */
export const ActionHistoryEntrySchema = z.strictObject({
  at: z.iso.datetime({ offset: true }),
  verb: z.enum(POLICY_VERBS),
  target: WorkloadTargetSchema,
  planId: z.string().min(1).optional(),
  workloadLabels: labels.optional(),
  namespaceLabels: labels.optional(),
  clusterLabels: labels.optional(),
});
export type ActionHistoryEntry = z.infer<typeof ActionHistoryEntrySchema>;

/** Recent service-level observations of the target workload. */
export const SloObservationSchema = z.strictObject({
  latencyP99Ms: amount.optional(),
  /** Fraction of successful requests, 0-1. */
  successRate: z.number().min(0).max(1).optional(),
  /** When the observation was taken; needed by SLO rules that set `maxObservationAge`. */
  observedAt: z.iso.datetime({ offset: true }).optional(),
});
export type SloObservation = z.infer<typeof SloObservationSchema>;

/**
 * Everything an evaluation may look at besides the action. Only `now` is required: it is the
 * engine's only source of time, which is what makes a decision reproducible later.
 */
export const PolicyContextSchema = z.strictObject({
  /** The evaluation instant, ISO 8601 with offset. */
  now: z.iso.datetime({ offset: true }),
  /** Team owning the workload; when absent, the `sentinel.io/team` workload (then namespace) label. */
  team: z.string().min(1).optional(),
  usage: z
    .strictObject({
      /** Keyed by `cluster/namespace`. */
      namespaces: z.record(z.string(), ResourceUsageSchema).optional(),
      teams: z.record(z.string(), ResourceUsageSchema).optional(),
      clusters: z.record(z.string(), ResourceUsageSchema).optional(),
    })
    .optional(),
  prices: PriceTableSchema.optional(),
  history: z.array(ActionHistoryEntrySchema).optional(),
  slo: SloObservationSchema.optional(),
  /** Spend so far this month, per team, in the price table's currency. */
  spendMonthToDate: z.record(z.string(), amount).optional(),
  /** Ready replicas of the target now; defaults to `action.currentReplicas`. */
  availableReplicas: z.number().int().nonnegative().optional(),
});
/** See {@link PolicyContextSchema}. */
export type PolicyContext = z.infer<typeof PolicyContextSchema>;

/** Workload label that names the owning team when `context.team` is not given. */
export const TEAM_LABEL = 'sentinel.io/team';
