import { describe, expect, it } from 'vitest';
import { AnalysisInputError, AnalysisValidationError } from './errors.ts';
import { decodeSampleValue, encodeSampleValue } from './sample-value.ts';
import { MeasurementSchema, MetricSchema } from './schema.ts';
import type { AnalysisTemplateInput } from './schema.ts';
import { resolveAnalysisTemplate, validateAnalysisTemplate, validateMetric } from './template.ts';

const errorRate: AnalysisTemplateInput = {
  name: 'error-rate',
  args: [{ name: 'version' }, { name: 'window', value: '30s' }],
  metrics: [
    {
      name: 'error-rate',
      provider: {
        prometheus: {
          query:
            'sum(rate(http_requests_total{version="{{args.version}}",status=~"5.."}[{{ args.window }}])) / sum(rate(http_requests_total{version="{{args.version}}"}[{{args.window}}]))',
        },
      },
      successCondition: 'result[0] < 0.05',
      failureCondition: 'result[0] >= 0.1',
      interval: '10s',
      count: 5,
      initialDelay: '30s',
      failureLimit: 1,
    },
  ],
};

function issues(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof AnalysisValidationError) return [...err.issues];
    throw err;
  }
  throw new Error('expected a validation error');
}

describe('analysis templates', () => {
  it('validates a template and fills the Argo defaults', () => {
    const template = validateAnalysisTemplate(errorRate);
    expect(template.metrics[0]).toMatchObject({
      failureLimit: 1,
      inconclusiveLimit: 0,
      consecutiveErrorLimit: 4,
    });
    // Defaults filled: a parsed template parses again to itself.
    expect(validateAnalysisTemplate(template)).toEqual(template);
  });

  it('reports a bad condition with its path and column', () => {
    const bad = structuredClone(errorRate);
    bad.metrics[0]!.successCondition = 'result[0] < 0.05 &&';
    expect(issues(() => validateAnalysisTemplate(bad))).toEqual([
      {
        path: 'metrics[0].successCondition',
        message:
          "column 20: expected a number, 'result', 'true', 'false', a function call, '!', '-' or '(', found end of input",
      },
    ]);
  });

  it('lists every problem: durations, limits, unknown fields, count without interval', () => {
    const found = issues(() =>
      validateMetric({
        name: 'Bad_Name',
        provider: { prometheus: { query: 'up' } },
        count: 3,
        initialDelay: 'soon',
        failureLimit: -1,
        extra: true,
      }),
    );
    expect(found.map((i) => i.path).sort()).toEqual(['', 'failureLimit', 'initialDelay', 'interval', 'name']);
    const second = issues(() =>
      validateMetric({ name: 'm', provider: { prometheus: { query: 'up' } }, count: 3 }),
    );
    expect(second).toEqual([
      { path: 'interval', message: 'is required when count is more than 1 (count is 3)' },
    ]);
  });

  it('rejects duplicate metric names, duplicate args and undeclared placeholders', () => {
    const bad = structuredClone(errorRate);
    bad.metrics.push(structuredClone(bad.metrics[0]!));
    bad.args!.push({ name: 'version' });
    bad.metrics[1]!.provider.prometheus.query = 'up{job="{{args.job}}"}';
    expect(issues(() => validateAnalysisTemplate(bad))).toEqual([
      { path: 'metrics[1].name', message: 'duplicates metrics[0].name "error-rate"' },
      { path: 'args[2].name', message: 'duplicate argument "version"' },
      {
        path: 'metrics[1].provider.prometheus.query',
        message: 'uses {{args.job}} but the template declares no argument "job"',
      },
    ]);
  });

  it('resolves arguments into the queries, defaults included', () => {
    const [metric] = resolveAnalysisTemplate(validateAnalysisTemplate(errorRate), { version: 'canary' });
    expect(metric!.provider.prometheus.query).toBe(
      'sum(rate(http_requests_total{version="canary",status=~"5.."}[30s])) / sum(rate(http_requests_total{version="canary"}[30s]))',
    );
    const [overridden] = resolveAnalysisTemplate(validateAnalysisTemplate(errorRate), {
      version: 'x',
      window: '1m',
    });
    expect(overridden!.provider.prometheus.query).toContain('[1m]');
  });

  it('refuses missing and unknown arguments', () => {
    const template = validateAnalysisTemplate(errorRate);
    expect(() => resolveAnalysisTemplate(template)).toThrow(
      new AnalysisInputError('template error-rate needs a value for argument version'),
    );
    expect(() => resolveAnalysisTemplate(template, { version: 'a', versoin: 'b' })).toThrow(
      /declares no argument versoin/,
    );
  });

  it('a metric without interval or count validates (measured once)', () => {
    expect(MetricSchema.parse({ name: 'once', provider: { prometheus: { query: 'up' } } })).toEqual({
      name: 'once',
      provider: { prometheus: { query: 'up' } },
      failureLimit: 0,
      inconclusiveLimit: 0,
      consecutiveErrorLimit: 4,
    });
  });
});

describe('measurements', () => {
  it('keep NaN and infinities through JSON', () => {
    const values = [0.5, NaN, Infinity, -Infinity].map(encodeSampleValue);
    const measurement = MeasurementSchema.parse({
      phase: 'Inconclusive',
      values,
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: '2025-01-01T00:00:01.000Z',
    });
    const roundTripped = MeasurementSchema.parse(JSON.parse(JSON.stringify(measurement)));
    expect(roundTripped.values!.map(decodeSampleValue)).toEqual([0.5, NaN, Infinity, -Infinity]);
  });

  it('rejects unknown phases and non-ISO times', () => {
    expect(
      MeasurementSchema.safeParse({
        phase: 'Running',
        startedAt: 'now',
        finishedAt: 'later',
      }).error?.issues.map((i) => i.path.join('.')),
    ).toEqual(['phase', 'startedAt', 'finishedAt']);
  });
});
