import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalysisActivities } from '../../activities/analysis-activities.ts';
import { PrometheusError, queryPrometheus } from '../../activities/prometheus.ts';
import {
  decodeSampleValue,
  mannWhitneyJudge,
  metricRunState,
  validateMetric,
  type Measurement,
} from '../../analysis/index.ts';
import { startTestbed, type Testbed } from '../../testbed/index.ts';
import { freePort } from '../../testbed/ports.ts';
import { putWorkloadProfile, startWorkloadSimulator } from '../../testbed/workload-simulator.ts';

// Analysis end to end on real services: the workload simulator makes up traffic for a stable
// and a canary version, a real Prometheus scrapes it every second, and the analysis activities
// query Prometheus and judge the results with the pure analysis engine.

const HEALTHY = { errorRate: 0.01, latencyMs: { p50: 50, p99: 200 }, rps: 100 } as const;

const errorRatio = (version: string) =>
  `sum(rate(http_requests_total{version="${version}",status=~"5.."}[10s])) / sum(rate(http_requests_total{version="${version}"}[10s]))`;
const medianLatency = (version: string) =>
  `histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{version="${version}"}[5s])))`;

let testbed: Testbed;
let prometheusUrl: string;
let simulatorUrl: string;
let startedAt: number;
let activities: ReturnType<typeof createAnalysisActivities>;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`not reached in ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await sleep(500);
  }
}

beforeAll(async () => {
  testbed = await startTestbed({
    prometheus: true,
    workloadSimulator: { seed: 7, profiles: { stable: HEALTHY, canary: HEALTHY } },
  });
  startedAt = Date.now();
  prometheusUrl = testbed.prometheus!.url;
  simulatorUrl = testbed.workloadSimulator!.url;
  activities = createAnalysisActivities({ prometheusUrl });
  await testbed.prometheus!.waitForTargetsUp();
  // rate() over 10 s needs two scrapes inside the window.
  await until(
    () => queryPrometheus(prometheusUrl, errorRatio('canary')),
    (values) => values.length === 1 && Number.isFinite(values[0]),
  );
});

afterAll(async () => {
  await testbed?.stop();
});

describe('runMeasurement against Prometheus and the workload simulator', () => {
  const metric = validateMetric({
    name: 'canary-error-rate',
    provider: { prometheus: { query: errorRatio('canary') } },
    successCondition: 'result[0] < 0.05',
    failureCondition: 'result[0] >= 0.1',
    interval: '1s',
    count: 3,
  });

  it('measures a healthy canary as Successful, and the metric succeeds at its count', async () => {
    const measurements: Measurement[] = [];
    while (metricRunState(metric, measurements).decision === 'continue') {
      measurements.push(await activities.runMeasurement({ metric, startedAt: new Date().toISOString() }));
      await sleep(metricRunState(metric, measurements).nextMeasurementDelayMs ?? 0);
    }
    expect(measurements.map((m) => m.phase)).toEqual(['Successful', 'Successful', 'Successful']);
    const ratio = decodeSampleValue(measurements[0]!.values![0]!);
    expect(ratio).toBeGreaterThanOrEqual(0);
    expect(ratio).toBeLessThan(0.05);
    expect(metricRunState(metric, measurements)).toMatchObject({
      decision: 'successful',
      reason: 'count-reached',
    });
  });

  it('measures the canary as Failed once it is steered (over HTTP) to 30% errors', async () => {
    await putWorkloadProfile(simulatorUrl, 'canary', { ...HEALTHY, errorRate: 0.3 });
    const failed = await until(
      () => activities.runMeasurement({ metric }),
      (m) => m.phase === 'Failed',
    );
    expect(decodeSampleValue(failed.values![0]!)).toBeGreaterThanOrEqual(0.1);
    expect(failed.message).toBe('failureCondition holds: result[0] >= 0.1');
    expect(Date.parse(failed.finishedAt)).toBeGreaterThanOrEqual(Date.parse(failed.startedAt));
    // The full 10 s window then settles near the configured 30%.
    await sleep(11_000);
    const settled = await activities.runMeasurement({ metric });
    expect(settled.phase).toBe('Failed');
    expect(decodeSampleValue(settled.values![0]!)).toBeGreaterThan(0.2);
    expect(decodeSampleValue(settled.values![0]!)).toBeLessThan(0.4);
    expect(metricRunState(metric, [settled])).toMatchObject({ decision: 'failed', reason: 'failure-limit' });
    testbed.workloadSimulator!.setProfile('canary', HEALTHY);
  });

  it('turns Prometheus errors into Error measurements with their code', async () => {
    const badQuery = await activities.runMeasurement({
      metric: { ...metric, provider: { prometheus: { query: 'sum(rate(http_requests_total[10s]' } } },
    });
    expect(badQuery).toMatchObject({ phase: 'Error', errorCode: 'SENTINEL_ERR_PROMETHEUS_BAD_QUERY' });

    const empty = await activities.runMeasurement({
      metric: { ...metric, provider: { prometheus: { query: 'http_requests_total{version="nope"}' } } },
    });
    // No series is no data, not a fault of the query: Inconclusive (never Successful, never an
    // Error that would count toward a rollback), unless a condition tests for it.
    expect(empty).toMatchObject({ phase: 'Inconclusive', values: [] });
    expect(empty.errorCode).toBeUndefined();

    const unreachable = createAnalysisActivities({ prometheusUrl: `http://127.0.0.1:${await freePort()}` });
    expect(await unreachable.runMeasurement({ metric })).toMatchObject({
      phase: 'Error',
      errorCode: 'SENTINEL_ERR_PROMETHEUS_UNAVAILABLE',
    });
  });
});

describe('queryPrometheus', () => {
  it('returns scalars and vectors as numbers, NaN included, in label order', async () => {
    expect(await queryPrometheus(prometheusUrl, '1 + 1')).toEqual([2]);
    expect(await queryPrometheus(prometheusUrl, 'vector(0) / vector(0)')).toEqual([NaN]);
    const byVersion = await queryPrometheus(
      prometheusUrl,
      'sum by (version) (http_requests_total) > bool 0',
      new Date(),
    );
    expect(byVersion).toEqual([1, 1]); // canary, stable
  });

  it('refuses range vectors and bad PromQL with typed, non-retryable errors', async () => {
    const range = await queryPrometheus(prometheusUrl, 'http_requests_total[5s]').catch((e: unknown) => e);
    expect(range).toBeInstanceOf(PrometheusError);
    expect(range).toMatchObject({ code: 'SENTINEL_ERR_PROMETHEUS_UNSUPPORTED_RESULT', retryable: false });
    const bad = await queryPrometheus(prometheusUrl, 'rate(').catch((e: unknown) => e);
    expect(bad).toMatchObject({
      code: 'SENTINEL_ERR_PROMETHEUS_BAD_QUERY',
      retryable: false,
      httpStatus: 400,
      errorType: 'bad_data',
    });
  });

  it('collectSamples fails a bad query as a non-retryable activity failure', async () => {
    const failure = await activities
      .collectSamples({ query: 'rate(', rangeSeconds: 10, stepSeconds: 1 })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'PrometheusNonRetryable', nonRetryable: true });
  });
});

describe('Mann-Whitney judge on latency samples collected from Prometheus', () => {
  const samples = (version: string, rangeSeconds: number) =>
    activities.collectSamples({ query: medianLatency(version), rangeSeconds, stepSeconds: 1 });

  it('passes a canary with the same latency profile as stable', async () => {
    // 20 s of history with a full 5 s rate window behind every point.
    await sleep(Math.max(0, startedAt + 27_000 - Date.now()));
    const [canary, stable] = await Promise.all([samples('canary', 20), samples('stable', 20)]);
    expect(canary.length).toBeGreaterThanOrEqual(15);
    expect(stable.length).toBeGreaterThanOrEqual(15);
    const result = mannWhitneyJudge(canary, stable, { confidence: 0.95, tolerance: 0.1 });
    expect(result.verdict, result.reason).toBe('pass');
    expect(Math.abs(result.effect!)).toBeLessThan(0.1);
  });

  it('fails a canary steered to triple latency', async () => {
    testbed.workloadSimulator!.setProfile('canary', { ...HEALTHY, latencyMs: { p50: 150, p99: 600 } });
    // Every point of a 10 s range, with its 5 s rate window, after the change (plus a scrape).
    await sleep(17_000);
    const [canary, stable] = await Promise.all([samples('canary', 10), samples('stable', 10)]);
    const result = mannWhitneyJudge(canary, stable, { confidence: 0.95, tolerance: 0.1 });
    expect(result.verdict, result.reason).toBe('fail');
    expect(result.effect!).toBeGreaterThan(1);
    expect(result.pValue).toBeLessThan(0.001);
  });
});

describe('Prometheus reload', () => {
  it('scrapes a target added by reload', async () => {
    await using extra = await startWorkloadSimulator({ seed: 9, profiles: { green: { rps: 20 } } });
    const prometheus = testbed.prometheus!;
    await prometheus.reload([...prometheus.scrapeTargets, { job: 'extra', targets: [extra.metricsTarget] }]);
    await prometheus.waitForTargetsUp();
    const up = await until(
      () => queryPrometheus(prometheusUrl, 'up{job="extra"}'),
      (values) => values.length === 1,
    );
    expect(up).toEqual([1]);
    await prometheus.reload(prometheus.scrapeTargets.filter((job) => job.job !== 'extra'));
    expect((await prometheus.targets()).map((t) => t.job).sort()).toEqual([
      'prometheus',
      'workload-simulator',
    ]);
  });
});
