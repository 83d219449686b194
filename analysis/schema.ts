import { z } from 'zod';
import { text } from '../domain/strings.ts';
import { parseDuration } from '../policy/duration.ts';
import { ConditionSyntaxError, parseCondition } from './condition.ts';
import { SampleValueSchema } from './sample-value.ts';

/** Names of templates and metrics look like Kubernetes object names (they end up in ids and labels). */
export const ANALYSIS_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Template argument names, as written in `{{args.NAME}}` placeholders. */
export const ARG_NAME_PATTERN = /^[A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?$/;
/** `{{args.NAME}}` (spaces allowed inside the braces) in a query. */
export const ARG_PLACEHOLDER_PATTERN = /\{\{\s*args\.([A-Za-z0-9][-_.A-Za-z0-9]*)\s*\}\}/g;

/** The default of `consecutiveErrorLimit`, as in Argo Rollouts. */
export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;

const NameSchema = z
  .string()
  .max(63)
  .regex(
    ANALYSIS_NAME_PATTERN,
    'must be a lowercase name of a-z, 0-9 and "-", starting and ending alphanumeric',
  );

/**
 * Longest duration a rollout or analysis accepts (a pause, an interval, a delay): 365 days.
 * Longer ones are typing mistakes, and past about 8.6e15 ms a time is not representable at all.
 */
export const MAX_DURATION_MS = 365 * 86_400_000;

/**
 * A duration as operators write it: `"30s"`, `"5m"`, `"1h30m"` (ms, s, m, h, d, w), positive
 * and at most {@link MAX_DURATION_MS}.
 */
export const AnalysisDurationSchema = z
  .string()
  .max(100)
  .refine((text) => parseDuration(text) !== undefined, {
    message: 'expected a positive duration such as "30s", "5m" or "1h30m"',
  })
  .refine((text) => (parseDuration(text) ?? 0) <= MAX_DURATION_MS, {
    message: 'must be at most 365d',
  });

/**
 * A condition in the analysis condition language (docs/analysis.md), checked when the
 * template is parsed: a mistake is reported with its column, what was expected and what was
 * found, e.g. `column 14: expected ')', found '&&'`.
 */
export const ConditionSourceSchema = z
  .string()
  .min(1, 'must not be empty')
  .superRefine((source, ctx) => {
    try {
      parseCondition(source);
    } catch (err) {
      if (!(err instanceof ConditionSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message, params: { position: err.position } });
    }
  });

/** Where a metric's values come from. Only Prometheus is built in. */
export const MetricProviderSchema = z.strictObject({
  prometheus: z.strictObject({
    /**
     * A PromQL expression evaluated as an instant query; may contain `{{args.NAME}}`
     * placeholders, resolved by `resolveAnalysisTemplate`. Its result is `result` in the
     * conditions: the values of the vector's series ordered by their labels, or the scalar.
     */
    query: text({ max: 10_000 }).min(1, 'must not be empty'),
  }),
});

/**
 * One metric of an analysis, in Argo Rollouts' vocabulary: what to query, how to judge each
 * measurement, how often and how many times to measure, and how many bad measurements to
 * tolerate. See docs/analysis.md for the rules that turn measurements into a decision.
 */
export const MetricSchema = z
  .strictObject({
    name: NameSchema,
    provider: MetricProviderSchema,
    /** A measurement is Successful when this holds (and the failure condition does not). */
    successCondition: ConditionSourceSchema.optional(),
    /** A measurement is Failed when this holds; it wins over the success condition. */
    failureCondition: ConditionSourceSchema.optional(),
    /** Time between measurements; without it (and without `count`) the metric is measured once. */
    interval: AnalysisDurationSchema.optional(),
    /**
     * Measurements (not counting Error ones) after which the metric is Successful if no limit
     * was crossed. Absent with an `interval`: measure until a limit is crossed or the
     * analysis is terminated. Absent without an interval: 1.
     */
    count: z.int().min(1).max(10_000).optional(),
    /** Wait before the first measurement, e.g. to let the canary take traffic. @default none */
    initialDelay: AnalysisDurationSchema.optional(),
    /** Failed measurements tolerated; one more fails the metric. @default 0 */
    failureLimit: z.int().min(0).max(10_000).default(0),
    /** Inconclusive measurements tolerated; one more makes the metric Inconclusive. @default 0 */
    inconclusiveLimit: z.int().min(0).max(10_000).default(0),
    /** Error measurements in a row tolerated; one more fails the metric. @default 4 */
    consecutiveErrorLimit: z.int().min(0).max(10_000).default(DEFAULT_CONSECUTIVE_ERROR_LIMIT),
  })
  .superRefine((metric, ctx) => {
    if (metric.count !== undefined && metric.count > 1 && metric.interval === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['interval'],
        message: `is required when count is more than 1 (count is ${metric.count})`,
      });
    // A metric fails on its (failureLimit + 1)th failed measurement; with no more measurements
    // than that it can never fail, and a bad canary would pass it.
    const measurements = metric.count ?? (metric.interval === undefined ? 1 : undefined);
    if (measurements !== undefined && metric.failureLimit >= measurements)
      ctx.addIssue({
        code: 'custom',
        path: ['failureLimit'],
        message: `must be less than the ${measurements} measurement(s) the metric takes (failureLimit is ${metric.failureLimit}): the metric could never fail`,
      });
  });
/** A validated metric, defaults filled. */
export type Metric = z.infer<typeof MetricSchema>;
/** A metric as an author may write it (defaults optional). */
export type MetricInput = z.input<typeof MetricSchema>;

/** A template argument; without a `value` it must be supplied when the template is resolved. */
export const AnalysisArgSchema = z.strictObject({
  name: z.string().max(253).regex(ARG_NAME_PATTERN, 'must be letters, digits, "-", "_" or "."'),
  value: text({ max: 4000 }).optional(),
});
export type AnalysisArg = z.infer<typeof AnalysisArgSchema>;

/**
 * A reusable analysis: arguments and metrics, after Argo Rollouts' AnalysisTemplate spec.
 * Every metric name is unique, and every `{{args.NAME}}` in a query names a declared argument.
 */
export const AnalysisTemplateSchema = z
  .strictObject({
    name: NameSchema,
    /** @default [] */
    args: z.array(AnalysisArgSchema).max(100).default([]),
    metrics: z.array(MetricSchema).min(1, 'must list at least one metric').max(50),
  })
  .superRefine((template, ctx) => {
    const seen = new Map<string, number>();
    template.metrics.forEach((metric, i) => {
      const first = seen.get(metric.name);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', i, 'name'],
          message: `duplicates metrics[${first}].name "${metric.name}"`,
        });
      else seen.set(metric.name, i);
    });
    const argNames = new Set<string>();
    template.args.forEach((arg, i) => {
      if (argNames.has(arg.name))
        ctx.addIssue({
          code: 'custom',
          path: ['args', i, 'name'],
          message: `duplicate argument "${arg.name}"`,
        });
      argNames.add(arg.name);
    });
    template.metrics.forEach((metric, i) => {
      for (const [, name] of metric.provider.prometheus.query.matchAll(ARG_PLACEHOLDER_PATTERN))
        if (!argNames.has(name!))
          ctx.addIssue({
            code: 'custom',
            path: ['metrics', i, 'provider', 'prometheus', 'query'],
            message: `uses {{args.${name}}} but the template declares no argument "${name}"`,
          });
    });
  });
/** A validated analysis template, defaults filled. */
export type AnalysisTemplate = z.infer<typeof AnalysisTemplateSchema>;
/** An analysis template as an author may write it. */
export type AnalysisTemplateInput = z.input<typeof AnalysisTemplateSchema>;

/** How one measurement turned out. */
export const MeasurementPhase = {
  successful: 'Successful',
  failed: 'Failed',
  inconclusive: 'Inconclusive',
  /** The value could not be obtained or judged (Prometheus unreachable, `result[0]` of nothing). */
  error: 'Error',
} as const;
export type MeasurementPhase = (typeof MeasurementPhase)[keyof typeof MeasurementPhase];

/**
 * One measurement of a metric, as kept in workflow state and the audit. JSON-safe: NaN and
 * infinities in `values` are stored as `"NaN"`, `"+Inf"`, `"-Inf"` (see sample-value.ts).
 */
export const MeasurementSchema = z.strictObject({
  phase: z.enum([
    MeasurementPhase.successful,
    MeasurementPhase.failed,
    MeasurementPhase.inconclusive,
    MeasurementPhase.error,
  ]),
  /** The query's result (what conditions call `result`); absent when the query failed. */
  values: z.array(SampleValueSchema).optional(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  /** Why the phase is what it is, e.g. the evaluation error or the Prometheus error. */
  message: z.string().optional(),
  /** The error code (`SENTINEL_ERR_PROMETHEUS_*`, `SENTINEL_ERR_ANALYSIS_*`) of an `Error` measurement. */
  errorCode: z.string().optional(),
});
export type Measurement = z.infer<typeof MeasurementSchema>;
