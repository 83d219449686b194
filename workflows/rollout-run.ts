import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PlanActivities } from '../activities/plan-activities.ts';
import type {
  ChangeAudit,
  ChangeOutcome,
  RolloutActivities,
  RolloutBaseline,
  RolloutChange,
  RolloutRef,
} from '../activities/rollout-activities.ts';
import { lockGrantedSignal, releaseLockSignal, workloadLockWorkflowId } from '../domain/lock-messages.ts';
import {
  durationMs,
  PauseReason,
  rolloutId,
  RolloutPhase,
  RolloutStepPhase,
  rolloutWorkloadKey,
  TERMINAL_ROLLOUT_PHASES,
  type AnalysisRunStatus,
  type RolloutKind,
  type RolloutSpec,
  type RolloutStatus,
} from '../domain/rollout.ts';
import {
  abortRolloutSignal,
  abortRolloutUpdate,
  pauseRolloutSignal,
  pauseRolloutUpdate,
  promoteFullRolloutSignal,
  promoteRolloutSignal,
  promoteRolloutUpdate,
  resumeRolloutSignal,
  resumeRolloutUpdate,
  rolloutStatusQuery,
  type PromoteRequest,
  type RolloutControlAction,
  type RolloutControlRequest,
  type RolloutControlResult,
} from '../domain/rollout-messages.ts';
import { SearchAttributes } from '../domain/search-attributes.ts';
import { toStorableText } from '../domain/strings.ts';

// Bookkeeping (status events, audit, lock requests, capacity reads) never changes a cluster.
const bookkeeping = proxyActivities<RolloutActivities & Pick<PlanActivities, 'requestWorkloadLock'>>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    // Bounded like the plans' bookkeeping (about 3.5 minutes): a write that can never succeed
    // fails the rollout with its reason instead of retrying forever.
    maximumAttempts: 12,
    nonRetryableErrorTypes: ['RolloutInvalid', 'KubeNonRetryable', 'AnalysisNotConfigured', 'DataRejected'],
  },
});

// Changes are short (a read and a write; they never wait for pods) and always run to their
// end, even when an abort arrives meanwhile, so that compensation never races a write.
const kubernetes = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['RolloutInvalid', 'KubeNonRetryable'],
  },
});

// Waits for Ready pods heartbeat (a dead worker is noticed in seconds and the wait moves to
// another) and are abandoned at once by an abort: they change nothing.
const waits = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '25 hours',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    nonRetryableErrorTypes: ['ReadinessDeadlineExceeded', 'RolloutInvalid', 'KubeNonRetryable'],
  },
});

/** A change's undo, kept in the order the changes were made. */
interface Compensation {
  inverse: RolloutChange;
  /** The audit kind of the change it undoes. */
  undoes: string;
  stepIndex: number;
}

/** A step as the status lists it. */
export interface StepDescriptor {
  name: string;
  description: string;
}

/** How to find an inverse before a change runs: known, none, or from a server-side dry run. */
export type InverseSource = RolloutChange | null | 'dryRun';

// Histories recorded before each change was dry-run first (its intended change in the history,
// for the audit of a retried change) apply changes without it.
const RECORD_INTENDED_CHANGE_PATCH = 'record-intended-change';

// Histories recorded before a full promotion ended the running analyses kept them measuring.
const SKIP_ANALYSES_ON_PROMOTE_FULL_PATCH = 'skip-analyses-on-promote-full';

/** Who ended an analysis before it decided, and why (Argo's "terminated by user"). */
export interface AnalysisSkip {
  actor: string;
  reason: string;
}

/** A running analysis as the run sees it: something an operator's full promotion ends. */
export interface SkippableAnalysis {
  skip(by: AnalysisSkip): void;
}

// Histories recorded before a rollback waited for the pods each undo brought back ran the
// undos back to back.
const ROLLBACK_WAITS_READY_PATCH = 'rollback-waits-ready';

/** Thrown inside a rollout to roll it back: a failed analysis, or a readiness deadline. */
export class RolloutFailure extends Error {
  override readonly name = 'RolloutFailure';
}

/**
 * The state of one rollout run and the mechanics every strategy shares: operator control,
 * the workload lock, phases and search attributes, audited changes with recorded inverses,
 * compensation, pauses, GPU waits and readiness waits. Handlers are methods; the strategy
 * workflows (canary-rollout.ts, bluegreen-rollout.ts) drive it.
 */
export class RolloutRun {
  readonly status: RolloutStatus;
  readonly ref: RolloutRef;
  readonly compensations: Compensation[] = [];
  operatorPause: RolloutControlRequest | undefined;
  abortRequest: { actor: string; reason: string } | undefined;
  /** Why the rollout must roll back (a background analysis failed), once known. */
  failure: string | undefined;
  /** Every promote received; a pause ends when one arrives after it began. */
  promotions = 0;
  promoteFull = false;
  /** Analyses measuring right now (a step's, the background one, pre-/post-promotion). */
  readonly runningAnalyses = new Set<SkippableAnalysis>();
  /** Scope of the strategy's steps; cancelled by an abort or a failed background analysis. */
  stepsScope: CancellationScope | undefined;
  /** No rollback past this point: the new template is the stable one. */
  committed = false;
  private granted = false;
  private lockRequested = false;
  private seq = 0;

  constructor(
    readonly spec: RolloutSpec,
    readonly kind: RolloutKind,
    steps: StepDescriptor[],
  ) {
    const info = workflowInfo();
    const now = new Date().toISOString();
    this.ref = {
      workflowId: info.workflowId,
      runId: info.runId,
      rolloutId: rolloutId(spec.target),
      kind,
      target: spec.target,
      requestedBy: spec.requestedBy,
      reason: spec.reason,
    };
    this.status = {
      rolloutId: this.ref.rolloutId,
      workflowId: info.workflowId,
      kind,
      target: spec.target,
      phase: RolloutPhase.Pending,
      message: null,
      currentStep: null,
      steps: steps.map((s, index) => ({ index, ...s, phase: RolloutStepPhase.Pending })),
      weight: 0,
      replicas: { total: spec.replicas ?? 0, stable: 0, canary: 0 },
      activeSide: null,
      pause: null,
      waitingFor: null,
      analyses: [],
      abort: null,
      startedAt: now,
      updatedAt: now,
      finishedAt: null,
    };
  }

  get finished(): boolean {
    return TERMINAL_ROLLOUT_PHASES.has(this.status.phase);
  }

  /** An abort or a failure has stopped the steps. */
  get interrupted(): boolean {
    return this.abortRequest !== undefined || this.failure !== undefined;
  }

  /** Wires every query, signal and update to this run. */
  registerHandlers(): void {
    setHandler(rolloutStatusQuery, () => this.status);
    setHandler(pauseRolloutSignal, (req) => void this.pause(req));
    setHandler(resumeRolloutSignal, (req) => void this.resume(req));
    setHandler(abortRolloutSignal, (req) => void this.abort(req));
    setHandler(promoteRolloutSignal, (req) => void this.promote(req ?? {}));
    setHandler(promoteFullRolloutSignal, (req) => void this.promote({ ...req, full: true }));
    setHandler(pauseRolloutUpdate, (req) => this.pause(req), {
      validator: (_req: RolloutControlRequest) => this.validateControl('pause'),
    });
    setHandler(resumeRolloutUpdate, (req) => this.resume(req), {
      validator: (_req: RolloutControlRequest) => this.validateControl('resume'),
    });
    setHandler(abortRolloutUpdate, (req) => this.abort(req), {
      validator: (_req: RolloutControlRequest) => this.validateControl('abort'),
    });
    setHandler(promoteRolloutUpdate, (req) => this.promote(req), {
      validator: (req: PromoteRequest) => this.validateControl(req.full ? 'promoteFull' : 'promote'),
    });
    setHandler(lockGrantedSignal, () => void (this.granted = true));
  }

  // ------------------------------------------------------------------------- operator control

  /** Why `action` cannot apply now, or undefined when it can. */
  refusal(action: RolloutControlAction | 'promoteFull'): string | undefined {
    if (this.finished) return `rollout ${this.ref.rolloutId} already ended as ${this.status.phase}`;
    if (this.abortRequest || this.status.phase === RolloutPhase.RollingBack)
      return `rollout ${this.ref.rolloutId} is rolling back`;
    if (this.committed && action !== 'pause' && action !== 'resume')
      return `rollout ${this.ref.rolloutId} is promoting: the new template is already the stable one`;
    switch (action) {
      case 'pause':
        return this.operatorPause ? 'already paused by an operator' : undefined;
      case 'resume':
        return this.operatorPause ? undefined : 'not paused by an operator (a pause step needs promote)';
      case 'promote':
        if (this.operatorPause) return 'paused by an operator: resume it first';
        return this.status.pause && this.status.pause.reason !== PauseReason.operator
          ? undefined
          : 'nothing to promote: the rollout is not at a pause, an inconclusive analysis or a promotion gate (promote --full skips every remaining step)';
      default:
        return undefined;
    }
  }

  /** Update validator: rejects synchronously, with an ApplicationFailure, what cannot apply. */
  validateControl(action: RolloutControlAction | 'promoteFull'): void {
    const why = this.refusal(action);
    if (why)
      throw ApplicationFailure.create({ type: 'RolloutControlRejected', message: why, nonRetryable: true });
  }

  pause(request: RolloutControlRequest = {}): RolloutControlResult {
    const why = this.refusal('pause');
    if (why) return this.reject(why);
    this.operatorPause = {
      actor: toStorableText(request.actor ?? 'unknown'),
      reason: toStorableText(request.reason ?? 'paused by operator'),
    };
    log.info('rollout pause requested', { actor: request.actor });
    return this.accept('the rollout holds before its next step');
  }

  resume(request: RolloutControlRequest = {}): RolloutControlResult {
    const why = this.refusal('resume');
    if (why) return this.reject(why);
    this.operatorPause = undefined;
    log.info('rollout resume requested', { actor: request.actor });
    return this.accept('resumed');
  }

  abort(request: RolloutControlRequest = {}): RolloutControlResult {
    const why = this.refusal('abort');
    if (why) return this.reject(why);
    this.abortRequest = {
      actor: toStorableText(request.actor ?? 'unknown'),
      reason: toStorableText(request.reason ?? 'aborted by operator'),
    };
    this.status.abort = { ...this.abortRequest, at: new Date().toISOString() };
    this.stepsScope?.cancel();
    return this.accept('abort accepted: every change of the rollout is rolled back, newest first');
  }

  promote(request: PromoteRequest): RolloutControlResult {
    const why = this.refusal(request.full ? 'promoteFull' : 'promote');
    if (why) return this.reject(why);
    log.info('rollout promote requested', { actor: request.actor, full: request.full ?? false });
    if (request.full) {
      this.promoteFull = true;
      this.operatorPause = undefined;
      // The operator has decided: analyses still measuring end now, recorded as skipped, so
      // none of their later measurements can roll the rollout back.
      const by = {
        actor: toStorableText(request.actor ?? 'unknown'),
        reason: toStorableText(`promote --full${request.reason ? `: ${request.reason}` : ''}`),
      };
      if (patched(SKIP_ANALYSES_ON_PROMOTE_FULL_PATCH))
        for (const analysis of [...this.runningAnalyses]) analysis.skip(by);
      return this.accept('promoting fully: the remaining steps and analyses are skipped');
    }
    this.promotions++;
    return this.accept('the current pause ends');
  }

  private accept(message: string): RolloutControlResult {
    return { accepted: true, phase: this.status.phase, message };
  }

  private reject(message: string): RolloutControlResult {
    return { accepted: false, phase: this.status.phase, message: `refused: ${message}` };
  }

  // ------------------------------------------------------------------------- phases and steps

  touch(): void {
    this.status.updatedAt = new Date().toISOString();
  }

  /**
   * Moves to `phase` (search attribute and event when it changes) with `message`. Events and
   * metrics come from an activity, so only real transitions pay for one.
   */
  async setPhase(phase: RolloutPhase, message: string | null = this.status.message): Promise<void> {
    const from = this.status.phase;
    this.status.phase = phase;
    this.status.message = message;
    this.touch();
    if (TERMINAL_ROLLOUT_PHASES.has(phase)) {
      this.status.finishedAt = this.status.updatedAt;
      this.status.currentStep = null;
      this.status.waitingFor = null;
      this.status.pause = null;
    }
    if (from === phase) return;
    upsertSearchAttributes([{ key: SearchAttributes.phase, value: phase }]);
    await bookkeeping.recordRolloutPhase({ status: this.status, from });
  }

  beginStep(index: number): void {
    const step = this.status.steps[index]!;
    step.phase = RolloutStepPhase.Running;
    step.startedAt = new Date().toISOString();
    this.status.currentStep = index;
    this.touch();
    upsertSearchAttributes([{ key: SearchAttributes.step, value: index }]);
  }

  endStep(index: number, phase: RolloutStepPhase = RolloutStepPhase.Completed, message?: string): void {
    const step = this.status.steps[index]!;
    step.phase = phase;
    step.finishedAt = new Date().toISOString();
    if (message !== undefined) step.message = message;
    this.touch();
  }

  skipStep(index: number, message: string): void {
    this.endStep(index, RolloutStepPhase.Skipped, message);
  }

  // ------------------------------------------------------------------------- the workload lock

  /**
   * Takes the workload's lock (the one plans take), so a plan and a rollout never interleave
   * their changes to one Deployment. Returns false when aborted while waiting.
   */
  async acquireLock(): Promise<boolean> {
    const workload = rolloutWorkloadKey(this.spec.target);
    this.lockRequested = true;
    await bookkeeping.requestWorkloadLock({
      workload,
      request: {
        requesterId: this.ref.workflowId,
        planId: this.ref.workflowId,
        priority: this.spec.priority,
      },
    });
    if (this.granted) return true;
    this.status.waitingFor = `its turn on ${workload}: plans and rollouts on one workload run one at a time`;
    await this.setPhase(RolloutPhase.Waiting);
    await condition(() => this.granted || this.abortRequest !== undefined);
    this.status.waitingFor = null;
    if (this.abortRequest) {
      await this.setPhase(RolloutPhase.Aborted, this.abortMessage());
      return false;
    }
    return true;
  }

  async releaseLock(): Promise<void> {
    if (!this.lockRequested) return;
    try {
      await getExternalWorkflowHandle(workloadLockWorkflowId(rolloutWorkloadKey(this.spec.target))).signal(
        releaseLockSignal,
        { requesterId: this.ref.workflowId },
      );
    } catch (err) {
      log.warn('releasing workload lock failed', { error: String(err) });
    }
  }

  // ------------------------------------------------------------------------- running the steps

  /**
   * Runs the strategy's steps in a scope that an abort or a failed background analysis
   * cancels, then rolls back (abort, failure) or leaves the result (promoted).
   */
  async execute(steps: () => Promise<void>): Promise<void> {
    await this.setPhase(RolloutPhase.Progressing, null);
    const scope = new CancellationScope();
    this.stepsScope = scope;
    try {
      await scope.run(steps);
    } catch (err) {
      if (!isCancellation(err)) this.failure ??= failureMessage(err);
    } finally {
      this.stepsScope = undefined;
      // Whatever the steps left running (a background analysis after a failed step) stops.
      scope.cancel();
    }
    if (this.finished) return;
    if (this.abortRequest) {
      await this.compensate(this.abortMessage(), RolloutPhase.Aborted, RolloutPhase.Aborted);
    } else if (this.failure !== undefined) {
      if (this.committed) await this.setPhase(RolloutPhase.Failed, this.failure);
      else await this.compensate(this.failure, RolloutPhase.RolledBack, RolloutPhase.Failed);
    }
  }

  abortMessage(): string {
    return `aborted by ${this.abortRequest?.actor ?? 'unknown'}: ${this.abortRequest?.reason ?? ''}`;
  }

  nextSeq(): number {
    return this.seq++;
  }

  /**
   * Makes one audited change. Its inverse is recorded before the change runs (known, or from
   * a server-side dry run), so an abort or a crash at any moment can still undo it. The change
   * itself is not cancellable: an abort waits the few milliseconds it takes.
   */
  async change(
    change: RolloutChange,
    kind: string,
    stepIndex: number,
    inverse: InverseSource,
    body: Record<string, unknown> = {},
  ): Promise<ChangeOutcome> {
    return CancellationScope.nonCancellable(async () => {
      const audit = { seq: this.nextSeq(), kind, stepIndex, body };
      let undo = inverse;
      let dry: ChangeOutcome | undefined;
      if (undo === 'dryRun') {
        dry = await kubernetes.applyRolloutChange({ rollout: this.ref, change, audit, dryRun: true });
        undo = dry.changed ? dry.inverse : null;
      }
      if (undo !== null && !this.committed)
        this.compensations.push({ inverse: undo, undoes: kind, stepIndex });
      return this.applyRecorded(change, audit, dry);
    });
  }

  /**
   * Applies a change and appends its audit record, the intended change recorded first: a
   * server-side dry run (`dry`, when the caller already ran one) whose answer is in the
   * workflow history before the write. A worker killed between the write and the audit
   * append leaves the cluster changed; the retried activity then records the intended change
   * instead of "nothing changed" (as plans do with their dry-run baseline).
   */
  private async applyRecorded(
    change: RolloutChange,
    audit: ChangeAudit,
    dry?: ChangeOutcome,
  ): Promise<ChangeOutcome> {
    if (!patched(RECORD_INTENDED_CHANGE_PATCH))
      return kubernetes.applyRolloutChange({ rollout: this.ref, change, audit });
    const intended =
      dry ?? (await kubernetes.applyRolloutChange({ rollout: this.ref, change, audit, dryRun: true }));
    return kubernetes.applyRolloutChange({ rollout: this.ref, change, audit, intended });
  }

  /**
   * Runs the recorded inverses newest first, uncancellable, so an abort (or a cancelled
   * workflow) cannot interrupt its own rollback. An inverse of a change that never landed is a
   * no-op: every change compares live state first.
   */
  async compensate(reason: string, phase: RolloutPhase, phaseWithoutUndo: RolloutPhase): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      this.status.pause = null;
      this.status.waitingFor = null;
      if (this.compensations.length === 0) {
        await this.setPhase(phaseWithoutUndo, `${reason}; nothing was changed`);
        return;
      }
      await this.setPhase(
        RolloutPhase.RollingBack,
        `${reason}; rolling back ${this.compensations.length} change(s)`,
      );
      const failures: string[] = [];
      for (const { inverse, undoes, stepIndex } of [...this.compensations].reverse()) {
        try {
          const undone = await this.applyRecorded(inverse, {
            seq: this.nextSeq(),
            kind: 'rollout.rollback',
            stepIndex,
            body: { undoes, reason },
          });
          // Capacity comes back before it goes: the pods an undo brought back (the stable
          // scaled up again) are Ready before the next undo removes the other side's.
          for (const name of undone.grown ?? [])
            if (patched(ROLLBACK_WAITS_READY_PATCH)) await this.waitReady(name);
        } catch (err) {
          failures.push(`${undoes}: ${failureMessage(err)}`);
        }
      }
      this.compensations.length = 0;
      this.status.weight = 0;
      this.status.replicas.canary = 0;
      if (this.status.activeSide !== null) this.status.activeSide = 'blue';
      for (const step of this.status.steps)
        if (step.phase === RolloutStepPhase.Running) step.phase = RolloutStepPhase.Failed;
      if (failures.length > 0)
        await this.setPhase(
          RolloutPhase.RollbackFailed,
          `${reason}; rollback failed: ${failures.join('; ')}`,
        );
      else await this.setPhase(phase, `${reason}; rolled back`);
    });
  }

  // ------------------------------------------------------------------------- waiting

  /** Holds while an operator has paused the rollout (at a step boundary). */
  async holdIfPaused(): Promise<void> {
    if (!this.operatorPause || this.interrupted) return;
    const { actor, reason } = this.operatorPause;
    this.status.pause = {
      reason: PauseReason.operator,
      since: new Date().toISOString(),
      until: null,
      message: `paused by ${actor}: ${reason}`,
    };
    await this.setPhase(RolloutPhase.Paused, this.status.pause.message);
    await condition(() => this.operatorPause === undefined || this.promoteFull || this.interrupted);
    this.status.pause = null;
    await this.setPhase(RolloutPhase.Progressing, null);
  }

  /**
   * A pause that an operator's promote ends: a pause step (`durationMs` or indefinite), an
   * inconclusive analysis, a promotion gate. Its deadline is a durable timer in workflow
   * time, so it survives worker restarts and may last days. Returns how it ended.
   */
  async pauseUntilPromoted(
    reason: PauseReason,
    message: string,
    durationMs?: number,
  ): Promise<'promoted' | 'elapsed'> {
    const since = Date.now();
    const promotionsBefore = this.promotions;
    this.status.pause = {
      reason,
      since: new Date(since).toISOString(),
      until: durationMs === undefined ? null : new Date(since + durationMs).toISOString(),
      message,
    };
    await this.setPhase(RolloutPhase.Paused, message);
    const promoted = () => this.promotions > promotionsBefore || this.promoteFull;
    const ended =
      durationMs === undefined
        ? await condition(promoted).then(() => true)
        : await condition(promoted, durationMs);
    this.status.pause = null;
    // Still held by an operator: stay Paused (as an operator pause) until resumed.
    if (this.operatorPause) await this.holdIfPaused();
    else await this.setPhase(RolloutPhase.Progressing, null);
    return ended && promoted() ? 'promoted' : 'elapsed';
  }

  /**
   * Waits, durably and visibly, until `pods` more pods of the new template fit on the
   * cluster's GPUs, rather than creating pods that would sit Pending. Returns how many such
   * pods fit when it last looked.
   */
  async waitForGpus(
    baseline: RolloutBaseline,
    pods: number,
    purpose: string,
    enough: (podsThatFit: number) => boolean = (fit) => fit >= pods,
  ): Promise<number> {
    if (baseline.gpusPerPod === 0 || pods <= 0) return Number.MAX_SAFE_INTEGER;
    for (;;) {
      const fit = await bookkeeping.checkGpuCapacity({
        cluster: this.spec.target.cluster,
        pods,
        gpusPerPod: baseline.gpusPerPod,
        nodeSelector: baseline.nodeSelector,
      });
      if (enough(fit.podsThatFit)) {
        if (this.status.phase === RolloutPhase.WaitingForCapacity) {
          this.status.waitingFor = null;
          await this.setPhase(RolloutPhase.Progressing, null);
        }
        return fit.podsThatFit;
      }
      this.status.waitingFor = `GPU capacity for ${purpose}: ${fit.message}`;
      this.touch();
      await this.setPhase(RolloutPhase.WaitingForCapacity, this.status.waitingFor);
      await sleep(durationMs(this.spec.capacityCheckInterval));
    }
  }

  /** Waits until a Deployment is rolled out, by `progressDeadlineSeconds` from now (workflow time). */
  async waitReady(name: string): Promise<{ podTemplateHash: string | null }> {
    const deadlineAt = new Date(Date.now() + this.spec.progressDeadlineSeconds * 1000).toISOString();
    this.status.waitingFor = `${name} to be Ready (deadline ${deadlineAt})`;
    this.touch();
    try {
      return await waits.waitDeploymentReady({ target: this.spec.target, name, deadlineAt });
    } finally {
      this.status.waitingFor = null;
      this.touch();
    }
  }

  /**
   * Waits until a Service has Ready endpoints for the pods its selector matches, by
   * `progressDeadlineSeconds` from now (workflow time); past it the activity fails
   * non-retryably with what it found.
   */
  async waitServiceEndpoints(service: string): Promise<void> {
    const deadlineAt = new Date(Date.now() + this.spec.progressDeadlineSeconds * 1000).toISOString();
    this.status.waitingFor = `Service ${service} to have Ready endpoints (deadline ${deadlineAt})`;
    this.touch();
    try {
      await waits.waitServiceEndpoints({ target: this.spec.target, service, deadlineAt });
    } finally {
      this.status.waitingFor = null;
      this.touch();
    }
  }

  /** Reads the rollout's starting point; a spec that does not fit the cluster fails here, before any change. */
  readBaseline(): Promise<RolloutBaseline> {
    return bookkeeping.readRolloutBaseline({ spec: this.spec, kind: this.kind });
  }

  /** Fails early, before any change, when analyses are asked for and the worker has no Prometheus. */
  async checkAnalysisConfigured(needed: boolean): Promise<void> {
    if (needed) await bookkeeping.checkAnalysisConfigured();
  }

  /** Appends an analysis run's result to the audit trail. */
  async auditAnalysis(analysis: AnalysisRunStatus, measurements: Record<string, unknown>): Promise<void> {
    await CancellationScope.nonCancellable(() =>
      bookkeeping.appendRolloutAudit({
        rollout: this.ref,
        audit: {
          seq: this.nextSeq(),
          kind: 'rollout.analysis',
          stepIndex: analysis.stepIndex ?? -1,
          body: { analysis: { ...analysis, measurements } },
        },
        analysis: { kind: analysis.kind, phase: analysis.phase },
      }),
    );
  }
}

/** The root message of a failure (an ActivityFailure wraps the real cause). */
export function failureMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? err.cause.message : err.message;
}

/** Wires the search attributes a client may not have set (a start from the Temporal CLI). */
export function upsertRolloutSearchAttributes(spec: RolloutSpec, kind: RolloutKind): void {
  upsertSearchAttributes([
    { key: SearchAttributes.kind, value: kind },
    { key: SearchAttributes.cluster, value: spec.target.cluster },
    { key: SearchAttributes.namespace, value: spec.target.namespace },
    { key: SearchAttributes.workload, value: spec.target.name },
    { key: SearchAttributes.phase, value: RolloutPhase.Pending },
  ]);
}
