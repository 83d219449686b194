import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PlanActivities, StepDecision, StepOutcome } from '../activities/index.ts';
import {
  PlanPhase,
  StepPhase,
  TERMINAL_PLAN_PHASES,
  workloadKey,
  type ActionPlan,
  type PlanStatus,
  type PlanStep,
} from '../domain/plan.ts';
import {
  abortPlanSignal,
  abortPlanUpdate,
  pausePlanSignal,
  pausePlanUpdate,
  planStatusQuery,
  resumePlanSignal,
  resumePlanUpdate,
  type ControlRequest,
  type ControlResult,
} from '../domain/plan-messages.ts';
import { SearchAttributes } from '../domain/search-attributes.ts';

// Bookkeeping (status rows, audit) retries until it succeeds; it never changes a cluster.
const bookkeeping = proxyActivities<PlanActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// Policy evaluation reads live context; denials are decisions, not failures.
const policyGate = proxyActivities<PlanActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
  },
});

// Mutations heartbeat while they wait for the rollout, so a dead worker is noticed quickly
// and the step moves to another worker; the driver makes the repeat a no-op.
const kubernetes = proxyActivities<PlanActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 8,
    nonRetryableErrorTypes: ['KubeNonRetryable', 'PolicyDenied', 'ValidationError'],
  },
});

/** A completed step's undo, kept in the order steps ran. */
interface Compensation {
  stepIndex: number;
  inverse: PlanStep;
}

/** The state of one plan execution; handlers are methods, the workflow function wires them. */
class PlanExecution {
  readonly status: PlanStatus;
  readonly compensations: Compensation[] = [];
  paused = false;
  abortRequest: ControlRequest | undefined;

  constructor(readonly plan: ActionPlan) {
    this.status = {
      planId: plan.id,
      phase: PlanPhase.Pending,
      mode: plan.mode,
      currentStep: null,
      steps: plan.steps.map((step, index) => ({
        index,
        verb: step.verb,
        workload: workloadKey(step.target),
        phase: StepPhase.Pending,
      })),
      decisions: [],
      waitingFor: null,
      message: null,
      updatedAt: new Date().toISOString(),
    };
  }

  get finished(): boolean {
    return TERMINAL_PLAN_PHASES.has(this.status.phase);
  }

  async setPhase(phase: PlanStatus['phase'], message: string | null = this.status.message): Promise<void> {
    this.status.phase = phase;
    this.status.message = message;
    this.status.updatedAt = new Date().toISOString();
    upsertSearchAttributes([{ key: SearchAttributes.phase, value: phase }]);
    await bookkeeping.recordPlanStatus(this.status);
  }

  pause(request: ControlRequest = {}): ControlResult {
    if (this.finished) return this.reject('pause');
    this.paused = true;
    log.info('plan pause requested', { actor: request.actor });
    return { accepted: true, phase: this.status.phase, message: 'the plan pauses before its next step' };
  }

  resume(request: ControlRequest = {}): ControlResult {
    if (this.finished) return this.reject('resume');
    this.paused = false;
    log.info('plan resume requested', { actor: request.actor });
    return { accepted: true, phase: this.status.phase, message: 'resumed' };
  }

  abort(request: ControlRequest = {}): ControlResult {
    if (this.finished) return this.reject('abort');
    this.abortRequest = {
      actor: request.actor ?? 'unknown',
      reason: request.reason ?? 'aborted by operator',
    };
    return {
      accepted: true,
      phase: this.status.phase,
      message: 'abort accepted; completed steps will be rolled back',
    };
  }

  validateControl(): void {
    if (this.finished) {
      throw ApplicationFailure.create({
        type: 'PlanFinished',
        message: `plan ${this.plan.id} already ended as ${this.status.phase}`,
        nonRetryable: true,
      });
    }
  }

  private reject(action: string): ControlResult {
    return {
      accepted: false,
      phase: this.status.phase,
      message: `cannot ${action}: plan already ${this.status.phase}`,
    };
  }
}

/** Outcome of {@link actionPlanWorkflow}. */
export type PlanResult = PlanStatus;

/**
 * Runs an ActionPlan: for each step, check TTL, pause and abort, evaluate policy, apply the
 * change (or dry-run it in shadow mode), audit it, and remember its inverse. A failed step
 * or an abort runs the inverses of completed steps in reverse, uncancellable.
 */
export async function actionPlanWorkflow(plan: ActionPlan): Promise<PlanResult> {
  const run = new PlanExecution(plan);
  setHandler(planStatusQuery, () => run.status);
  setHandler(pausePlanSignal, (req) => void run.pause(req));
  setHandler(resumePlanSignal, (req) => void run.resume(req));
  setHandler(abortPlanSignal, (req) => void run.abort(req));
  setHandler(pausePlanUpdate, (req) => run.pause(req), {
    validator: (_req: ControlRequest) => run.validateControl(),
  });
  setHandler(resumePlanUpdate, (req) => run.resume(req), {
    validator: (_req: ControlRequest) => run.validateControl(),
  });
  setHandler(abortPlanUpdate, (req) => run.abort(req), {
    validator: (_req: ControlRequest) => run.validateControl(),
  });

  await bookkeeping.recordPlanSubmitted({ plan, workflowId: workflowInfo().workflowId });

  try {
    await runSteps(run);
  } catch (err) {
    if (isCancellation(err)) {
      run.abortRequest ??= { actor: 'temporal', reason: 'workflow cancelled' };
    } else {
      const message = err instanceof Error ? err.message : String(err);
      await compensate(run, `step ${run.status.currentStep ?? '?'} failed: ${message}`, PlanPhase.Failed);
      return run.status;
    }
  }
  if (run.abortRequest && !run.finished) {
    await compensate(
      run,
      `aborted by ${run.abortRequest.actor}: ${run.abortRequest.reason}`,
      PlanPhase.Aborted,
    );
  }
  return run.status;
}

async function runSteps(run: PlanExecution): Promise<void> {
  const { plan } = run;
  await run.setPhase(PlanPhase.Running, null);
  for (const [index, step] of plan.steps.entries()) {
    if (run.paused) {
      run.status.waitingFor = 'resume (the plan is paused)';
      await run.setPhase(PlanPhase.Paused);
      await condition(() => !run.paused || run.abortRequest !== undefined);
      run.status.waitingFor = null;
      await run.setPhase(PlanPhase.Running);
    }
    if (run.abortRequest) return;
    if (plan.notAfter !== undefined && Date.now() > Date.parse(plan.notAfter)) {
      await run.setPhase(
        PlanPhase.Expired,
        `notAfter ${plan.notAfter} passed before step ${index}; nothing more applied`,
      );
      return;
    }
    run.status.currentStep = index;
    upsertSearchAttributes([{ key: SearchAttributes.step, value: index }]);
    const stepStatus = run.status.steps[index]!;
    stepStatus.phase = StepPhase.Running;

    const decision: StepDecision = await policyGate.evaluateStep({ plan, stepIndex: index });
    run.status.decisions.push({
      stepIndex: index,
      result: decision.result,
      violations: decision.violations.map((v) => ({ policyId: v.policyId, message: v.message })),
      at: new Date().toISOString(),
    });
    if (decision.result === 'deny') {
      stepStatus.phase = StepPhase.Denied;
      stepStatus.message = decision.violations.map((v) => v.message).join('; ');
      await bookkeeping.appendAuditRecord({ plan, stepIndex: index, event: 'step.denied', decision });
      // Nothing of a denied plan may stay applied: undo earlier steps, then report the denial.
      await compensate(run, `step ${index} denied by policy: ${stepStatus.message}`, PlanPhase.Denied);
      return;
    }

    const outcome = await applyWithBaseline(plan, index, step);
    stepStatus.phase = plan.mode === 'shadow' ? StepPhase.Shadowed : StepPhase.Applied;
    stepStatus.change = outcome.change;
    if (outcome.changed && plan.mode !== 'shadow')
      run.compensations.push({ stepIndex: index, inverse: outcome.inverse });
    await bookkeeping.appendAuditRecord({
      plan,
      stepIndex: index,
      event: plan.mode === 'shadow' ? 'step.shadowed' : 'step.applied',
      decision,
      outcome,
    });
  }
  if (run.abortRequest) return;
  run.status.currentStep = null;
  await run.setPhase(PlanPhase.Succeeded, plan.mode === 'shadow' ? 'shadow run: nothing was changed' : null);
}

/**
 * A server-side dry run first records, in the workflow history, what the step will change
 * and how to undo it; then the real change runs (skipped in shadow mode). If the worker
 * dies after the change, the retried activity finds nothing left to do, and the change and
 * inverse still come from the recorded baseline rather than from the no-op retry.
 */
async function applyWithBaseline(plan: ActionPlan, stepIndex: number, step: PlanStep): Promise<StepOutcome> {
  const baseline = await kubernetes.applyStep({ plan, stepIndex, step, dryRun: true });
  if (plan.mode === 'shadow' || !baseline.changed) return baseline;
  const applied = await kubernetes.applyStep({ plan, stepIndex, step, dryRun: false });
  return { ...applied, changed: true, change: baseline.change, inverse: baseline.inverse };
}

/**
 * Runs recorded inverses newest first. Non-cancellable so that an abort or a cancelled
 * workflow cannot interrupt its own rollback.
 */
async function compensate(
  run: PlanExecution,
  reason: string,
  phaseWithoutUndo: PlanStatus['phase'],
): Promise<void> {
  if (run.compensations.length === 0) {
    await run.setPhase(phaseWithoutUndo, reason);
    return;
  }
  await CancellationScope.nonCancellable(async () => {
    await run.setPhase(PlanPhase.Running, `${reason}; rolling back ${run.compensations.length} step(s)`);
    const failures: string[] = [];
    for (const { stepIndex, inverse } of [...run.compensations].reverse()) {
      try {
        const outcome = await kubernetes.applyStep({
          plan: run.plan,
          stepIndex,
          step: inverse,
          dryRun: false,
          compensation: true,
        });
        run.status.steps[stepIndex]!.phase = StepPhase.Compensated;
        await bookkeeping.appendAuditRecord({
          plan: run.plan,
          stepIndex,
          event: 'step.compensated',
          outcome,
          compensates: inverse,
        });
      } catch (err) {
        failures.push(`step ${stepIndex}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    run.compensations.length = 0;
    if (failures.length > 0) {
      await run.setPhase(PlanPhase.RollbackFailed, `${reason}; rollback failed: ${failures.join('; ')}`);
    } else {
      await run.setPhase(
        phaseWithoutUndo === PlanPhase.Failed ? PlanPhase.RolledBack : phaseWithoutUndo,
        `${reason}; rolled back`,
      );
    }
  });
}
