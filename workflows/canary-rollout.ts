import { CancellationScope, log, patched, proxyActivities } from '@temporalio/workflow';
import type { RolloutActivities, RolloutBaseline, RolloutChange } from '../activities/rollout-activities.ts';
import {
  canaryReplicaSplit,
  followStableScale,
  replicaWeight,
  weightStages,
  type CanaryPair,
} from '../domain/canary-replicas.ts';
import {
  AnalysisRunKind,
  AnalysisRunPhase,
  durationMs,
  PauseReason,
  replicaSplit,
  RolloutKind,
  RolloutPhase,
  RolloutRole,
  RolloutStepPhase,
  secondDeploymentName,
  type CanaryStep,
  type CanaryStrategy,
  type RolloutSpec,
  type RolloutStatus,
} from '../domain/rollout.ts';
import { templateStateOf } from '../domain/rollout-template.ts';
import { startAnalysis, type AnalysisHandle } from './rollout-analysis.ts';
import {
  failureMessage,
  RolloutFailure,
  RolloutRun,
  upsertRolloutSearchAttributes,
  type StepDescriptor,
} from './rollout-run.ts';

/** How each step reads in the status. */
function describeStep(step: CanaryStep): StepDescriptor {
  if ('setWeight' in step) return { name: 'setWeight', description: `setWeight ${step.setWeight}` };
  if ('pause' in step)
    return {
      name: 'pause',
      description: step.pause.duration ? `pause ${step.pause.duration}` : 'pause until promoted',
    };
  const names = [
    ...step.analysis.templates.map((t) => t.templateName),
    ...step.analysis.judges.map((j) => `judge ${j.name}`),
  ];
  return { name: 'analysis', description: `analysis ${names.join(', ')}` };
}

/** Where the two Deployments stand, as the rollout last set (or, for the stable, saw) them. */
interface CanaryState {
  weight: number;
  canary: number;
  stable: number;
  /** The workload's size: the spec's `replicas`, moved by every scale made outside the rollout. */
  total: number;
}

// Histories recorded before a weight change waited for the receiving side's Ready pods (and
// read the stable's live size) moved both sides at once.
const CAPACITY_FOLLOWS_READY_PATCH = 'canary-capacity-follows-ready';

// Reads of live state retry until they succeed; they change nothing.
const reads = proxyActivities<Pick<RolloutActivities, 'readDeploymentReplicas'>>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['RolloutInvalid', 'KubeNonRetryable'],
  },
});

/**
 * A canary rollout (`rollout/<cluster>/<namespace>/<workload>`): a canary Deployment
 * `<name>-canary` beside the stable `<name>`, both behind the same Service, so traffic follows
 * the replica ratio. Steps move the weight, pause (for a time, or until promoted) and run
 * analyses; a background analysis can watch from a given step on. Every step passed, the
 * stable takes the new template and the canary is removed. A failed analysis, a readiness
 * deadline or an abort undoes every change, newest first.
 */
export async function canaryRolloutWorkflow(spec: RolloutSpec): Promise<RolloutStatus> {
  if (!('canary' in spec.strategy)) throw new TypeError('canaryRolloutWorkflow needs strategy.canary');
  const strategy = spec.strategy.canary;
  upsertRolloutSearchAttributes(spec, RolloutKind.canary);
  const run = new RolloutRun(spec, RolloutKind.canary, [
    ...strategy.steps.map(describeStep),
    { name: 'promote', description: 'promote: the stable takes the new template, the canary goes' },
  ]);
  run.registerHandlers();
  try {
    if (await run.acquireLock()) await run.execute(() => runCanary(run, strategy));
  } finally {
    await CancellationScope.nonCancellable(() => run.releaseLock());
  }
  return run.status;
}

async function runCanary(run: RolloutRun, strategy: CanaryStrategy): Promise<void> {
  const { spec } = run;
  const baseline = await run.readBaseline();
  const needsAnalysis = strategy.analysis !== undefined || strategy.steps.some((s) => 'analysis' in s);
  await run.checkAnalysisConfigured(needsAnalysis);
  const stableName = spec.target.name;
  const canaryName = secondDeploymentName(spec.target, RolloutRole.canary);
  const readyFirst = patched(CAPACITY_FOLLOWS_READY_PATCH);
  const state: CanaryState = {
    weight: 0,
    canary: 0,
    stable: baseline.stableReplicas,
    total: baseline.replicas,
  };
  const total = baseline.replicas;
  run.status.replicas = { total, stable: state.stable, canary: 0 };
  if (baseline.leftover)
    run.status.message = `${canaryName} already existed (left by an earlier rollout); it is taken over`;

  await run.change(
    { op: 'createDeployment', role: RolloutRole.canary, replicas: 0, state: templateStateOf(spec.template) },
    'rollout.createCanary',
    -1,
    { op: 'deleteDeployment', name: canaryName },
  );

  let background: AnalysisHandle | undefined;
  let backgroundOutcome: Promise<void> | undefined;
  const held: { inconclusive?: string } = {};
  for (const [index, step] of strategy.steps.entries()) {
    if (run.promoteFull) {
      run.skipStep(index, 'skipped by promote --full');
      continue;
    }
    await run.holdIfPaused();
    if (held.inconclusive !== undefined) {
      await run.pauseUntilPromoted(PauseReason.inconclusive, held.inconclusive);
      delete held.inconclusive;
    }
    if (strategy.analysis && index === strategy.analysis.startingStep && !background) {
      background = startAnalysis(run, strategy.analysis, {
        id: 'background',
        kind: AnalysisRunKind.background,
        stepIndex: index,
      });
      // A failed background analysis stops the steps wherever they are and rolls back.
      backgroundOutcome = background.done.then(
        (outcome) => {
          if (outcome.phase === AnalysisRunPhase.Failed) {
            run.failure ??= `background analysis failed: ${outcome.message}`;
            run.stepsScope?.cancel();
          } else if (outcome.phase === AnalysisRunPhase.Inconclusive) {
            held.inconclusive = `background analysis inconclusive: ${outcome.message}; promote to go on, abort to roll back`;
          }
        },
        (err: unknown) => {
          run.failure ??= `background analysis failed: ${failureMessage(err)}`;
        },
      );
    }
    run.beginStep(index);
    if ('setWeight' in step) {
      if (readyFirst)
        await moveWeight(run, baseline, strategy, state, step.setWeight, index, { stableName, canaryName });
      else
        await setWeight(run, baseline, strategy, state, step.setWeight, index, {
          stableName,
          canaryName,
          total,
        });
    } else if ('pause' in step) {
      const duration = step.pause.duration === undefined ? undefined : durationMs(step.pause.duration);
      const how = await run.pauseUntilPromoted(
        PauseReason.step,
        step.pause.duration
          ? `pause step ${index}: ${step.pause.duration} (or until promoted)`
          : `pause step ${index}: until promoted`,
        duration,
      );
      if (how === 'promoted') run.status.steps[index]!.message = 'ended by promote';
    } else {
      const analysis = startAnalysis(run, step.analysis, {
        id: `step-${index}`,
        kind: AnalysisRunKind.inline,
        stepIndex: index,
      });
      const outcome = await analysis.done;
      if (outcome.phase === AnalysisRunPhase.Skipped) {
        run.skipStep(index, outcome.message);
        continue;
      }
      if (outcome.phase === AnalysisRunPhase.Failed) {
        run.endStep(index, RolloutStepPhase.Failed, outcome.message);
        throw new RolloutFailure(`analysis of step ${index} failed: ${outcome.message}`);
      }
      if (outcome.phase === AnalysisRunPhase.Inconclusive) {
        await run.pauseUntilPromoted(
          PauseReason.inconclusive,
          `analysis of step ${index} inconclusive: ${outcome.message}; promote to go on, abort to roll back`,
        );
      }
    }
    run.endStep(index);
  }

  // The steps are done: the background analysis is terminated (metrics that crossed no limit
  // pass) and must not have failed before the canary becomes the stable.
  if (background) {
    background.terminate();
    await backgroundOutcome;
    if (run.failure !== undefined) throw new RolloutFailure(run.failure);
    if (held.inconclusive !== undefined && !run.promoteFull)
      await run.pauseUntilPromoted(PauseReason.inconclusive, held.inconclusive);
  }
  if (readyFirst) {
    await followStable(run, state, stableName);
    await promote(run, baseline, state, { stableName, canaryName, total: state.total });
  } else await promote(run, baseline, state, { stableName, canaryName, total });
}

/**
 * Follows a scale of the stable made outside the rollout (an HPA, `kubectl scale`): reads its
 * live `spec.replicas` and, when it differs from what the rollout last set or saw, moves the
 * workload's total by the difference, so the next step splits the size the workload has now
 * rather than writing back the size it had. Returns a note for the step's message.
 */
async function followStable(run: RolloutRun, state: CanaryState, stableName: string): Promise<string> {
  const live = await reads.readDeploymentReplicas({ target: run.spec.target, name: stableName });
  if (live === state.stable) return '';
  const total = followStableScale(state.total, state.stable, live);
  const note = `${stableName} was scaled from ${state.stable} to ${live} outside the rollout; the total follows (${state.total} → ${total})`;
  log.info(note);
  Object.assign(state, { stable: live, total });
  reportReplicas(run, state);
  return `; ${note}`;
}

/** The status shows the replicas as set, and the share of the pods they really give the canary. */
function reportReplicas(run: RolloutRun, state: CanaryState): void {
  run.status.replicas = { total: state.total, stable: state.stable, canary: state.canary };
  run.status.weight = replicaWeight(state.canary, state.stable);
  run.touch();
}

/**
 * Moves the weight so that capacity moves only as fast as the receiving side's pods become
 * Ready: the side that grows is scaled up and the rollout waits for its Ready pods, and only
 * then is the side that gives scaled down (domain/canary-replicas.ts `weightStages`). The
 * split comes from `canaryReplicaSplit` over the workload's live total: with dynamic stable
 * scale the stable keeps at least one pod until the final step; without it the stable is not
 * written at all (promotion sizes it). New pods must fit on the cluster's GPUs first; when
 * they do not, the rollout waits (WaitingForCapacity). With dynamic stable scale on a full
 * cluster, the stable gives up front only the pods whose GPUs the canary cannot get elsewhere.
 * Each stage is its own audited change with its inverse, so a rollback undoes them newest
 * first and, before each next undo, waits for the pods an undo brought back.
 */
async function moveWeight(
  run: RolloutRun,
  baseline: RolloutBaseline,
  strategy: CanaryStrategy,
  state: CanaryState,
  weight: number,
  stepIndex: number,
  names: { stableName: string; canaryName: string },
): Promise<void> {
  const note = await followStable(run, state, names.stableName);
  const dynamic = strategy.dynamicStableScale;
  const split = canaryReplicaSplit(state.total, weight, dynamic);
  const to: CanaryPair = { canary: split.canary, stable: dynamic ? split.stable : state.stable };
  const canaryUp = to.canary - state.canary;
  const stableDown = state.stable - to.stable;
  let stableGivesFirst = 0;
  if (canaryUp > 0) {
    const shrinkFrees = dynamic && baseline.sameShape ? Math.max(0, stableDown) : 0;
    const fit = await run.waitForGpus(
      baseline,
      canaryUp,
      `${canaryUp} more canary pod(s) (weight ${weight})`,
      (podsThatFit) => podsThatFit + shrinkFrees >= canaryUp,
    );
    stableGivesFirst = Math.max(0, canaryUp - fit);
  }
  if (stableDown < 0)
    await run.waitForGpus(baseline, -stableDown, `${-stableDown} more stable pod(s) (weight ${weight})`);
  const sides = (pair: CanaryPair) => ({
    canary: { name: names.canaryName, replicas: pair.canary },
    stable: dynamic ? { name: names.stableName, replicas: pair.stable } : null,
  });
  for (const stage of weightStages(state, to, stableGivesFirst)) {
    const grewCanary = stage.canary > state.canary;
    const grewStable = stage.stable > state.stable;
    const change: RolloutChange = {
      op: 'setWeight',
      router: strategy.trafficRouter,
      weight,
      stage: grewCanary || grewStable ? 'grow' : 'shrink',
      ...sides(stage),
      stableFirst: stage.stable < state.stable,
    };
    await run.change(change, 'rollout.setWeight', stepIndex, {
      ...change,
      ...sides(state),
      // Undoing puts back the side that gave first: it must be Ready before the other goes.
      stableFirst: true,
    });
    Object.assign(state, stage);
    reportReplicas(run, state);
    if (grewCanary) await run.waitReady(names.canaryName);
    if (grewStable) await run.waitReady(names.stableName);
  }
  state.weight = weight;
  reportReplicas(run, state);
  run.status.steps[stepIndex]!.message =
    `${state.canary} canary and ${state.stable} stable pod(s): ${run.status.weight}% of the pods on the new template${note}`;
}

/**
 * Moves the weight: the canary to ceil(total × weight / 100) replicas and, with dynamic stable
 * scale, the stable to the rest. New canary pods must fit on the cluster's GPUs first; when
 * they do not, the rollout waits (WaitingForCapacity) and looks again on a timer. With dynamic
 * stable scale on a full cluster, the stable shrinks first so its GPUs go to the canary.
 */
async function setWeight(
  run: RolloutRun,
  baseline: RolloutBaseline,
  strategy: CanaryStrategy,
  state: CanaryState,
  weight: number,
  stepIndex: number,
  names: { stableName: string; canaryName: string; total: number },
): Promise<void> {
  const split = replicaSplit(names.total, weight, strategy.dynamicStableScale);
  const canaryUp = split.canary - state.canary;
  const stableDown = state.stable - split.stable;
  let stableFirst = false;
  if (canaryUp > 0) {
    const shrinkFrees = strategy.dynamicStableScale && baseline.sameShape ? Math.max(0, stableDown) : 0;
    const fit = await run.waitForGpus(
      baseline,
      canaryUp,
      `${canaryUp} more canary pod(s) (weight ${weight})`,
      (podsThatFit) => podsThatFit + shrinkFrees >= canaryUp,
    );
    stableFirst = fit < canaryUp;
  }
  if (stableDown < 0)
    await run.waitForGpus(baseline, -stableDown, `${-stableDown} more stable pod(s) (weight ${weight})`);
  const change: RolloutChange = {
    op: 'setWeight',
    router: strategy.trafficRouter,
    weight,
    canary: { name: names.canaryName, replicas: split.canary },
    stable: { name: names.stableName, replicas: split.stable },
    stableFirst,
  };
  await run.change(change, 'rollout.setWeight', stepIndex, {
    ...change,
    weight: state.weight,
    canary: { name: names.canaryName, replicas: state.canary },
    stable: { name: names.stableName, replicas: state.stable },
    stableFirst: true,
  });
  Object.assign(state, { weight, canary: split.canary, stable: split.stable });
  run.status.weight = weight;
  run.status.replicas = { total: names.total, stable: split.stable, canary: split.canary };
  run.touch();
  if (canaryUp > 0) await run.waitReady(names.canaryName);
  if (stableDown < 0) await run.waitReady(names.stableName);
}

/**
 * Promotion: the stable takes the new template and its full size (a rolling update while the
 * canary still serves), and once it is Ready the canary goes. Until the stable is Ready every
 * change can still be undone; after, the rollout is committed.
 */
async function promote(
  run: RolloutRun,
  baseline: RolloutBaseline,
  state: CanaryState,
  names: { stableName: string; canaryName: string; total: number },
): Promise<void> {
  const index = run.status.steps.length - 1;
  run.beginStep(index);
  await run.setPhase(RolloutPhase.Promoting, 'the stable takes the new template');
  const newPods = names.total + baseline.surgePods - state.stable;
  await run.waitForGpus(
    baseline,
    newPods,
    `the stable's rolling update to the new template (${newPods} pod(s))`,
  );
  if (run.status.phase !== RolloutPhase.Promoting) await run.setPhase(RolloutPhase.Promoting);
  await run.change(
    { op: 'patchTemplate', name: names.stableName, state: templateStateOf(run.spec.template) },
    'rollout.promoteStable',
    index,
    'dryRun',
  );
  await run.change(
    { op: 'scale', name: names.stableName, replicas: names.total },
    'rollout.promoteStable',
    index,
    { op: 'scale', name: names.stableName, replicas: state.stable },
  );
  await run.waitReady(names.stableName);
  // The stable runs the new template at full size: from here there is nothing to roll back.
  run.committed = true;
  run.compensations.length = 0;
  await run.change({ op: 'deleteDeployment', name: names.canaryName }, 'rollout.deleteCanary', index, null);
  run.status.weight = 100;
  run.status.replicas = { total: names.total, stable: names.total, canary: 0 };
  run.endStep(index);
  await run.setPhase(RolloutPhase.Promoted, `${names.stableName} runs the new template`);
}
