import type { PlanStep } from '../domain/plan.ts';
import {
  rescheduleWorkload,
  rollbackWorkload,
  scaleWorkload,
  updateWorkload,
  type ClusterRegistry,
  type MutationResult,
} from '../k8s/index.ts';
import type { StepOutcome } from './plan-activities.ts';

/** How a step runs: dry run or not, which plan, and how to report liveness while waiting. */
export interface StepRunOptions {
  dryRun: boolean;
  planId: string;
  /** Idempotency key of this step's change (e.g. `plan/p1/step/2`), so a retry recognises its own work. */
  operationId: string;
  /** A retried attempt, which may find its own earlier attempt's change in place (see `MutationOptions.resumed`). */
  resumed?: boolean;
  heartbeat: (details?: unknown) => void;
  cancelled: Promise<never>;
}

/**
 * Applies one plan step through the driver and describes what happened in plan terms: the
 * change, the inverse step that undoes it, and the Kubernetes request for the audit.
 */
export async function applyPlanStep(
  clusters: ClusterRegistry,
  step: PlanStep,
  options: StepRunOptions,
): Promise<StepOutcome> {
  const controller = new AbortController();
  options.cancelled.catch(() => controller.abort());
  // Heartbeat on a timer as well as on rollout progress: a rollout can sit still for longer
  // than the heartbeat timeout (pods pulling images) without anything being wrong.
  const ticker = setInterval(() => options.heartbeat(), 3_000);
  const common = {
    dryRun: options.dryRun,
    planId: options.planId,
    operationId: options.operationId,
    resumed: options.resumed ?? false,
    signal: controller.signal,
    wait: {
      timeoutMs: STEP_ROLLOUT_TIMEOUT_MS,
      onProgress: (progress: unknown) => options.heartbeat(progress),
    },
  };
  try {
    return await runVerb(clusters, step, common, options.dryRun);
  } finally {
    clearInterval(ticker);
  }
}

/** How long a step waits for its rollout before failing (and being retried by Temporal). */
const STEP_ROLLOUT_TIMEOUT_MS = 5 * 60_000;

async function runVerb(
  clusters: ClusterRegistry,
  step: PlanStep,
  common: Parameters<typeof scaleWorkload>[3],
  dryRun: boolean,
): Promise<StepOutcome> {
  const request = { verb: step.verb, target: step.target, params: step.params, dryRun };
  let result: MutationResult;
  switch (step.verb) {
    case 'scale':
      result = await scaleWorkload(clusters, step.target, step.params, common);
      break;
    case 'update':
      result = await updateWorkload(clusters, step.target, step.params, common);
      break;
    case 'rollback':
      result = await rollbackWorkload(clusters, step.target, step.params, common);
      break;
    case 'reschedule':
      result = await rescheduleWorkload(clusters, step.target, step.params, common);
      break;
  }
  return {
    changed: result.changed,
    dryRun: result.dryRun,
    change: changeSummary(result),
    inverse: { ...result.inverse, target: step.target } as PlanStep,
    request,
    ...(result.diff ? { diff: result.diff } : {}),
  };
}

/** `{ field: { from, to } }` for every field the driver reports as changed. */
function changeSummary(result: MutationResult): Record<string, unknown> {
  const change: Record<string, unknown> = {};
  const previous = result.previous as Record<string, unknown>;
  const applied = result.applied as Record<string, unknown>;
  for (const key of Object.keys(applied)) {
    if (JSON.stringify(previous[key]) !== JSON.stringify(applied[key]))
      change[key] = { from: previous[key], to: applied[key] };
  }
  return change;
}
