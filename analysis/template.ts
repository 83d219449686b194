import type { z } from 'zod';
import { AnalysisInputError, AnalysisValidationError } from './errors.ts';
import type { AnalysisIssue } from './errors.ts';
import { ARG_PLACEHOLDER_PATTERN, AnalysisTemplateSchema, MetricSchema } from './schema.ts';
import type { AnalysisTemplate, Metric } from './schema.ts';

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, segment) =>
      typeof segment === 'number'
        ? `${out}[${segment}]`
        : out === ''
          ? String(segment)
          : `${out}.${String(segment)}`,
    '',
  );
}

function issuesOf(error: z.ZodError): AnalysisIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/**
 * Validates an analysis template (e.g. parsed from YAML or JSON) and fills its defaults.
 * Throws {@link AnalysisValidationError} listing every problem as `path: reason`, with the
 * column of a bad condition.
 */
export function validateAnalysisTemplate(input: unknown): AnalysisTemplate {
  const parsed = AnalysisTemplateSchema.safeParse(input);
  if (!parsed.success) throw new AnalysisValidationError('invalid analysis template', issuesOf(parsed.error));
  return parsed.data;
}

/** Validates one metric and fills its defaults; throws {@link AnalysisValidationError}. */
export function validateMetric(input: unknown): Metric {
  const parsed = MetricSchema.safeParse(input);
  if (!parsed.success) throw new AnalysisValidationError('invalid metric', issuesOf(parsed.error));
  return parsed.data;
}

/**
 * The template's metrics with every `{{args.NAME}}` in their queries replaced by the
 * argument's value: the one given in `args`, else the template's default. Values are
 * inserted verbatim into PromQL, so they come from the rollout's spec, never from a workload.
 * Throws {@link AnalysisInputError} naming every argument that has no value, or that the
 * template does not declare.
 */
export function resolveAnalysisTemplate(
  template: AnalysisTemplate,
  args: Readonly<Record<string, string>> = {},
): Metric[] {
  const declared = new Map(template.args.map((arg) => [arg.name, arg.value]));
  const unknown = Object.keys(args).filter((name) => !declared.has(name));
  if (unknown.length > 0)
    throw new AnalysisInputError(
      `template ${template.name} declares no argument${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}`,
    );
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const [name, fallback] of declared) {
    const value = Object.hasOwn(args, name) ? args[name] : fallback;
    if (value === undefined) missing.push(name);
    else values.set(name, value);
  }
  if (missing.length > 0)
    throw new AnalysisInputError(
      `template ${template.name} needs a value for argument${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`,
    );
  return template.metrics.map((metric) => ({
    ...metric,
    provider: {
      prometheus: {
        query: metric.provider.prometheus.query.replace(ARG_PLACEHOLDER_PATTERN, (_, name: string) =>
          values.get(name)!,
        ),
      },
    },
  }));
}
