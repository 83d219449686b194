import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  replicaSplit,
  resolveAnalysis,
  RolloutSpecSchema,
  rolloutKindOf,
  type RolloutSpecInput,
} from '../../domain/rollout.ts';
import { rolloutWorkflowId } from '../../domain/rollout-messages.ts';

const examples = join(import.meta.dirname, '..', '..', 'examples', 'rollouts');

const base = (strategy: unknown, extra: Record<string, unknown> = {}): RolloutSpecInput =>
  ({
    target: { cluster: 'local', namespace: 'ml', name: 'inference' },
    template: { containers: [{ name: 'server', image: 'registry.local/inference:v2' }] },
    strategy,
    requestedBy: 'sre',
    reason: 'test',
    ...extra,
  }) as RolloutSpecInput;

const issues = (input: unknown) => {
  const result = RolloutSpecSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('rollout spec', () => {
  it('accepts every example in examples/rollouts', () => {
    const files = readdirSync(examples).filter(
      (f) => /-llm-serving\.yaml$/.test(f) && !f.includes('services'),
    );
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const spec = RolloutSpecSchema.parse(parse(readFileSync(join(examples, file), 'utf8')));
      expect(rolloutWorkflowId(spec.target)).toBe('rollout/local/serving/llm-serving');
      expect(rolloutKindOf(spec)).toBe(file.startsWith('canary') ? 'canary' : 'bluegreen');
    }
  });

  it('fills defaults', () => {
    const spec = RolloutSpecSchema.parse(base({ canary: { steps: [{ setWeight: 20 }, { pause: {} }] } }));
    expect(spec).toMatchObject({
      progressDeadlineSeconds: 600,
      capacityCheckInterval: '10s',
      priority: 100,
      analysisTemplates: [],
      strategy: { canary: { dynamicStableScale: false, trafficRouter: 'replicaRatio' } },
    });
    const bg = RolloutSpecSchema.parse(base({ blueGreen: { activeService: 'inference' } }));
    expect(bg.strategy).toEqual({
      blueGreen: { activeService: 'inference', autoPromotionEnabled: true, scaleDownDelaySeconds: 30 },
    });
  });

  it('names every problem by its path', () => {
    expect(
      issues(base({ canary: { steps: [{ setWeight: 120 }, { pause: { duration: 'soon' } }] } })),
    ).toEqual([
      'strategy.canary.steps.0.setWeight: Too big: expected number to be <=100',
      'strategy.canary.steps.1.pause.duration: expected a positive duration such as "30s", "5m" or "1h30m"',
    ]);
    const rate = {
      name: 'rate',
      args: [{ name: 'version' }],
      metrics: [{ name: 'm', provider: { prometheus: { query: 'x{v="{{args.version}}"}' } } }],
    };
    expect(
      issues(
        base(
          {
            canary: {
              steps: [{ setWeight: 20 }, { analysis: { templates: [{ templateName: 'nope' }] } }],
              analysis: { templates: [{ templateName: 'rate' }], startingStep: 3 },
            },
          },
          { analysisTemplates: [rate] },
        ),
      ),
    ).toEqual([
      'strategy.canary.steps.1.analysis.templates.0.templateName: no analysis template named "nope" in analysisTemplates',
      'strategy.canary.analysis.args: template rate needs a value for argument version',
      'strategy.canary.analysis.startingStep: must name a step (0-1)',
    ]);
    expect(issues(base({ blueGreen: { activeService: 'a', previewService: 'a' } }))).toEqual([
      'strategy.blueGreen.previewService: must differ from activeService',
    ]);
    expect(
      issues(base({ canary: { steps: [{ setWeight: 1 }] }, blueGreen: { activeService: 'a' } })),
    ).toEqual(['strategy: needs exactly one of canary or blueGreen']);
    expect(issues({ ...base({ canary: { steps: [{ setWeight: 1 }] } }), template: {} })).toEqual([
      'template: the template must change at least one container, label or annotation',
    ]);
  });

  it('splits replicas by weight, rounding the canary up', () => {
    expect(replicaSplit(4, 25, false)).toEqual({ canary: 1, stable: 4 });
    expect(replicaSplit(4, 25, true)).toEqual({ canary: 1, stable: 3 });
    expect(replicaSplit(3, 10, true)).toEqual({ canary: 1, stable: 2 });
    expect(replicaSplit(3, 0, true)).toEqual({ canary: 0, stable: 3 });
    expect(replicaSplit(3, 100, true)).toEqual({ canary: 3, stable: 0 });
    expect(replicaSplit(10, 55, false)).toEqual({ canary: 6, stable: 10 });
  });

  it('fills built-in analysis arguments the template declares', () => {
    const template = {
      name: 't',
      args: [{ name: 'namespace' }, { name: 'workload' }, { name: 'version' }],
      metrics: [
        {
          name: 'm',
          provider: {
            prometheus: {
              query: 'up{namespace="{{args.namespace}}",app="{{args.workload}}",v="{{args.version}}"}',
            },
          },
          failureLimit: 0,
          inconclusiveLimit: 0,
          consecutiveErrorLimit: 4,
        },
      ],
    };
    const [metric] = resolveAnalysis(
      template,
      { templates: [{ templateName: 't' }], args: [{ name: 'version', value: 'canary' }], judges: [] },
      { cluster: 'local', namespace: 'ml', name: 'inference' },
    );
    expect(metric!.provider.prometheus.query).toBe('up{namespace="ml",app="inference",v="canary"}');
  });
});

describe('rollout spec: analyses that would never end or would merge measurements', () => {
  const metricOf = (name: string, fields: Record<string, unknown> = {}) => ({
    name,
    provider: { prometheus: { query: 'up' } },
    failureCondition: 'result[0] >= 0.05',
    ...fields,
  });
  const template = (name: string, ...metrics: Record<string, unknown>[]) => ({ name, metrics });
  const forever = template('guard', metricOf('error-rate', { interval: '30s' }));
  const bounded = template('rate', metricOf('error-rate', { interval: '30s', count: 3 }));

  // Issue 14 item 3: a step analysis whose metric has an interval and no count measured forever.
  it('refuses a metric with an interval and no count in every analysis the rollout waits for', () => {
    const message =
      'metric "error-rate" of template "guard" has interval 30s but no count: this analysis is waited for, so it would measure forever; set count (only a background analysis may measure until the rollout ends)';
    const ref = { templates: [{ templateName: 'guard' }] };
    expect(
      issues(
        base({ canary: { steps: [{ setWeight: 20 }, { analysis: ref }] } }, { analysisTemplates: [forever] }),
      ),
    ).toEqual([`strategy.canary.steps.1.analysis.templates.0.templateName: ${message}`]);
    expect(
      issues(
        base(
          { blueGreen: { activeService: 'web', prePromotionAnalysis: ref, postPromotionAnalysis: ref } },
          { analysisTemplates: [forever] },
        ),
      ),
    ).toEqual([
      `strategy.blueGreen.prePromotionAnalysis.templates.0.templateName: ${message}`,
      `strategy.blueGreen.postPromotionAnalysis.templates.0.templateName: ${message}`,
    ]);
  });

  it('accepts such a metric in a background analysis (ended with the rollout), and bounded or one-shot metrics anywhere', () => {
    const oneShot = template('once', metricOf('error-rate'));
    expect(
      issues(
        base(
          {
            canary: {
              steps: [
                { setWeight: 20 },
                { analysis: { templates: [{ templateName: 'rate' }] } },
                { analysis: { templates: [{ templateName: 'once' }] } },
              ],
              analysis: { templates: [{ templateName: 'guard' }] },
            },
          },
          { analysisTemplates: [forever, bounded, oneShot] },
        ),
      ),
    ).toEqual([]);
  });

  // Issue 14 item 4: two templates of one analysis defining one metric name merged their measurements.
  it('refuses two templates of one analysis that define the same metric name, naming both', () => {
    const other = template('latency', metricOf('p99'), metricOf('error-rate', { count: 1 }));
    const ref = { templates: [{ templateName: 'rate' }, { templateName: 'latency' }] };
    const expected = [
      'strategy.canary.steps.0.analysis.templates.1.templateName: templates "rate" (templates[0]) and "latency" (templates[1]) both define metric "error-rate": an analysis keeps measurements by metric name, so metric names must be unique across its templates',
    ];
    expect(
      issues(base({ canary: { steps: [{ analysis: ref }] } }, { analysisTemplates: [bounded, other] })),
    ).toEqual(expected);
    expect(
      issues(
        base(
          { canary: { steps: [{ setWeight: 10 }], analysis: ref } },
          { analysisTemplates: [bounded, other] },
        ),
      ),
    ).toEqual([expected[0]!.replace('strategy.canary.steps.0.analysis', 'strategy.canary.analysis')]);
  });

  it('refuses one template listed twice in an analysis, and two judges of one name', () => {
    const judge = { name: 'latency', canaryQuery: 'a', stableQuery: 'b' };
    expect(
      issues(
        base(
          {
            blueGreen: {
              activeService: 'web',
              postPromotionAnalysis: {
                templates: [{ templateName: 'rate' }, { templateName: 'rate' }],
                judges: [judge, judge],
              },
            },
          },
          { analysisTemplates: [bounded] },
        ),
      ),
    ).toEqual([
      'strategy.blueGreen.postPromotionAnalysis.templates.1.templateName: template "rate" is listed twice (templates[0] and templates[1]): its metric "error-rate" would be measured twice into one list',
      'strategy.blueGreen.postPromotionAnalysis.judges.1.name: duplicates judges[0].name "latency"',
    ]);
  });

  it('keeps metrics of one name apart when they belong to different analyses', () => {
    expect(
      issues(
        base(
          {
            canary: {
              steps: [{ setWeight: 10 }, { analysis: { templates: [{ templateName: 'rate' }] } }],
              analysis: { templates: [{ templateName: 'guard' }] },
            },
          },
          { analysisTemplates: [bounded, forever] },
        ),
      ),
    ).toEqual([]);
  });
});

// Inputs of the same kinds found after the first fixes (a QA pass over the fixed API).
describe('rollout spec: analyses that could never fail, shadowed templates, durations past any clock', () => {
  const metricOf = (fields: Record<string, unknown>) => ({
    name: 'error-rate',
    provider: { prometheus: { query: 'up' } },
    failureCondition: 'result[0] > 0.5',
    ...fields,
  });
  const withTemplates = (...analysisTemplates: unknown[]) =>
    base(
      { canary: { steps: [{ setWeight: 20 }, { analysis: { templates: [{ templateName: 't1' }] } }] } },
      { analysisTemplates },
    );

  it('refuses a failureLimit that is not less than the measurements taken (the metric could never fail)', () => {
    const spec = withTemplates({
      name: 't1',
      metrics: [metricOf({ count: 2, interval: '1s', failureLimit: 5 })],
    });
    expect(issues(spec)).toEqual([
      'analysisTemplates.0.metrics.0.failureLimit: must be less than the 2 measurement(s) the metric takes (failureLimit is 5): the metric could never fail',
    ]);
    // A one-shot metric takes one measurement.
    expect(issues(withTemplates({ name: 't1', metrics: [metricOf({ failureLimit: 1 })] }))).toHaveLength(1);
    // failureLimit 1 of 3: the second failure fails the metric.
    expect(
      issues(
        withTemplates({ name: 't1', metrics: [metricOf({ count: 3, interval: '1s', failureLimit: 1 })] }),
      ),
    ).toEqual([]);
  });

  it('refuses two analysisTemplates of one name (the second would silently replace the first)', () => {
    const spec = withTemplates(
      { name: 't1', metrics: [metricOf({ count: 1 })] },
      { name: 't1', metrics: [{ ...metricOf({ count: 1 }), name: 'other' }] },
    );
    expect(issues(spec)).toEqual([
      'analysisTemplates.1.name: duplicates analysisTemplates[0].name "t1": template names must be unique',
    ]);
  });

  it('refuses durations past 365 days, however they are written', () => {
    for (const duration of ['99999999999999999999w', '366d', '53w']) {
      expect(issues(base({ canary: { steps: [{ pause: { duration } }] } }))).toEqual([
        'strategy.canary.steps.0.pause.duration: must be at most 365d',
      ]);
    }
    expect(issues(base({ canary: { steps: [{ pause: { duration: '7d' } }] } }))).toEqual([]);
    expect(
      issues(base({ canary: { steps: [{ setWeight: 10 }] } }, { capacityCheckInterval: '1000w' })),
    ).toEqual(['capacityCheckInterval: must be at most 365d']);
  });
});
