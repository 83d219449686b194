import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  AnalysisError,
  AnalysisInputError,
  assessMeasurement,
  encodeSampleValue,
  MeasurementPhase,
  validateMetric,
  type Measurement,
  type Metric,
  type MetricInput,
} from '../analysis/index.ts';
import {
  PrometheusError,
  queryPrometheus,
  queryPrometheusRange,
  type PrometheusRequestOptions,
} from './prometheus.ts';

/** What the analysis activities need. */
export interface AnalysisActivityDeps {
  /** Base URL of the Prometheus HTTP API (`PROMETHEUS_URL`). */
  prometheusUrl: string;
  /** Time limit of one query. @default 10_000 */
  queryTimeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Input of `runMeasurement`. */
export interface RunMeasurementInput {
  /** The metric, resolved (no `{{args.*}}` left; see `resolveAnalysisTemplate`). */
  metric: Metric | MetricInput;
  /** When the workflow started this measurement (ISO 8601); the activity's start time when absent. */
  startedAt?: string;
}

/** Input of `collectSamples`. */
export interface CollectSamplesInput {
  /** PromQL whose values over the range are the samples, e.g. a per-version latency quantile. */
  query: string;
  /** How far back from `end` to collect. */
  rangeSeconds: number;
  /** Spacing of the samples. */
  stepSeconds: number;
  /** End of the range (ISO 8601); now when absent. */
  end?: string;
}

/** Failure `type`s the analysis activities raise as non-retryable Temporal failures. */
export const AnalysisFailureType = {
  /** The metric or the input is invalid (SENTINEL_ERR_ANALYSIS_*): fix the template. */
  invalid: 'AnalysisInvalid',
  /** Prometheus rejected the query (SENTINEL_ERR_PROMETHEUS_* with retryable false). */
  prometheusNonRetryable: 'PrometheusNonRetryable',
} as const;

/** The most points a range query may return per series (Prometheus refuses more than 11,000). */
export const MAX_SAMPLES_PER_SERIES = 11_000;

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called directly, outside a worker (tests, scripts)
  }
}

function toFailure(err: unknown): unknown {
  if (err instanceof AnalysisError)
    return ApplicationFailure.create({
      type: AnalysisFailureType.invalid,
      message: err.message,
      nonRetryable: true,
      details: [{ code: err.code }],
      cause: err,
    });
  if (err instanceof PrometheusError && !err.retryable)
    return ApplicationFailure.create({
      type: AnalysisFailureType.prometheusNonRetryable,
      message: err.message,
      nonRetryable: true,
      details: [err.details],
      cause: err,
    });
  return err;
}

/**
 * The analysis activities, bound to one Prometheus. Register the returned object on a worker
 * and call it from workflows through `proxyActivities<AnalysisActivities>()`.
 */
export function createAnalysisActivities(deps: AnalysisActivityDeps) {
  const requestOptions = (): PrometheusRequestOptions => {
    const signal = activityContext()?.cancellationSignal;
    return {
      timeoutMs: deps.queryTimeoutMs ?? 10_000,
      ...(deps.fetch && { fetch: deps.fetch }),
      ...(signal && { signal }),
    };
  };

  return {
    /**
     * Takes one measurement: runs the metric's query as an instant query now and judges the
     * values with its conditions (`assessMeasurement`). A Prometheus failure, retryable or
     * not, is an `Error` measurement carrying the error's code, never a thrown error, so that
     * the metric's `consecutiveErrorLimit` decides what it means (as in Argo Rollouts). Only an
     * invalid metric throws (non-retryable `AnalysisInvalid`).
     */
    async runMeasurement(input: RunMeasurementInput): Promise<Measurement> {
      let metric: Metric;
      try {
        metric = validateMetric(input.metric);
      } catch (err) {
        throw toFailure(err);
      }
      const startedAt = input.startedAt ?? new Date().toISOString();
      try {
        const values = await queryPrometheus(
          deps.prometheusUrl,
          metric.provider.prometheus.query,
          undefined,
          requestOptions(),
        );
        const assessment = assessMeasurement(metric, values);
        return {
          phase: assessment.phase,
          values: values.map(encodeSampleValue),
          startedAt,
          finishedAt: new Date().toISOString(),
          message: assessment.message,
          ...(assessment.errorCode !== undefined && { errorCode: assessment.errorCode }),
        };
      } catch (err) {
        if (!(err instanceof PrometheusError)) throw err;
        return {
          phase: MeasurementPhase.error,
          startedAt,
          finishedAt: new Date().toISOString(),
          message: err.message,
          errorCode: err.code,
        };
      }
    },

    /**
     * Collects samples for the Mann-Whitney judge: runs `query` as a range query over the
     * last `rangeSeconds` (to `end`) every `stepSeconds` and returns every finite value, series
     * after series (by label set), each in time order. NaN and ±Inf (a quantile or a ratio
     * over a window without traffic) are left out. Retryable Prometheus errors are thrown for
     * Temporal to retry; others are non-retryable `PrometheusNonRetryable` failures.
     */
    async collectSamples(input: CollectSamplesInput): Promise<number[]> {
      try {
        if (!(input.rangeSeconds > 0 && input.stepSeconds > 0))
          throw new AnalysisInputError(
            `rangeSeconds and stepSeconds must be positive (got ${input.rangeSeconds} and ${input.stepSeconds})`,
          );
        if (input.rangeSeconds / input.stepSeconds > MAX_SAMPLES_PER_SERIES)
          throw new AnalysisInputError(
            `rangeSeconds / stepSeconds must be at most ${MAX_SAMPLES_PER_SERIES} (got ${input.rangeSeconds / input.stepSeconds})`,
          );
        const end = input.end === undefined ? Date.now() : Date.parse(input.end);
        if (!Number.isFinite(end)) throw new AnalysisInputError(`end is not an ISO 8601 time: ${input.end}`);
        const series = await queryPrometheusRange(
          deps.prometheusUrl,
          input.query,
          { start: end - input.rangeSeconds * 1000, end, stepSeconds: input.stepSeconds },
          requestOptions(),
        );
        return series.flatMap((s) =>
          s.points.map(([, value]) => value).filter((value) => Number.isFinite(value)),
        );
      } catch (err) {
        throw toFailure(err);
      }
    },
  };
}

/** The analysis activities' type, for `proxyActivities<AnalysisActivities>()` in workflows. */
export type AnalysisActivities = ReturnType<typeof createAnalysisActivities>;
