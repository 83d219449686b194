import { CancellationScope, isCancellation, patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { RolloutActivities } from '../activities/rollout-activities.ts';
import {
  AnalysisDecision,
  AnalysisInputError,
  JudgeVerdict,
  MeasurementPhase,
  analysisRunState,
  mannWhitneyJudge,
  type Measurement,
  type Metric,
} from '../analysis/index.ts';
import {
  AnalysisRunPhase,
  durationMs,
  MEASUREMENTS_IN_STATUS,
  resolveAnalysis,
  type AnalysisRef,
  type AnalysisRunKind,
  type AnalysisRunStatus,
  type Judge,
  type JudgeStatus,
  type MetricStatus,
} from '../domain/rollout.ts';
import type { AnalysisSkip, RolloutRun } from './rollout-run.ts';

// Histories recorded before an Error measurement had its own retry delay
// (ERROR_RETRY_DELAY_MS) retried at the metric's interval; they replay that way.
const ERROR_RETRY_DELAY_PATCH = 'analysis-error-retry-delay';

// One activity per measurement; a measurement that cannot reach Prometheus comes back as an
// Error measurement (the metric's consecutiveErrorLimit decides), so retries here only cover
// a lost worker.
const measure = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '10 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['AnalysisInvalid', 'AnalysisNotConfigured', 'PrometheusNonRetryable'],
  },
});

/** How an analysis run ended. */
export interface AnalysisOutcome {
  phase: AnalysisRunStatus['phase'];
  message: string;
}

/** A running analysis: ask it to stop (a background analysis when the steps are done), then await it. */
export interface AnalysisHandle {
  status: AnalysisRunStatus;
  /** Stops measuring; metrics that crossed no limit become successful (Argo's termination). */
  terminate(): void;
  /**
   * Ends the analysis undecided, on an operator's word (`promote --full`): it stops measuring
   * at once, ends `Skipped` with who and why, and nothing measured later counts. No effect
   * once the analysis has decided.
   */
  skip(by: AnalysisSkip): void;
  done: Promise<AnalysisOutcome>;
}

const PHASE_OF: Record<string, AnalysisRunStatus['phase']> = {
  [AnalysisDecision.continue]: AnalysisRunPhase.Running,
  [AnalysisDecision.successful]: AnalysisRunPhase.Successful,
  [AnalysisDecision.failed]: AnalysisRunPhase.Failed,
  [AnalysisDecision.inconclusive]: AnalysisRunPhase.Inconclusive,
};

const VERDICT_DECISION: Record<string, AnalysisDecision> = {
  [JudgeVerdict.pass]: AnalysisDecision.successful,
  [JudgeVerdict.fail]: AnalysisDecision.failed,
  [JudgeVerdict.marginal]: AnalysisDecision.inconclusive,
};

/**
 * Starts an analysis: every metric of every template measured in its own loop (an activity
 * per measurement, a durable timer between them), every judge once, all in parallel. The
 * pure engine (analysis/) folds the measurements into a decision after each one; the first
 * failed metric stops the others. Results stay in the rollout's status (the latest
 * measurements of each metric) and, when the run ends, in the audit (all of them).
 */
export function startAnalysis(
  run: RolloutRun,
  ref: AnalysisRef,
  options: { id: string; kind: AnalysisRunKind; stepIndex: number | null },
): AnalysisHandle {
  const templates = new Map(run.spec.analysisTemplates.map((t) => [t.name, t]));
  const metrics: Metric[] = [];
  const templateOf = new Map<string, string>();
  for (const { templateName } of ref.templates) {
    for (const metric of resolveAnalysis(templates.get(templateName)!, ref, run.spec.target)) {
      metrics.push(metric);
      templateOf.set(metric.name, templateName);
    }
  }
  const measurements: Record<string, Measurement[]> = Object.fromEntries(metrics.map((m) => [m.name, []]));
  const status: AnalysisRunStatus = {
    id: options.id,
    kind: options.kind,
    stepIndex: options.stepIndex,
    phase: AnalysisRunPhase.Running,
    message: 'measuring',
    startedAt: new Date().toISOString(),
    finishedAt: null,
    metrics: metrics.map((m): MetricStatus => ({
      name: m.name,
      template: templateOf.get(m.name)!,
      query: m.provider.prometheus.query,
      decision: AnalysisDecision.continue,
      message: 'not measured yet',
      counts: { measured: 0, successful: 0, failed: 0, inconclusive: 0, error: 0, consecutiveErrors: 0 },
      measurements: [],
    })),
    judges: ref.judges.map((j): JudgeStatus => ({
      name: j.name,
      verdict: null,
      message: 'not run yet',
      result: null,
    })),
  };
  run.status.analyses.push(status);
  run.touch();

  let terminated = false;
  const scope = new CancellationScope();
  const decide = () => {
    if (status.skipped) return AnalysisDecision.successful; // settled by skip(): no longer judged
    const state = analysisRunState(metrics, measurements, { terminated });
    const judgeDecisions = status.judges.map((j) =>
      j.verdict !== null
        ? VERDICT_DECISION[j.verdict]!
        : terminated
          ? AnalysisDecision.successful
          : AnalysisDecision.continue,
    );
    for (const metric of status.metrics) {
      const s = state.metrics[metric.name]!;
      metric.decision = s.decision;
      metric.message = s.message;
      metric.counts = s.counts;
      metric.measurements = measurements[metric.name]!.slice(-MEASUREMENTS_IN_STATUS);
    }
    const all = [state.decision, ...judgeDecisions];
    const decision =
      [AnalysisDecision.failed, AnalysisDecision.continue, AnalysisDecision.inconclusive].find((d) =>
        all.includes(d),
      ) ?? AnalysisDecision.successful;
    const reasons = [
      ...(metrics.length > 0 && state.decision === decision ? [state.message] : []),
      ...status.judges
        .filter((j, i) => judgeDecisions[i] === decision && j.verdict !== null)
        .map((j) => `${j.name}: ${j.message}`),
    ];
    status.phase = PHASE_OF[decision]!;
    status.message = reasons.join('; ') || decision;
    run.touch();
    return decision;
  };

  const metricLoop = async (metric: Metric) => {
    const taken = measurements[metric.name]!;
    for (;;) {
      if (decide() === AnalysisDecision.failed) {
        scope.cancel();
        return;
      }
      const retryErrorsAtInterval =
        taken.at(-1)?.phase === MeasurementPhase.error && !patched(ERROR_RETRY_DELAY_PATCH);
      const state = analysisRunState(
        [metric],
        { [metric.name]: taken },
        { terminated, retryErrorsAtInterval },
      );
      if (state.decision !== AnalysisDecision.continue) return;
      const delay = state.metrics[metric.name]!.nextMeasurementDelayMs ?? 0;
      if (delay > 0) await sleep(delay);
      const measurement = await measure.runMeasurement({ metric, startedAt: new Date().toISOString() });
      if (status.skipped) return; // it came back after the operator ended the analysis
      taken.push(measurement);
    }
  };

  const judgeLoop = async (judge: Judge, index: number) => {
    const entry = status.judges[index]!;
    if (judge.initialDelay) await sleep(durationMs(judge.initialDelay));
    const range = {
      rangeSeconds: durationMs(judge.range) / 1000,
      stepSeconds: durationMs(judge.step) / 1000,
    };
    const end = new Date().toISOString();
    const [canary, stable] = await Promise.all([
      measure.collectSamples({ query: judge.canaryQuery, ...range, end }),
      measure.collectSamples({ query: judge.stableQuery, ...range, end }),
    ]);
    try {
      const result = mannWhitneyJudge(canary, stable, {
        confidence: judge.confidence,
        tolerance: judge.tolerance,
        direction: judge.direction,
      });
      entry.verdict = result.verdict;
      entry.message = result.reason;
      entry.result = { ...result };
    } catch (err) {
      if (!(err instanceof AnalysisInputError)) throw err;
      // No usable sample (no traffic yet): neither pass nor fail; a human decides.
      entry.verdict = JudgeVerdict.marginal;
      entry.message = `cannot judge: ${err.message}`;
    }
    if (decide() === AnalysisDecision.failed) scope.cancel();
  };

  const skippable = {
    skip: (by: AnalysisSkip) => {
      if (status.phase !== AnalysisRunPhase.Running || status.skipped) return;
      status.skipped = { ...by, at: new Date().toISOString() };
      status.phase = AnalysisRunPhase.Skipped;
      status.message = `skipped by ${by.actor}: ${by.reason}`;
      for (const metric of status.metrics)
        if (metric.decision === AnalysisDecision.continue)
          metric.message = `skipped after ${metric.counts.measured} measured`;
      run.touch();
      scope.cancel();
    },
  };
  run.runningAnalyses.add(skippable);

  const done = (async (): Promise<AnalysisOutcome> => {
    try {
      await scope.run(() => Promise.all([...metrics.map(metricLoop), ...ref.judges.map(judgeLoop)]));
    } catch (err) {
      // Our own stop (a failed metric, a terminated or skipped analysis) is expected; an
      // abort of the rollout is not ours to swallow.
      if (!isCancellation(err) || run.interrupted) throw err;
    } finally {
      run.runningAnalyses.delete(skippable);
    }
    const decision = decide();
    // A background analysis stopped while a metric was still measuring counts as terminated.
    if (decision === AnalysisDecision.continue) {
      terminated = true;
      decide();
    }
    status.finishedAt = new Date().toISOString();
    await run.auditAnalysis(status, measurements);
    return { phase: status.phase, message: status.message };
  })();

  return {
    status,
    terminate: () => {
      terminated = true;
      scope.cancel();
    },
    skip: skippable.skip,
    done,
  };
}
