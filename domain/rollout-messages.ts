import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { text } from './strings.ts';
import { rolloutId, type RolloutPhase, type RolloutStatus, type RolloutTarget } from './rollout.ts';

/**
 * Everything the API, CLI, tests and `temporal workflow signal` need to talk to a rollout
 * workflow, kept apart from the workflow code so that clients never import it. Rollouts run
 * on the plan task queue: one worker serves both.
 */

/** `rollout/<cluster>/<namespace>/<workload>`: one active rollout per workload. */
export function rolloutWorkflowId(target: RolloutTarget): string {
  return `rollout/${rolloutId(target)}`;
}

/** The workflow types, as the client starts them. */
export const RolloutWorkflowType = {
  canary: 'canaryRolloutWorkflow',
  bluegreen: 'blueGreenRolloutWorkflow',
} as const;

/** Who asks for a control action, and why; every field optional so bare CLI signals work. */
export const RolloutControlRequestSchema = z.object({
  actor: text({ min: 1, max: 200 }).optional(),
  reason: text({ min: 1, max: 2000 }).optional(),
});
export type RolloutControlRequest = z.infer<typeof RolloutControlRequestSchema>;

/** `promote` with `full: true` is `promoteFull`: skip every remaining step and analysis. */
export const PromoteRequestSchema = RolloutControlRequestSchema.extend({
  full: z.boolean().optional(),
});
export type PromoteRequest = z.infer<typeof PromoteRequestSchema>;

/** Answer of a control update: accepted, or why not. */
export interface RolloutControlResult {
  accepted: boolean;
  phase: RolloutPhase;
  message: string;
}

export const RolloutControlAction = {
  pause: 'pause',
  resume: 'resume',
  abort: 'abort',
  promote: 'promote',
} as const;
export type RolloutControlAction = (typeof RolloutControlAction)[keyof typeof RolloutControlAction];

export const rolloutStatusQuery = defineQuery<RolloutStatus>('status');

// Signals, named for `temporal workflow signal --workflow-id rollout/... --name abort`.
/** Hold the rollout before its next step (a step in flight finishes). */
export const pauseRolloutSignal = defineSignal<[RolloutControlRequest?]>('pause');
/** Undo an operator's pause. */
export const resumeRolloutSignal = defineSignal<[RolloutControlRequest?]>('resume');
/** Stop and roll back everything the rollout changed. */
export const abortRolloutSignal = defineSignal<[RolloutControlRequest?]>('abort');
/** End the current pause (timed, indefinite, inconclusive analysis or promotion gate). */
export const promoteRolloutSignal = defineSignal<[RolloutControlRequest?]>('promote');
/** Skip every remaining step and analysis and promote now. */
export const promoteFullRolloutSignal = defineSignal<[RolloutControlRequest?]>('promoteFull');

// Updates for the API: their validators answer synchronously when the action cannot apply.
export const pauseRolloutUpdate = defineUpdate<RolloutControlResult, [RolloutControlRequest]>('pauseRollout');
export const resumeRolloutUpdate = defineUpdate<RolloutControlResult, [RolloutControlRequest]>(
  'resumeRollout',
);
export const abortRolloutUpdate = defineUpdate<RolloutControlResult, [RolloutControlRequest]>('abortRollout');
export const promoteRolloutUpdate = defineUpdate<RolloutControlResult, [PromoteRequest]>('promoteRollout');
