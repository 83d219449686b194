// What every rule module shares: the outcome type, the compiled-rule shape, and the
// `onMissingInput` switch that decides, per policy, what an unknown input means.

import { z } from 'zod';
import type { ActionProjection, MissingInput } from '../projection.ts';
import type { CompiledSelector } from '../selector.ts';
import { parseDuration } from '../duration.ts';
import { parseQuantity } from '../quantity.ts';

/**
 * What a rule does when an input it needs is missing from the action or context.
 * `violate` (the default) fails closed: the policy reports a violation saying what is
 * missing, and its mode decides whether that denies. `notApplicable` skips the rule and
 * records why in the decision.
 */
export const OnMissingInput = { violate: 'violate', notApplicable: 'notApplicable' } as const;
export type OnMissingInput = (typeof OnMissingInput)[keyof typeof OnMissingInput];

/** Schema field shared by every rule that reads optional inputs. @default 'violate' */
export const onMissingInputField = z
  .enum([OnMissingInput.violate, OnMissingInput.notApplicable])
  .default('violate');

/** Facts behind a violation, for UIs and the audit trail (numbers as computed, not formatted). */
export type ViolationDetails = Readonly<Record<string, number | string | boolean>>;

/** Result of one rule on one action. */
export type RuleOutcome =
  | { readonly status: 'pass' }
  | { readonly status: 'violation'; readonly message: string; readonly details: ViolationDetails }
  | { readonly status: 'notApplicable'; readonly reason: string };

/** The shared pass outcome (no allocation on the hot path). */
export const PASS: RuleOutcome = Object.freeze({ status: 'pass' });

/** Builds a violation outcome. */
export function violation(message: string, details: ViolationDetails = {}): RuleOutcome {
  return { status: 'violation', message, details };
}

/** Builds a not-applicable outcome. */
export function notApplicable(reason: string): RuleOutcome {
  return { status: 'notApplicable', reason };
}

/** The outcome for a missing input, according to the policy's `onMissingInput`. */
export function missingInput(mode: OnMissingInput, input: MissingInput): RuleOutcome {
  return mode === OnMissingInput.violate
    ? violation(`cannot be checked: ${input.missing}`, { missingInput: input.missing })
    : notApplicable(`${input.missing} (onMissingInput: notApplicable)`);
}

/** A rule with its document-time work done (durations parsed, ranges resolved). */
export interface CompiledRule {
  evaluate(projection: ActionProjection): RuleOutcome;
}

/** What a rule compiler may use besides its own rule. */
export interface RuleCompileContext {
  /** The owning policy's selector (rate limits count past actions it selects). */
  readonly selector: CompiledSelector;
}

/** A non-negative number or a Kubernetes quantity string ("500m", "64Gi"). */
export const QuantitySchema = z
  .union([z.number().nonnegative(), z.string()])
  .refine((q) => parseQuantity(q) !== undefined, {
    message: 'must be a non-negative number or a Kubernetes quantity such as "500m" or "64Gi"',
  });

/** A duration such as "30m", "1h30m", "7d". */
export const DurationSchema = z.string().refine((d) => parseDuration(d) !== undefined, {
  message: 'must be a duration such as "90s", "30m", "1h30m", "2d" or "1w"',
});
