// Compiling policies once, outside the hot path: documents are validated (so defaults are
// filled and invariants hold), deep-frozen, sorted into evaluation order, and each selector
// and rule is turned into closures. evaluate() over a PolicySet then does no parsing at all.

import { PolicySetError, PolicyValidationError } from './errors.ts';
import { parseInstant } from './instant.ts';
import { validatePolicyDocument } from './parse.ts';
import { compileBudgetRule } from './rules/budget.ts';
import type { CompiledRule, RuleCompileContext } from './rules/common.ts';
import { compileCostCeilingRule } from './rules/cost-ceiling.ts';
import { compileFreezeWindowRule } from './rules/freeze-window.ts';
import { compileQuotaRule } from './rules/quota.ts';
import { compileRateLimitRule } from './rules/rate-limit.ts';
import { compileSlaRule } from './rules/sla.ts';
import { compileSloRule } from './rules/slo.ts';
import type { PolicyDocument, PolicyRule } from './schema.ts';
import type { CompiledSelector } from './selector.ts';
import { compileSelector } from './selector.ts';

/** A compiled exception: which ids it exempts, until when. */
export interface CompiledException {
  readonly exempts: ReadonlySet<string>;
  readonly expiresMs: number | undefined;
}

/** One policy ready to evaluate. Exceptions have `exception` and no `rule`. */
export interface CompiledPolicy {
  readonly doc: PolicyDocument;
  readonly selector: CompiledSelector;
  readonly rule: CompiledRule | undefined;
  readonly exception: CompiledException | undefined;
}

function compileRule(
  rule: Exclude<PolicyRule, { type: 'exception' }>,
  ctx: RuleCompileContext,
): CompiledRule {
  switch (rule.type) {
    case 'costCeiling':
      return compileCostCeilingRule(rule);
    case 'quota':
      return compileQuotaRule(rule);
    case 'sla':
      return compileSlaRule(rule);
    case 'slo':
      return compileSloRule(rule);
    case 'rateLimit':
      return compileRateLimitRule(rule, ctx);
    case 'freezeWindow':
      return compileFreezeWindowRule(rule);
    case 'budget':
      return compileBudgetRule(rule);
  }
}

function compilePolicy(doc: PolicyDocument): CompiledPolicy {
  const selector = compileSelector(doc.selector);
  if (doc.rule.type === 'exception') {
    const expires = doc.rule.expires;
    return {
      doc,
      selector,
      rule: undefined,
      exception: {
        exempts: new Set(doc.rule.exempts),
        expiresMs: expires === undefined ? undefined : parseInstant(expires),
      },
    };
  }
  return { doc, selector, rule: compileRule(doc.rule, { selector }), exception: undefined };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/**
 * Evaluation order: priority descending, then id ascending (by UTF-16 code units, not locale,
 * so every host sorts alike).
 */
export function comparePolicies(a: PolicyDocument, b: PolicyDocument): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Policies validated, frozen and compiled for repeated evaluation. Build one with
 * {@link compilePolicies} whenever the stored policies change and reuse it for every
 * decision; `evaluate` also accepts a plain array, at the cost of compiling it each call.
 */
export class PolicySet {
  /** The validated documents (defaults filled, deep-frozen) in evaluation order. */
  readonly documents: readonly PolicyDocument[];
  /** @internal Compiled form, in the same order as `documents`. */
  readonly compiled: readonly CompiledPolicy[];

  private constructor(compiled: readonly CompiledPolicy[]) {
    this.compiled = compiled;
    this.documents = compiled.map((c) => c.doc);
  }

  /** See {@link compilePolicies}. */
  static compile(policies: readonly PolicyDocument[]): PolicySet {
    const docs = policies.map((p, i) => {
      try {
        return deepFreeze(validatePolicyDocument(p));
      } catch (err) {
        if (!(err instanceof PolicyValidationError)) throw err;
        const id = typeof (p as { id?: unknown }).id === 'string' ? ` (${(p as { id: string }).id})` : '';
        throw new PolicyValidationError(
          err.issues.map((issue) => ({
            ...issue,
            path: `policies[${i}]${id}${issue.path === '' ? '' : `.${issue.path}`}`,
          })),
          { cause: err },
        );
      }
    });
    const seen = new Set<string>();
    for (const doc of docs) {
      if (seen.has(doc.id))
        throw new PolicySetError(`policy id "${doc.id}" appears more than once; evaluate one version per id`);
      seen.add(doc.id);
    }
    return new PolicySet([...docs].sort(comparePolicies).map(compilePolicy));
  }
}

/**
 * Validates and compiles policies for evaluation.
 * @throws {PolicyValidationError} when a document is invalid (paths start with `policies[i] (id)`).
 * @throws {PolicySetError} when two documents share an id.
 */
export function compilePolicies(policies: readonly PolicyDocument[]): PolicySet {
  return PolicySet.compile(policies);
}
