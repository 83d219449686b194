import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TemporalFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PlanActivities, StepDecision, StepOutcome } from '../activities/index.ts';
import { lockGrantedSignal, releaseLockSignal, workloadLockWorkflowId } from '../domain/lock-messages.ts';
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
import { toStorableText } from '../domain/strings.ts';

// Bookkeeping (status rows, audit, lock requests) and policy evaluation run as local
// activities: they are short, idempotent and need no heartbeat, and skipping the server
// round trip per activity is most of a plan's latency. They ride out a database restart
// (12 attempts, about 3.5 minutes), but not forever: a write that can never succeed fails the
// plan with its reason, at once when the database refuses the data itself ('DataRejected').
const bookkeeping = proxyLocalActivities<PlanActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 12,
    nonRetryableErrorTypes: ['DataRejected', 'KubeNonRetryable'],
  },
});

// Policy evaluation reads live context; denials are decisions, not failures.
const policyGate = proxyLocalActivities<PlanActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['DataRejected', 'KubeNonRetryable'],
  },
});

// Mutations heartbeat while they wait for the rollout, so a dead worker is noticed quickly
// and the step moves to another worker; the driver makes the repeat a no-op.
// An abort waits for the change in flight to acknowledge its cancellation, so compensation
// never races a write that is still going on.
const kubernetes = proxyActivities<PlanActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 8,
    nonRetryableErrorTypes: ['KubeNonRetryable', 'PolicyDenied', 'ValidationError'],
  },
});

/** A step's undo, kept in the order steps ran. */
interface Compensation {
  stepIndex: number;
  inverse: PlanStep;
}

/** The state of one plan execution; handlers are methods, the workflow function wires them. */
class PlanExecution {
  readonly status: PlanStatus;
  readonly compensations: Compensation[] = [];
  /** Workloads this plan changes, in the order locks are taken (sorted: no deadlocks). */
  readonly workloads: string[];
  readonly granted = new Set<string>();
  readonly requested = new Set<string>();
  paused = false;
  abortRequest: ControlRequest | undefined;
  /** The scope of the Kubernetes change in flight, cancelled by an abort. */
  stepScope: CancellationScope | undefined;

  constructor(readonly plan: ActionPlan) {
    this.workloads = [...new Set(plan.steps.map((s) => workloadKey(s.target)))].sort();
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

  get expired(): boolean {
    return this.plan.notAfter !== undefined && Date.now() > Date.parse(this.plan.notAfter);
  }

  async setPhase(phase: PlanStatus['phase'], message: string | null = this.status.message): Promise<void> {
    this.enterPhase(phase, message);
    await bookkeeping.recordPlanStatus(this.status);
  }

  /**
   * The in-memory half of {@link setPhase}. A plan that ends failed leaves no step shown as
   * still running: the step in flight is the one that failed.
   */
  enterPhase(phase: PlanStatus['phase'], message: string | null): void {
    this.status.phase = phase;
    this.status.message = message;
    this.status.updatedAt = new Date().toISOString();
    if (FAILED_PLAN_PHASES.has(phase)) {
      for (const step of this.status.steps) {
        if (step.phase !== StepPhase.Running) continue;
        step.phase = StepPhase.Failed;
        step.message ??= message ?? undefined;
      }
    }
    upsertSearchAttributes([{ key: SearchAttributes.phase, value: phase }]);
  }

  /**
   * Ends the plan `Failed` because its own bookkeeping cannot be done (the database refuses
   * what it is given, or stayed unreachable through every retry). Recording that end is
   * tried once more; the workflow's status query and result carry it either way.
   */
  async failOnBookkeeping(err: TemporalFailure): Promise<void> {
    const reason = `bookkeeping failed: ${failureMessage(err)}`;
    log.error('plan bookkeeping failed; the plan ends Failed', { error: reason });
    if (!this.finished) this.enterPhase(PlanPhase.Failed, reason);
    else this.status.message = `${this.status.message ?? this.status.phase}; ${reason}`;
    try {
      await bookkeeping.recordPlanStatus(this.status);
    } catch (again) {
      log.warn('recording the failed plan failed too', { error: String(again) });
    }
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
    this.abortRequest ??= {
      actor: toStorableText(request.actor ?? 'unknown'),
      reason: toStorableText(request.reason ?? 'aborted by operator'),
    };
    this.stepScope?.cancel();
    return {
      accepted: true,
      phase: this.status.phase,
      message: 'abort accepted; the step in flight stops and completed steps are rolled back',
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

/** Terminal phases of a plan that did not do what it was asked. */
const FAILED_PLAN_PHASES: ReadonlySet<PlanStatus['phase']> = new Set([
  PlanPhase.Failed,
  PlanPhase.RolledBack,
  PlanPhase.RollbackFailed,
  PlanPhase.Denied,
  PlanPhase.Expired,
]);

/** Outcome of {@link actionPlanWorkflow}. */
export type PlanResult = PlanStatus;

/**
 * Runs an ActionPlan: take the lock of every workload it changes (highest priority first),
 * then for each step check TTL, pause and abort, evaluate policy, apply the change (or
 * dry-run it in shadow mode), audit it, and remember its inverse. A failed step or an abort
 * runs the inverses of earlier steps in reverse, uncancellable.
 */
export async function actionPlanWorkflow(plan: ActionPlan): Promise<PlanResult> {
  const run = new PlanExecution(plan);
  setHandler(planStatusQuery, () => run.status);
  setHandler(pausePlanSignal, (req) => void run.pause(req));
  setHandler(resumePlanSignal, (req) => void run.resume(req));
  setHandler(abortPlanSignal, (req) => void run.abort(req));
  const validator = { validator: (_req: ControlRequest) => run.validateControl() };
  setHandler(pausePlanUpdate, (req) => run.pause(req), validator);
  setHandler(resumePlanUpdate, (req) => run.resume(req), validator);
  setHandler(abortPlanUpdate, (req) => run.abort(req), validator);
  setHandler(lockGrantedSignal, (grant) => void run.granted.add(grant.workload));

  try {
    await bookkeeping.recordPlanSubmitted({ plan, workflowId: workflowInfo().workflowId });
    try {
      if (await acquireLocks(run)) await runStepsWithCompensation(run);
    } finally {
      await CancellationScope.nonCancellable(() => releaseLocks(run));
    }
  } catch (err) {
    // Only a bookkeeping activity's failure reaches here (step failures are compensated):
    // retrying it longer cannot help, so the plan ends with the reason instead of looping.
    if (!(err instanceof TemporalFailure) || isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(() => run.failOnBookkeeping(err));
  }
  return run.status;
}

/**
 * Asks each workload's lock for a turn and waits for all grants. Shadow plans change
 * nothing and take no locks. Returns false when the plan ended while waiting.
 */
async function acquireLocks(run: PlanExecution): Promise<boolean> {
  if (run.plan.mode === 'shadow') return true;
  const requesterId = workflowInfo().workflowId;
  for (const workload of run.workloads) {
    run.requested.add(workload);
    await bookkeeping.requestWorkloadLock({
      workload,
      request: { requesterId, planId: run.plan.id, priority: run.plan.priority },
    });
    // Most grants arrive at once; only a plan that really queues is shown as Waiting.
    if (await condition(() => run.granted.has(workload), '2 seconds')) continue;
    run.status.waitingFor = `its turn on ${workload}: plans on one workload run one at a time, highest priority first`;
    await run.setPhase(PlanPhase.Waiting);
    const ended = () => run.granted.has(workload) || run.abortRequest !== undefined;
    const granted =
      run.plan.notAfter === undefined
        ? await condition(ended).then(() => true)
        : await condition(ended, Math.max(0, Date.parse(run.plan.notAfter) - Date.now()));
    run.status.waitingFor = null;
    if (run.abortRequest) {
      await run.setPhase(PlanPhase.Aborted, abortMessage(run));
      return false;
    }
    if (!granted) {
      await run.setPhase(
        PlanPhase.Expired,
        `notAfter ${run.plan.notAfter} passed while waiting for ${workload}`,
      );
      return false;
    }
  }
  return true;
}

/** Gives back every lock asked for, granted or still queued. */
async function releaseLocks(run: PlanExecution): Promise<void> {
  const requesterId = workflowInfo().workflowId;
  for (const workload of run.requested) {
    try {
      await getExternalWorkflowHandle(workloadLockWorkflowId(workload)).signal(releaseLockSignal, {
        requesterId,
      });
    } catch (err) {
      // A lock workflow that is gone holds nothing.
      log.warn('releasing workload lock failed', { workload, error: String(err) });
    }
  }
}

async function runStepsWithCompensation(run: PlanExecution): Promise<void> {
  try {
    await runSteps(run);
  } catch (err) {
    if (!isCancellation(err) || !run.abortRequest) {
      const message = failureMessage(err);
      await compensate(run, `step ${run.status.currentStep ?? '?'} failed: ${message}`, PlanPhase.Failed);
      return;
    }
  }
  if (run.abortRequest && !run.finished) await compensate(run, abortMessage(run), PlanPhase.Aborted);
}

/**
 * The root message of an activity failure (an ActivityFailure wraps the real cause; a local
 * activity's failure is the ApplicationFailure itself), made storable: it ends up in the
 * plan's status row, and an error may quote the very input the database refused.
 */
function failureMessage(err: unknown): string {
  if (!(err instanceof Error)) return toStorableText(String(err));
  const root = err instanceof ActivityFailure && err.cause instanceof Error ? err.cause : err;
  return toStorableText(root.message);
}

function abortMessage(run: PlanExecution): string {
  return `aborted by ${run.abortRequest?.actor ?? 'unknown'}: ${run.abortRequest?.reason ?? ''}`;
}

async function runSteps(run: PlanExecution): Promise<void> {
  const { plan } = run;
  await run.setPhase(PlanPhase.Running, null);
  for (const [index, step] of plan.steps.entries()) {
    if (run.paused && !run.abortRequest) {
      run.status.waitingFor = 'resume (the plan is paused)';
      await run.setPhase(PlanPhase.Paused);
      await condition(() => !run.paused || run.abortRequest !== undefined);
      run.status.waitingFor = null;
      await run.setPhase(PlanPhase.Running);
    }
    if (run.abortRequest) return;
    if (run.expired) {
      await compensate(run, `notAfter ${plan.notAfter} passed before step ${index}`, PlanPhase.Expired);
      return;
    }
    run.status.currentStep = index;
    upsertSearchAttributes([{ key: SearchAttributes.step, value: index }]);
    const stepStatus = run.status.steps[index]!;
    stepStatus.phase = StepPhase.Running;

    // Everything a step does runs in one scope that an abort cancels.
    run.stepScope = new CancellationScope();
    let decision: StepDecision;
    try {
      decision = await run.stepScope.run(() => policyGate.evaluateStep({ plan, stepIndex: index }));
    } catch (err) {
      if (!isCancellation(err)) {
        stepStatus.phase = StepPhase.Failed;
        stepStatus.message = `policy evaluation failed: ${failureMessage(err)}`;
      }
      throw err;
    }
    run.status.decisions.push({
      stepIndex: index,
      result: decision.result,
      violations: decision.violations.map((v) => ({ policyId: v.policyId, message: v.message })),
      at: new Date().toISOString(),
    });
    if (decision.result === 'deny') {
      stepStatus.phase = StepPhase.Denied;
      stepStatus.message = decision.violations
        .filter((v) => v.enforced)
        .map((v) => v.message)
        .join('; ');
      await bookkeeping.appendAuditRecord({ plan, stepIndex: index, event: 'step.denied', decision });
      // Nothing of a denied plan may stay applied: undo earlier steps, then report the denial.
      await compensate(run, `step ${index} denied by policy: ${stepStatus.message}`, PlanPhase.Denied);
      return;
    }

    let outcome: StepOutcome;
    try {
      outcome = await applyWithBaseline(run, index, step, decision);
    } catch (err) {
      if (!isCancellation(err)) {
        stepStatus.phase = StepPhase.Failed;
        stepStatus.message = failureMessage(err);
        await bookkeeping.appendAuditRecord({
          plan,
          stepIndex: index,
          event: 'step.failed',
          decision,
          error: stepStatus.message,
        });
      }
      throw err;
    } finally {
      run.stepScope = undefined;
    }
    stepStatus.phase =
      plan.mode === 'shadow' ? StepPhase.Shadowed : outcome.changed ? StepPhase.Applied : StepPhase.Unchanged;
    stepStatus.change = outcome.change;
    if (!outcome.changed && plan.mode !== 'shadow')
      stepStatus.message = 'nothing to change: the workload was already in the requested state';
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
 * and how to undo it; the undo is registered before the real change runs, so an abort or a
 * crash at any point can still compensate. If the worker dies after the change, the retried
 * activity finds nothing left to do, and the change and inverse still come from the
 * recorded baseline rather than from the no-op retry.
 */
async function applyWithBaseline(
  run: PlanExecution,
  stepIndex: number,
  step: PlanStep,
  decision: StepDecision,
): Promise<StepOutcome> {
  const { plan } = run;
  const scope = run.stepScope!;
  const baseline = await scope.run(() => kubernetes.applyStep({ plan, stepIndex, step, dryRun: true }));
  if (plan.mode === 'shadow') return baseline;
  // The dry run comes before this step writes anything: "no change" means the step changes
  // nothing, whatever a driver's no-op reports about earlier operations.
  if (!baseline.changed) return { ...baseline, change: {} };
  run.compensations.push({ stepIndex, inverse: baseline.inverse });
  try {
    const applied = await scope.run(() => kubernetes.applyStep({ plan, stepIndex, step, dryRun: false }));
    return { ...applied, changed: true, change: baseline.change, inverse: baseline.inverse };
  } catch (err) {
    if (isCancellation(err)) {
      // The change may have landed before the abort: the audit says so, and compensation follows.
      await CancellationScope.nonCancellable(() =>
        bookkeeping.appendAuditRecord({
          plan,
          stepIndex,
          event: 'step.cancelled',
          decision,
          outcome: baseline,
        }),
      );
    }
    throw err;
  }
}

/**
 * Runs recorded inverses newest first. Non-cancellable so that an abort or a cancelled
 * workflow cannot interrupt its own rollback. An inverse of a change that never landed is a
 * no-op: the driver compares live state first.
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
        failures.push(`step ${stepIndex}: ${failureMessage(err)}`);
      }
    }
    run.compensations.length = 0;
    if (failures.length > 0) {
      await run.setPhase(PlanPhase.RollbackFailed, `${reason}; rollback failed: ${failures.join('; ')}`);
    } else {
      const phase = phaseWithoutUndo === PlanPhase.Failed ? PlanPhase.RolledBack : phaseWithoutUndo;
      await run.setPhase(phase, `${reason}; rolled back`);
    }
  });
}
