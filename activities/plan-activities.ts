import { Context, ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { acquireLockSignal, workloadLockWorkflowId, type LockRequest } from '../domain/lock-messages.ts';
import type { ActionPlan, PlanStatus, PlanStep } from '../domain/plan.ts';
import { TERMINAL_PLAN_PHASES, workloadKey } from '../domain/plan.ts';
import { PLAN_TASK_QUEUE, planWorkflowId } from '../domain/plan-messages.ts';
import type { ClusterRegistry } from '../k8s/index.ts';
import { isRetryableKubeError, KubeError } from '../k8s/index.ts';
import type { SentinelMetrics } from '../metrics/registry.ts';
import {
  decisionDigest,
  evaluate,
  type PolicyAction,
  type PolicyContext,
  type PolicyDocument,
} from '../policy/index.ts';
import { appendAudit } from '../store/audit.ts';
import { isDataRejectedError } from '../store/errors.ts';
import type { Database } from '../store/database.ts';
import { contentDigest } from '../store/digest.ts';
import { insertPlan, markPlanFinished, updatePlanStatus } from '../store/plans.ts';
import { listCurrentPolicies } from '../store/policies.ts';
import { applyPlanStep } from './kubernetes-steps.ts';
import { describeStepForPolicy, type PolicyInputSources } from './policy-inputs.ts';

/** What the plan activities need from the process that hosts them. */
export interface PlanActivityDeps extends PolicyInputSources {
  db: Database;
  clusters: ClusterRegistry;
  /** Used to reach the per-workload lock workflows. */
  temporal: Client;
  metrics?: SentinelMetrics;
  /** Policies in force; defaults to the current versions stored in the database. */
  loadPolicies?: () => Promise<PolicyDocument[]>;
}

/** A policy decision for one step, with everything needed to re-verify it later. */
export interface StepDecision {
  result: 'allow' | 'deny' | 'warn';
  violations: { policyId: string; version: number; message: string; enforced: boolean }[];
  /** Every policy in force when the decision was made (id and version). */
  policyRefs: { id: string; version: number }[];
  matchedPolicies: { id: string; version: number }[];
  inputDigest: string;
  action: PolicyAction;
  context: PolicyContext;
}

/** What applying (or dry-running) one step did, and how to undo it. */
export interface StepOutcome {
  changed: boolean;
  dryRun: boolean;
  /** What changed, e.g. `{ replicas: { from: 2, to: 5 } }`. */
  change: Record<string, unknown>;
  /** The step that undoes this one. */
  inverse: PlanStep;
  /** The Kubernetes request made, for the audit. */
  request: Record<string, unknown>;
  diff?: string;
}

export interface AuditRequest {
  plan: ActionPlan;
  stepIndex: number;
  event:
    'step.applied' | 'step.shadowed' | 'step.denied' | 'step.failed' | 'step.cancelled' | 'step.compensated';
  /** Why the step failed, for `step.failed`. */
  error?: string;
  decision?: StepDecision;
  outcome?: StepOutcome;
  compensates?: PlanStep;
}

/**
 * The failure type of a bookkeeping activity whose input the database refuses: the same
 * call can never succeed, so the workflow fails the plan with the reason instead of retrying.
 */
export const DATA_REJECTED_FAILURE = 'DataRejected';

/**
 * Runs one bookkeeping write; an error that no retry can cure (the database refuses the
 * data, an unknown cluster, a driver error marked non-retryable) becomes a non-retryable
 * ApplicationFailure carrying the reason, so the workflow ends instead of retrying forever.
 */
async function failingFastOnPoison<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isDataRejectedError(err)) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      throw ApplicationFailure.create({
        type: DATA_REJECTED_FAILURE,
        message: `the database refused ${what}: ${cause instanceof Error ? cause.message : String(cause)}`,
        nonRetryable: true,
        cause: err instanceof Error ? err : undefined,
      });
    }
    throw nonRetryableKubeFailure(err);
  }
}

/** A driver error that no retry can cure, as a non-retryable `KubeNonRetryable` failure; others unchanged. */
function nonRetryableKubeFailure(err: unknown): unknown {
  if (err instanceof KubeError && !isRetryableKubeError(err)) {
    return ApplicationFailure.create({
      type: 'KubeNonRetryable',
      message: err.message,
      nonRetryable: true,
      details: [{ code: err.code }],
      cause: err,
    });
  }
  return err;
}

/**
 * The plan workflow's side effects. Every one is safe to retry: rows are upserted by plan
 * id, audit records by a key per event, and Kubernetes steps compare live state first.
 */
export function createPlanActivities(deps: PlanActivityDeps) {
  const loadPolicies = deps.loadPolicies ?? (() => listCurrentPolicies(deps.db));

  return {
    async recordPlanSubmitted(input: { plan: ActionPlan; workflowId: string }): Promise<void> {
      await failingFastOnPoison('the plan row', () =>
        insertPlan(deps.db, input.plan, {
          workflowId: input.workflowId,
          digest: contentDigest(input.plan),
          phase: 'Pending',
        }),
      );
    },

    async recordPlanStatus(status: PlanStatus): Promise<void> {
      await failingFastOnPoison('the plan status', async () => {
        if (TERMINAL_PLAN_PHASES.has(status.phase)) {
          // Only the transition into a terminal phase counts, so a retried activity observes once.
          const finished = await markPlanFinished(deps.db, status);
          if (finished && deps.metrics) {
            const seconds = (Date.parse(status.updatedAt) - Date.parse(finished.createdAt)) / 1000;
            deps.metrics.planApplySeconds.observe(
              { verb: finished.verbs, outcome: status.phase },
              Math.max(0, seconds),
            );
            deps.metrics.plansFinished.inc({ phase: status.phase });
          }
          return;
        }
        await updatePlanStatus(deps.db, status);
      });
    },

    async evaluateStep(input: { plan: ActionPlan; stepIndex: number }): Promise<StepDecision> {
      return failingFastOnPoison('a policy input query', async () => {
        const step = input.plan.steps[input.stepIndex]!;
        const policies = await loadPolicies();
        const { action, context } = await describeStepForPolicy(deps, input.plan, step, new Date(), policies);
        const decision = evaluate(action, context, policies);
        deps.metrics?.policyDecisions.inc({ result: decision.result });
        return {
          result: decision.result,
          violations: decision.violations.map((v) => ({
            policyId: v.policyId,
            version: v.version,
            message: v.message,
            enforced: v.enforced,
          })),
          // Every policy in force, not only those that matched: the verifier re-evaluates
          // against exactly this set and recomputes the input digest from it.
          policyRefs: policies.map((p) => ({ id: p.id, version: p.version })),
          matchedPolicies: decision.matchedPolicies.map((p) => ({ id: p.id, version: p.version })),
          inputDigest: decisionDigest(action, context, policies),
          action,
          context,
        };
      });
    },

    async applyStep(input: {
      plan: ActionPlan;
      stepIndex: number;
      step: PlanStep;
      dryRun: boolean;
      compensation?: boolean;
    }): Promise<StepOutcome> {
      try {
        const outcome = await applyPlanStep(deps.clusters, input.step, {
          dryRun: input.dryRun,
          planId: input.plan.id,
          operationId: `${planWorkflowId(input.plan.id)}/${input.compensation ? 'compensate' : 'step'}/${input.stepIndex}`,
          resumed: Context.current().info.attempt > 1,
          heartbeat: (details?: unknown) => Context.current().heartbeat(details),
          cancelled: Context.current().cancelled,
        });
        if (input.compensation) deps.metrics?.compensations.inc({ outcome: 'succeeded' });
        return outcome;
      } catch (err) {
        if (input.compensation) deps.metrics?.compensations.inc({ outcome: 'failed' });
        if (err instanceof KubeError && !isRetryableKubeError(err)) {
          throw ApplicationFailure.create({
            type: 'KubeNonRetryable',
            message: err.message,
            nonRetryable: true,
            details: [{ code: err.code }],
            cause: err,
          });
        }
        throw err;
      }
    },

    /** Queues the plan at the workload's lock, starting the lock workflow if none runs. */
    async requestWorkloadLock(input: { workload: string; request: LockRequest }): Promise<void> {
      await deps.temporal.workflow.signalWithStart('workloadLockWorkflow', {
        workflowId: workloadLockWorkflowId(input.workload),
        taskQueue: PLAN_TASK_QUEUE,
        args: [input.workload],
        signal: acquireLockSignal,
        signalArgs: [input.request],
      });
    },

    async appendAuditRecord(input: AuditRequest): Promise<{ seq: number; hash: string }> {
      return failingFastOnPoison('the audit record', async () => {
        const step = input.plan.steps[input.stepIndex]!;
        const row = await appendAudit(deps.db, {
          recordKey: `${planWorkflowId(input.plan.id)}/step/${input.stepIndex}/${input.event}`,
          planId: input.plan.id,
          stepIndex: input.stepIndex,
          kind: input.event,
          workload: workloadKey(step.target),
          actor: input.plan.requestedBy,
          at: new Date().toISOString(),
          body: {
            plan: {
              id: input.plan.id,
              mode: input.plan.mode,
              priority: input.plan.priority,
              reason: input.plan.reason,
            },
            step: input.compensates ?? step,
            ...(input.decision ? { decision: input.decision } : {}),
            ...(input.outcome ? { outcome: input.outcome } : {}),
            ...(input.error ? { error: input.error } : {}),
          },
        });
        return { seq: row.seq, hash: row.hash };
      });
    },
  };
}

/** The activity functions as the workflow sees them (types only). */
export type PlanActivities = ReturnType<typeof createPlanActivities>;
