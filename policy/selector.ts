// Which actions a policy applies to. Label selectors follow Kubernetes semantics exactly
// (metav1.LabelSelector): matchLabels and matchExpressions are ANDed; an empty selector
// matches everything; `NotIn` and `DoesNotExist` match when the label is absent.
// Selectors are compiled once per policy set into closures over Sets, because evaluate()
// runs every policy's selector on every action and must stay in the microsecond range.

import { z } from 'zod';
import { WorkloadKind } from '../domain/plan.ts';
import { labelKey, labelValue, text } from '../domain/strings.ts';
import { POLICY_VERBS } from './verbs.ts';

/** A label key: `name` or `prefix/name`, as Kubernetes validates it (one rule: domain/strings.ts). */
export const LabelKeySchema = labelKey;

/** A label value: empty, or up to 63 of A-Z a-z 0-9 - _ . starting and ending alphanumeric. */
export const LabelValueSchema = labelValue;

/** Operators of `matchExpressions`, as in Kubernetes. */
export const SelectorOperator = {
  In: 'In',
  NotIn: 'NotIn',
  Exists: 'Exists',
  DoesNotExist: 'DoesNotExist',
} as const;
export type SelectorOperator = (typeof SelectorOperator)[keyof typeof SelectorOperator];

/** One `matchExpressions` entry; `values` is required for In/NotIn and forbidden otherwise. */
export const LabelSelectorRequirementSchema = z
  .strictObject({
    key: LabelKeySchema,
    operator: z.enum([
      SelectorOperator.In,
      SelectorOperator.NotIn,
      SelectorOperator.Exists,
      SelectorOperator.DoesNotExist,
    ]),
    values: z.array(LabelValueSchema).optional(),
  })
  .superRefine((req, ctx) => {
    const needsValues = req.operator === 'In' || req.operator === 'NotIn';
    if (needsValues && (req.values === undefined || req.values.length === 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `must list at least one value for operator ${req.operator}`,
      });
    }
    if (!needsValues && req.values !== undefined && req.values.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `must be empty for operator ${req.operator}`,
      });
    }
  });
export type LabelSelectorRequirement = z.infer<typeof LabelSelectorRequirementSchema>;

/** A Kubernetes label selector. */
export const LabelSelectorSchema = z.strictObject({
  matchLabels: z.record(LabelKeySchema, LabelValueSchema).optional(),
  matchExpressions: z.array(LabelSelectorRequirementSchema).optional(),
});
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

/**
 * The set of actions a policy applies to. Every given part must match (AND); an omitted part
 * matches anything, so `{}` selects every action.
 */
export const PolicySelectorSchema = z.strictObject({
  /** Over the workload's labels. */
  workloadSelector: LabelSelectorSchema.optional(),
  /** Over the labels of the workload's namespace. */
  namespaceSelector: LabelSelectorSchema.optional(),
  /** Over the labels Sentinel's cluster registry gives the target cluster. */
  clusterSelector: LabelSelectorSchema.optional(),
  verbs: z.array(z.enum(POLICY_VERBS)).min(1).optional(),
  namespaces: z
    .array(text({ min: 1, max: 253 }))
    .min(1)
    .optional(),
  clusters: z
    .array(text({ min: 1, max: 253 }))
    .min(1)
    .optional(),
  kinds: z
    .array(z.enum([WorkloadKind.Deployment, WorkloadKind.StatefulSet, WorkloadKind.Job]))
    .min(1)
    .optional(),
});
export type PolicySelector = z.infer<typeof PolicySelectorSchema>;

/** Labels as an action carries them; `undefined` is read as "no labels". */
export type Labels = Readonly<Record<string, string>> | undefined;

/** What a selector looks at. Labels left `undefined` mean "the action has no labels". */
export interface SelectableAction {
  readonly verb: string;
  readonly target: { readonly cluster: string; readonly namespace: string; readonly kind: string };
  readonly workloadLabels?: Labels;
  readonly namespaceLabels?: Labels;
  readonly clusterLabels?: Labels;
}

/** A compiled label selector. */
export type LabelMatcher = (labels: Labels) => boolean;

const matchAll: LabelMatcher = () => true;

/** Compiles a Kubernetes label selector into a predicate over a label map. */
export function compileLabelSelector(selector: LabelSelector | undefined): LabelMatcher {
  if (selector === undefined) return matchAll;
  const tests: LabelMatcher[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    tests.push((labels) => labels !== undefined && Object.hasOwn(labels, key) && labels[key] === value);
  }
  for (const req of selector.matchExpressions ?? []) {
    const { key } = req;
    const values = new Set(req.values ?? []);
    switch (req.operator) {
      case 'In':
        tests.push(
          (labels) => labels !== undefined && Object.hasOwn(labels, key) && values.has(labels[key]!),
        );
        break;
      case 'NotIn':
        tests.push(
          (labels) => labels === undefined || !Object.hasOwn(labels, key) || !values.has(labels[key]!),
        );
        break;
      case 'Exists':
        tests.push((labels) => labels !== undefined && Object.hasOwn(labels, key));
        break;
      case 'DoesNotExist':
        tests.push((labels) => labels === undefined || !Object.hasOwn(labels, key));
        break;
    }
  }
  if (tests.length === 0) return matchAll;
  if (tests.length === 1) return tests[0]!;
  return (labels) => {
    for (const test of tests) if (!test(labels)) return false;
    return true;
  };
}

/** A compiled policy selector. */
export interface CompiledSelector {
  /** Whether the action is selected. */
  matches(action: SelectableAction): boolean;
  /**
   * Like `matches`, but parts that need labels the action does not carry count as matching.
   * Rate limits use it on history entries, which may not record labels: counting an entry
   * that might not belong errs towards fewer actions, never towards more.
   */
  mayMatch(action: SelectableAction): boolean;
}

/** Compiles a policy selector (see {@link PolicySelectorSchema}). */
export function compileSelector(selector: PolicySelector): CompiledSelector {
  const verbs = selector.verbs === undefined ? undefined : new Set<string>(selector.verbs);
  const namespaces = selector.namespaces === undefined ? undefined : new Set(selector.namespaces);
  const clusters = selector.clusters === undefined ? undefined : new Set(selector.clusters);
  const kinds = selector.kinds === undefined ? undefined : new Set<string>(selector.kinds);
  const workload = compileLabelSelector(selector.workloadSelector);
  const namespace = compileLabelSelector(selector.namespaceSelector);
  const cluster = compileLabelSelector(selector.clusterSelector);

  const matchesTarget = (a: SelectableAction): boolean =>
    (verbs === undefined || verbs.has(a.verb)) &&
    (namespaces === undefined || namespaces.has(a.target.namespace)) &&
    (clusters === undefined || clusters.has(a.target.cluster)) &&
    (kinds === undefined || kinds.has(a.target.kind));

  return {
    matches: (a) =>
      matchesTarget(a) &&
      workload(a.workloadLabels) &&
      namespace(a.namespaceLabels) &&
      cluster(a.clusterLabels),
    mayMatch: (a) =>
      matchesTarget(a) &&
      (a.workloadLabels === undefined || workload(a.workloadLabels)) &&
      (a.namespaceLabels === undefined || namespace(a.namespaceLabels)) &&
      (a.clusterLabels === undefined || cluster(a.clusterLabels)),
  };
}
