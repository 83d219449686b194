import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { text } from './strings.ts';
import type { PlanStatus } from './plan.ts';

/**
 * Everything the API, CLI and tests need to talk to a plan workflow, kept apart from the
 * workflow code so that clients never import it.
 */
export const PLAN_TASK_QUEUE = 'sentinel-plans';

/** Workflow id of a plan: `plan/<planId>`. */
export function planWorkflowId(planId: string): string {
  return `plan/${planId}`;
}

/** Who asks for a control action, and why; every field optional so bare CLI signals work. */
export const ControlRequestSchema = z.object({
  actor: text({ min: 1, max: 200 }).optional(),
  reason: text({ min: 1, max: 2000 }).optional(),
});
export type ControlRequest = z.infer<typeof ControlRequestSchema>;

/** Answer of a control update: accepted, or why not. */
export interface ControlResult {
  accepted: boolean;
  phase: PlanStatus['phase'];
  message: string;
}

export const planStatusQuery = defineQuery<PlanStatus>('status');
export const pausePlanSignal = defineSignal<[ControlRequest?]>('pause');
export const resumePlanSignal = defineSignal<[ControlRequest?]>('resume');
export const abortPlanSignal = defineSignal<[ControlRequest?]>('abort');
/** Update form of abort for the API: its validator rejects a finished plan synchronously. */
export const abortPlanUpdate = defineUpdate<ControlResult, [ControlRequest]>('abortPlan');
export const pausePlanUpdate = defineUpdate<ControlResult, [ControlRequest]>('pausePlan');
export const resumePlanUpdate = defineUpdate<ControlResult, [ControlRequest]>('resumePlan');
