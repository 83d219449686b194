import { CancellationScope, condition, patched } from '@temporalio/workflow';
import type { RolloutBaseline } from '../activities/rollout-activities.ts';
import {
  AnalysisRunKind,
  AnalysisRunPhase,
  PauseReason,
  RolloutKind,
  RolloutPhase,
  RolloutRole,
  RolloutStepPhase,
  secondDeploymentName,
  type AnalysisRef,
  type BlueGreenStrategy,
  type RolloutSpec,
  type RolloutStatus,
} from '../domain/rollout.ts';
import { templateStateOf } from '../domain/rollout-template.ts';
import { startAnalysis } from './rollout-analysis.ts';
import { RolloutFailure, RolloutRun, upsertRolloutSearchAttributes } from './rollout-run.ts';

// Histories recorded before a promotion checked the active Service's endpoints end without it.
const PROMOTED_NEEDS_ENDPOINTS_PATCH = 'bluegreen-promoted-needs-endpoints';

/** The label the Deployment controller puts on each template's pods; the switch selects by it. */
const POD_TEMPLATE_HASH = 'pod-template-hash';

/** The fixed stages of a blue/green rollout, as the status lists them. */
const Stage = {
  deployGreen: 0,
  prePromotionAnalysis: 1,
  awaitPromotion: 2,
  switchTraffic: 3,
  postPromotionAnalysis: 4,
  scaleDownBlue: 5,
  finalize: 6,
} as const;

function stages(bg: BlueGreenStrategy) {
  return [
    { name: 'deployGreen', description: 'green Deployment at full size, wait Ready' },
    {
      name: 'prePromotionAnalysis',
      description: describeAnalysis('pre-promotion analysis', bg.prePromotionAnalysis),
    },
    {
      name: 'awaitPromotion',
      description: bg.autoPromotionEnabled ? 'automatic promotion' : 'wait for promote',
    },
    { name: 'switchTraffic', description: `switch Service ${bg.activeService} to green` },
    {
      name: 'postPromotionAnalysis',
      description: describeAnalysis('post-promotion analysis', bg.postPromotionAnalysis),
    },
    { name: 'scaleDownBlue', description: `scale blue down after ${bg.scaleDownDelaySeconds}s` },
    { name: 'finalize', description: 'the Deployment takes the new template; green goes' },
  ];
}

function describeAnalysis(what: string, ref: AnalysisRef | undefined): string {
  if (!ref) return `${what}: none`;
  return `${what}: ${[...ref.templates.map((t) => t.templateName), ...ref.judges.map((j) => `judge ${j.name}`)].join(', ')}`;
}

/**
 * A blue/green rollout (`rollout/<cluster>/<namespace>/<workload>`): the green Deployment
 * `<name>-green` at full size beside blue (`<name>`), Ready, judged by the pre-promotion
 * analysis, then the active Service's selector switches from blue's pod-template-hash to
 * green's, the post-promotion analysis judges green under traffic, and after
 * `scaleDownDelaySeconds` blue scales down. An abort or a failed analysis until then switches
 * the selector back and removes green. Finally the Deployment `<name>` takes the new template
 * (while green serves), the selector moves to it and green goes, so the workload keeps its name.
 */
export async function blueGreenRolloutWorkflow(spec: RolloutSpec): Promise<RolloutStatus> {
  if (!('blueGreen' in spec.strategy))
    throw new TypeError('blueGreenRolloutWorkflow needs strategy.blueGreen');
  const strategy = spec.strategy.blueGreen;
  upsertRolloutSearchAttributes(spec, RolloutKind.blueGreen);
  const run = new RolloutRun(spec, RolloutKind.blueGreen, stages(strategy));
  run.status.activeSide = 'blue';
  run.registerHandlers();
  try {
    if (await run.acquireLock()) await run.execute(() => runBlueGreen(run, strategy));
  } finally {
    await CancellationScope.nonCancellable(() => run.releaseLock());
  }
  return run.status;
}

async function runBlueGreen(run: RolloutRun, bg: BlueGreenStrategy): Promise<void> {
  const { spec } = run;
  const baseline = await run.readBaseline();
  await run.checkAnalysisConfigured(
    bg.prePromotionAnalysis !== undefined || bg.postPromotionAnalysis !== undefined,
  );
  const blue = spec.target.name;
  const green = secondDeploymentName(spec.target, RolloutRole.green);
  const total = baseline.replicas;
  const original = baseline.activeSelector!;
  const pinnedToBlue = { ...original, [POD_TEMPLATE_HASH]: baseline.blueHash! };
  run.status.replicas = { total, stable: baseline.stableReplicas, canary: 0 };

  // Deploy green, Ready, with no traffic: first pin the active Service to blue's pods, since
  // green's pods carry blue's labels.
  run.beginStep(Stage.deployGreen);
  await run.change(
    { op: 'setSelector', service: bg.activeService, selector: pinnedToBlue },
    'rollout.pinActiveToBlue',
    Stage.deployGreen,
    { op: 'setSelector', service: bg.activeService, selector: original },
  );
  await run.waitForGpus(baseline, total, `green at full size (${total} pod(s))`);
  await run.change(
    {
      op: 'createDeployment',
      role: RolloutRole.green,
      replicas: total,
      state: templateStateOf(spec.template),
    },
    'rollout.createGreen',
    Stage.deployGreen,
    { op: 'deleteDeployment', name: green },
  );
  run.status.replicas.canary = total;
  const { podTemplateHash: greenHash } = await run.waitReady(green);
  if (!greenHash) throw new RolloutFailure(`${green} is Ready but has no current ReplicaSet`);
  if (bg.previewService) {
    await run.change(
      {
        op: 'setSelector',
        service: bg.previewService,
        selector: { ...baseline.previewSelector, [POD_TEMPLATE_HASH]: greenHash },
      },
      'rollout.previewGreen',
      Stage.deployGreen,
      { op: 'setSelector', service: bg.previewService, selector: baseline.previewSelector! },
    );
  }
  run.endStep(Stage.deployGreen);

  await analysisStage(run, bg.prePromotionAnalysis, Stage.prePromotionAnalysis, AnalysisRunKind.prePromotion);

  if (!bg.autoPromotionEnabled && !run.promoteFull) {
    run.beginStep(Stage.awaitPromotion);
    await run.holdIfPaused();
    await run.pauseUntilPromoted(
      PauseReason.promotion,
      `green is Ready: promote to switch ${bg.activeService} to it`,
    );
    run.endStep(Stage.awaitPromotion);
  } else run.skipStep(Stage.awaitPromotion, run.promoteFull ? 'skipped by promote --full' : 'automatic');

  await run.holdIfPaused();
  run.beginStep(Stage.switchTraffic);
  await run.change(
    {
      op: 'setSelector',
      service: bg.activeService,
      selector: { ...original, [POD_TEMPLATE_HASH]: greenHash },
    },
    'rollout.switchTraffic',
    Stage.switchTraffic,
    { op: 'setSelector', service: bg.activeService, selector: pinnedToBlue },
  );
  run.status.activeSide = 'green';
  run.status.weight = 100;
  run.endStep(Stage.switchTraffic);

  await analysisStage(
    run,
    bg.postPromotionAnalysis,
    Stage.postPromotionAnalysis,
    AnalysisRunKind.postPromotion,
  );

  // Blue stays up for a quick switch back until the delay ends; an abort meanwhile still rolls back.
  run.beginStep(Stage.scaleDownBlue);
  const delayMs = bg.scaleDownDelaySeconds * 1000;
  if (delayMs > 0 && !run.promoteFull) {
    run.status.waitingFor = `scaleDownDelaySeconds: blue is kept until ${new Date(Date.now() + delayMs).toISOString()}`;
    run.touch();
    await condition(() => run.promoteFull, delayMs);
    run.status.waitingFor = null;
  }
  await run.holdIfPaused();
  // Committed: green serves and passed its analyses. Nothing is rolled back from here.
  run.committed = true;
  run.compensations.length = 0;
  await run.setPhase(RolloutPhase.Promoting, `${bg.activeService} serves green; scaling blue down`);
  await run.change(
    { op: 'scale', name: blue, replicas: 0 },
    'rollout.scaleDownBlue',
    Stage.scaleDownBlue,
    null,
  );
  run.status.replicas.stable = 0;
  run.endStep(Stage.scaleDownBlue);

  await finalize(run, baseline, bg, { blue, green, total, original });
}

/** Runs an analysis stage: failed rolls back, inconclusive pauses for a human. */
async function analysisStage(
  run: RolloutRun,
  ref: AnalysisRef | undefined,
  stage: number,
  kind: (typeof AnalysisRunKind)['prePromotion' | 'postPromotion'],
): Promise<void> {
  if (!ref || run.promoteFull) {
    run.skipStep(stage, ref ? 'skipped by promote --full' : 'no analysis');
    return;
  }
  await run.holdIfPaused();
  run.beginStep(stage);
  const id = kind === AnalysisRunKind.prePromotion ? 'pre-promotion' : 'post-promotion';
  const outcome = await startAnalysis(run, ref, { id, kind, stepIndex: stage }).done;
  if (outcome.phase === AnalysisRunPhase.Skipped) {
    run.skipStep(stage, outcome.message);
    return;
  }
  if (outcome.phase === AnalysisRunPhase.Failed) {
    run.endStep(stage, RolloutStepPhase.Failed, outcome.message);
    throw new RolloutFailure(`${id} analysis failed: ${outcome.message}`);
  }
  if (outcome.phase === AnalysisRunPhase.Inconclusive)
    await run.pauseUntilPromoted(
      PauseReason.inconclusive,
      `${id} analysis inconclusive: ${outcome.message}; promote to go on, abort to roll back`,
    );
  run.endStep(stage);
}

/**
 * Folds green back into the Deployment that owns the workload's name: `<name>` takes the new
 * template at full size (it gets no traffic: the selector names green's hash), then the
 * selector moves to its pods, green goes, and the Service gets its original selector back.
 */
async function finalize(
  run: RolloutRun,
  baseline: RolloutBaseline,
  bg: BlueGreenStrategy,
  names: { blue: string; green: string; total: number; original: Record<string, string> },
): Promise<void> {
  run.beginStep(Stage.finalize);
  await run.change(
    { op: 'patchTemplate', name: names.blue, state: templateStateOf(run.spec.template) },
    'rollout.finalize',
    Stage.finalize,
    null,
  );
  await run.waitForGpus(baseline, names.total, `${names.blue} at full size on the new template`);
  if (run.status.phase !== RolloutPhase.Promoting) await run.setPhase(RolloutPhase.Promoting);
  await run.change(
    { op: 'scale', name: names.blue, replicas: names.total },
    'rollout.finalize',
    Stage.finalize,
    null,
  );
  const { podTemplateHash } = await run.waitReady(names.blue);
  if (!podTemplateHash) throw new RolloutFailure(`${names.blue} is Ready but has no current ReplicaSet`);
  await run.change(
    {
      op: 'setSelector',
      service: bg.activeService,
      selector: { ...names.original, [POD_TEMPLATE_HASH]: podTemplateHash },
    },
    'rollout.finalize',
    Stage.finalize,
    null,
  );
  run.status.replicas = { total: names.total, stable: names.total, canary: names.total };
  await run.change({ op: 'deleteDeployment', name: names.green }, 'rollout.finalize', Stage.finalize, null);
  await run.change(
    { op: 'setSelector', service: bg.activeService, selector: names.original },
    'rollout.finalize',
    Stage.finalize,
    null,
  );
  if (bg.previewService && baseline.previewSelector)
    await run.change(
      { op: 'setSelector', service: bg.previewService, selector: baseline.previewSelector },
      'rollout.finalize',
      Stage.finalize,
      null,
    );
  run.status.replicas = { total: names.total, stable: names.total, canary: 0 };
  // Promoted means serving: the active Service, with its selector given back, must list Ready
  // endpoints of the new pods; otherwise the rollout ends Failed with what the Service selects.
  if (patched(PROMOTED_NEEDS_ENDPOINTS_PATCH)) {
    try {
      await run.waitServiceEndpoints(bg.activeService);
    } catch (err) {
      run.endStep(
        Stage.finalize,
        RolloutStepPhase.Failed,
        `Service ${bg.activeService} has no Ready endpoints`,
      );
      throw err;
    }
  }
  // One Deployment again: no blue and green sides any more.
  run.status.activeSide = null;
  run.endStep(Stage.finalize);
  await run.setPhase(
    RolloutPhase.Promoted,
    `${names.blue} runs the new template and serves ${bg.activeService}`,
  );
}
