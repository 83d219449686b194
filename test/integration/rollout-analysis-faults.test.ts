import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryPrometheus } from '../../activities/prometheus.ts';
import { ERROR_RETRY_DELAY_MS, type Measurement } from '../../analysis/index.ts';
import type { RolloutSpecInput } from '../../domain/rollout.ts';
import { getWorkload } from '../../k8s/index.ts';
import { listAudit } from '../../store/audit.ts';
import { startPrometheus, type PrometheusServer } from '../../testbed/prometheus.ts';
import {
  deployServing,
  errorRatioQuery,
  FAILING,
  HEALTHY,
  removeServing,
  rolloutApi,
  startRolloutStack,
  steerSimulator,
  type RolloutStack,
} from '../support/rollout-stack.ts';
import { eventually } from '../support/stack.ts';

// Faults of analysis found by replaying peer tools' bug reports (issue 14, progressive
// delivery items 1-5), each on the real services: Temporal, a kube-apiserver with kwok nodes,
// Prometheus scraping the workload simulator, through the HTTP API.
let stack: RolloutStack;
let api: ReturnType<typeof rolloutApi>;
/** Prometheus as restarted by the outage test; stopped after the file. */
let restarted: PrometheusServer | undefined;
const NS = 'analysis-faults';

const target = (name: string) => ({ cluster: 'local', namespace: NS, name });
const deployment = (name: string) => ({ cluster: 'local', namespace: NS, kind: 'Deployment' as const, name });
const image = async (name: string) =>
  (await getWorkload(stack.registry, deployment(name))).spec.template.spec.containers[0]!.image;

const metric = (name: string, version: string, fields: Record<string, unknown>) => ({
  name,
  provider: { prometheus: { query: errorRatioQuery(version) } },
  ...fields,
});

/** The `issues` of a 400 answer, after checking it is a validation error. */
function issuesOf(body: unknown): { path: string; message: string }[] {
  expect(body).toMatchObject({ code: 'SENTINEL_ERR_VALIDATION' });
  return (body as { issues: { path: string; message: string }[] }).issues;
}

function spec(name: string, strategy: unknown, analysisTemplates: unknown[]): RolloutSpecInput {
  return {
    target: target(name),
    template: { containers: [{ name: 'server', image: 'registry.local/inference:v2' }] },
    strategy: strategy as RolloutSpecInput['strategy'],
    analysisTemplates: analysisTemplates as RolloutSpecInput['analysisTemplates'],
    progressDeadlineSeconds: 60,
    requestedBy: 'integration-test',
    reason: 'analysis faults',
  };
}

beforeAll(async () => {
  stack = await startRolloutStack();
  api = rolloutApi(stack.apiUrl);
});
afterAll(async () => {
  await restarted?.stop();
  await stack?.stop();
});

describe('analysis faults (issue 14)', () => {
  it('item 1: a canary with no traffic (NaN) is never Successful: the rollout pauses for a human', async () => {
    // Traffic series that exist but do not move: the error ratio is 0/0, NaN.
    stack.testbed.workloadSimulator!.setProfile('idle', { ...HEALTHY, rps: 0 });
    await eventually(
      () => queryPrometheus(stack.testbed.prometheus!.url, errorRatioQuery('idle')),
      (values) => values.length === 1 && Number.isNaN(values[0]),
      30_000,
    );
    await deployServing(stack.registry, { namespace: NS, name: 'untried', replicas: 2 });
    const id = `local/${NS}/untried`;
    const guard = {
      name: 'error-rate-guard',
      metrics: [
        metric('error-rate', 'idle', { failureCondition: 'result[0] >= 0.05', interval: '1s', count: 3 }),
      ],
    };
    const started = await api.start(
      spec(
        'untried',
        {
          canary: {
            steps: [
              { setWeight: 50 },
              { analysis: { templates: [{ templateName: 'error-rate-guard' }] } },
              { setWeight: 100 },
            ],
          },
        },
        [guard],
      ),
    );
    expect(started.status).toBe(201);

    const held = await api.until(id, (v) => v.status?.pause?.reason === 'inconclusive');
    expect(held.phase).toBe('Paused');
    const analysis = held.status!.analyses[0]!;
    expect(analysis.phase).toBe('Inconclusive');
    const [measurement, ...more] = analysis.metrics[0]!.measurements;
    expect(more).toEqual([]);
    expect(measurement).toMatchObject({ phase: 'Inconclusive', values: ['NaN'] });
    expect(measurement!.message).toMatch(
      /^the query returned NaN .*failureCondition \(result\[0\] >= 0\.05\) cannot judge it/,
    );
    expect(held.status?.pause?.message).toMatch(/analysis of step 1 inconclusive/);
    // Nothing was promoted: the stable still runs v1 and the rollout waits.
    expect(await image('untried')).not.toBe('registry.local/inference:v2');
    expect((await api.control(id, 'abort', { actor: 'sre', reason: 'nobody tried it' })).body.accepted).toBe(
      true,
    );
    expect((await api.finished(id)).phase).toBe('Aborted');
    await removeServing(stack.registry, NS, 'untried');
  });

  it('item 3 and 4: analyses that could never end or would merge measurements are refused at submission', async () => {
    const bounded = {
      name: 'error-rate',
      metrics: [
        metric('error-rate', 'canary', { successCondition: 'result[0] < 0.05', interval: '1s', count: 3 }),
      ],
    };
    const forever = {
      name: 'guard',
      metrics: [metric('error-rate', 'canary', { failureCondition: 'result[0] >= 0.2', interval: '1s' })],
    };
    const endless = await api.start(
      spec(
        'refused',
        { canary: { steps: [{ setWeight: 50 }, { analysis: { templates: [{ templateName: 'guard' }] } }] } },
        [forever],
      ),
    );
    expect(endless.status).toBe(400);
    expect(issuesOf(endless.body)).toEqual([
      expect.objectContaining({ path: 'strategy.canary.steps.1.analysis.templates.0.templateName' }),
    ]);
    expect(issuesOf(endless.body)[0]!.message).toMatch(
      /^metric "error-rate" of template "guard" has interval 1s but no count/,
    );

    const merged = await api.start(
      spec(
        'refused',
        {
          blueGreen: {
            activeService: 'refused',
            prePromotionAnalysis: { templates: [{ templateName: 'error-rate' }, { templateName: 'guard' }] },
          },
        },
        [bounded, forever],
      ),
    );
    expect(merged.status).toBe(400);
    expect(issuesOf(merged.body)).toEqual([
      expect.objectContaining({ path: 'strategy.blueGreen.prePromotionAnalysis.templates.1.templateName' }),
    ]);
    expect(issuesOf(merged.body)[0]!.message).toMatch(
      /^templates "error-rate" \(templates\[0\]\) and "guard" \(templates\[1\]\) both define metric "error-rate"/,
    );
    // Nothing was started.
    expect((await api.request('GET', `/v1/rollouts/local/${NS}/refused`)).status).toBe(404);
  });

  it('item 5: promote --full ends the running analyses (Skipped, who and why) and promotes; a later bad measurement changes nothing', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'overruled', replicas: 2 });
    await steerSimulator(stack, 'canary', HEALTHY);
    const id = `local/${NS}/overruled`;
    const templates = [
      {
        name: 'long',
        // 600 measurements a second apart: ten minutes unless something ends it.
        metrics: [
          metric('error-rate', 'canary', {
            successCondition: 'result[0] < 0.05',
            failureCondition: 'result[0] >= 0.2',
            interval: '1s',
            count: 600,
            inconclusiveLimit: 600,
          }),
        ],
      },
      {
        name: 'guard',
        metrics: [metric('error-rate', 'canary', { failureCondition: 'result[0] >= 0.2', interval: '1s' })],
      },
    ];
    await api.start(
      spec(
        'overruled',
        {
          canary: {
            steps: [
              { setWeight: 50 },
              { analysis: { templates: [{ templateName: 'long' }] } },
              { setWeight: 100 },
            ],
            analysis: { templates: [{ templateName: 'guard' }], startingStep: 1 },
          },
        },
        templates,
      ),
    );
    await api.until(
      id,
      (v) =>
        v.status?.currentStep === 1 &&
        (v.status.analyses.find((a) => a.id === 'step-1')?.metrics[0]?.counts.measured ?? 0) >= 1,
    );
    try {
      const promoted = await api.control(id, 'promote', { actor: 'sre', reason: 'ship it now', full: true });
      expect(promoted.body).toMatchObject({ accepted: true });
      // The canary goes bad right after the operator's decision: no analysis may act on it.
      await steerSimulator(stack, 'canary', FAILING);
      const view = await api.finished(id, 60_000);
      expect(view.phase).toBe('Promoted');
      const analyses = Object.fromEntries(view.status!.analyses.map((a) => [a.id, a]));
      for (const analysisId of ['step-1', 'background']) {
        expect(analyses[analysisId], analysisId).toMatchObject({
          phase: 'Skipped',
          message: 'skipped by sre: promote --full: ship it now',
          skipped: { actor: 'sre', reason: 'promote --full: ship it now' },
        });
        expect(analyses[analysisId]!.finishedAt).not.toBeNull();
        expect(analyses[analysisId]!.metrics[0]!.measurements.every((m) => m.phase !== 'Failed')).toBe(true);
      }
      expect(view.status?.steps.map((s) => s.phase)).toEqual([
        'Completed',
        'Skipped',
        'Skipped',
        'Completed',
      ]);
      expect(view.status?.steps[1]?.message).toBe('skipped by sre: promote --full: ship it now');
      expect(await image('overruled')).toBe('registry.local/inference:v2');
      const audited = (
        await listAudit(stack.database.db, { planId: `rollout/${id}`, kind: 'rollout.analysis' })
      ).map(
        (r) => (r.body as { analysis: { id: string; phase: string; skipped: { actor: string } } }).analysis,
      );
      expect(audited.map((a) => [a.id, a.phase, a.skipped.actor]).sort()).toEqual([
        ['background', 'Skipped', 'sre'],
        ['step-1', 'Skipped', 'sre'],
      ]);
    } finally {
      await steerSimulator(stack, 'canary', HEALTHY);
    }
    await removeServing(stack.registry, NS, 'overruled');
  });

  // Last: it restarts Prometheus.
  it('item 2: an Error measurement is retried after its own delay, so a short Prometheus outage costs one Error and the rollout promotes', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'outage', replicas: 2 });
    await steerSimulator(stack, 'canary', HEALTHY);
    const id = `local/${NS}/outage`;
    // A one-shot metric: no interval, so the old retry "at the interval" came at once.
    const once = {
      name: 'once',
      metrics: [
        metric('error-rate', 'canary', {
          successCondition: 'result[0] < 0.05',
          failureCondition: 'result[0] >= 0.2',
        }),
      ],
    };
    await api.start(
      spec(
        'outage',
        {
          canary: {
            steps: [
              { setWeight: 50 },
              { pause: {} },
              { analysis: { templates: [{ templateName: 'once' }] } },
              { setWeight: 100 },
            ],
          },
        },
        [once],
      ),
    );
    await api.until(id, (v) => v.status?.pause?.reason === 'step');

    const prometheus = stack.testbed.prometheus!;
    const outageStart = Date.now();
    await prometheus.process.stop();
    expect((await api.control(id, 'promote', { actor: 'sre' })).body.accepted).toBe(true);
    const measurementsOf = (view: Awaited<ReturnType<typeof api.get>>): Measurement[] =>
      view.status?.analyses.find((a) => a.id === 'step-2')?.metrics[0]?.measurements ?? [];
    await api.until(id, (v) => measurementsOf(v).some((m) => m.phase === 'Error'));
    // Prometheus comes back on the same address (a restart), with a fresh TSDB.
    restarted = await startPrometheus({
      dataDir: join(dirname(prometheus.process.logFile), 'restarted'),
      scrapeTargets: prometheus.scrapeTargets,
      port: prometheus.port,
    });
    await restarted.waitForTargetsUp();
    await eventually(
      () => queryPrometheus(restarted!.url, errorRatioQuery('canary')).catch(() => []),
      (values) => values.length === 1 && Number.isFinite(values[0]),
      30_000,
    );
    const outageMs = Date.now() - outageStart;

    const view = await api.finished(id);
    expect(view.phase).toBe('Promoted');
    const measurements = measurementsOf(view);
    expect(measurements.at(-1)?.phase).toBe('Successful');
    const errors = measurements.filter((m) => m.phase === 'Error');
    expect(errors[0]).toMatchObject({ errorCode: 'SENTINEL_ERR_PROMETHEUS_UNAVAILABLE' });
    // Each try after an Error waited ERROR_RETRY_DELAY_MS, so an outage costs one Error per
    // 10 s it lasts (one, for a restart of a few seconds), never the whole error budget.
    expect(errors.length).toBeLessThanOrEqual(Math.ceil(outageMs / ERROR_RETRY_DELAY_MS));
    measurements.slice(1).forEach((next, i) => {
      const previous = measurements[i]!;
      if (previous.phase === 'Error')
        expect(Date.parse(next.startedAt) - Date.parse(previous.finishedAt)).toBeGreaterThanOrEqual(
          ERROR_RETRY_DELAY_MS - 100,
        );
    });
    await removeServing(stack.registry, NS, 'outage');
  });
});
