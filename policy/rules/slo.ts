import { z } from 'zod';
import { formatNumber } from '../format.ts';
import type { ActionProjection } from '../projection.ts';
import type { CompiledRule, RuleOutcome } from './common.ts';
import {
  DurationSchema,
  missingInput,
  notApplicable,
  onMissingInputField,
  PASS,
  violation,
} from './common.ts';
import { parseDuration } from '../duration.ts';
import { parseInstant } from '../instant.ts';

/**
 * Kinds of risky action an SLO rule can gate. `scaleDown`/`scaleUp` are `scale` actions that
 * lower/raise the replica count; the others are verbs.
 */
export const SloGatedAction = {
  promote: 'promote',
  scaleDown: 'scaleDown',
  scaleUp: 'scaleUp',
  update: 'update',
  rollback: 'rollback',
  reschedule: 'reschedule',
  setWeight: 'setWeight',
  switch: 'switch',
} as const;
export type SloGatedAction = (typeof SloGatedAction)[keyof typeof SloGatedAction];

/**
 * For risky actions (by default promotions and scale-downs), the workload's recent p99
 * latency must be at most `maxLatencyP99Ms` and its success rate at least `minSuccessRate`
 * (bounds are inclusive). Other actions are not applicable. With `maxObservationAge`, an
 * observation older than that (or without `observedAt`) counts as missing.
 */
export const SloRuleSchema = z
  .strictObject({
    type: z.literal('slo'),
    maxLatencyP99Ms: z.number().nonnegative().optional(),
    /** Fraction 0-1, e.g. 0.999. */
    minSuccessRate: z.number().min(0).max(1).optional(),
    /** @default ['promote', 'scaleDown'] */
    appliesTo: z
      .array(z.enum(Object.values(SloGatedAction) as [SloGatedAction, ...SloGatedAction[]]))
      .min(1)
      .default([SloGatedAction.promote, SloGatedAction.scaleDown]),
    maxObservationAge: DurationSchema.optional(),
    onMissingInput: onMissingInputField,
  })
  .refine((r) => r.maxLatencyP99Ms !== undefined || r.minSuccessRate !== undefined, {
    message: 'must set maxLatencyP99Ms, minSuccessRate or both',
  });
export type SloRule = z.infer<typeof SloRuleSchema>;

/** Compiles an SLO gate. */
export function compileSloRule(rule: SloRule): CompiledRule {
  const gated = new Set<string>(rule.appliesTo);
  const maxAgeMs = rule.maxObservationAge === undefined ? undefined : parseDuration(rule.maxObservationAge);
  return {
    evaluate(p: ActionProjection): RuleOutcome {
      const kind = gatedKind(p);
      if (kind === UNKNOWN_DIRECTION) {
        if (!gated.has('scaleDown') && !gated.has('scaleUp'))
          return notApplicable('scale is not gated by this SLO');
        return missingInput(rule.onMissingInput, {
          missing:
            'action.currentReplicas and desiredReplicas are needed to tell a scale-down from a scale-up',
        });
      }
      if (kind === NO_CHANGE) return notApplicable('scale does not change the replica count');
      if (!gated.has(kind))
        return notApplicable(`${kind} is not gated by this SLO (appliesTo: ${rule.appliesTo.join(', ')})`);
      const slo = p.context.slo;
      if (maxAgeMs !== undefined) {
        const observedMs = slo?.observedAt === undefined ? undefined : parseInstant(slo.observedAt);
        if (observedMs === undefined) {
          return missingInput(rule.onMissingInput, {
            missing:
              'context.slo.observedAt is not given or not an ISO 8601 timestamp (maxObservationAge is set)',
          });
        }
        if (p.nowMs - observedMs > maxAgeMs) {
          return missingInput(rule.onMissingInput, {
            missing: `the SLO observation from ${slo!.observedAt} is older than ${rule.maxObservationAge}`,
          });
        }
      }
      const problems: string[] = [];
      const details: Record<string, number | string> = { gatedAction: kind };
      if (rule.maxLatencyP99Ms !== undefined) {
        const latency = slo?.latencyP99Ms;
        if (latency === undefined)
          return missingInput(rule.onMissingInput, { missing: 'context.slo.latencyP99Ms is not given' });
        if (latency > rule.maxLatencyP99Ms) {
          problems.push(
            `p99 latency ${formatNumber(latency)} ms exceeds ${formatNumber(rule.maxLatencyP99Ms)} ms`,
          );
          details.latencyP99Ms = latency;
          details.maxLatencyP99Ms = rule.maxLatencyP99Ms;
        }
      }
      if (rule.minSuccessRate !== undefined) {
        const rate = slo?.successRate;
        if (rate === undefined)
          return missingInput(rule.onMissingInput, { missing: 'context.slo.successRate is not given' });
        if (rate < rule.minSuccessRate) {
          problems.push(`success rate ${percent(rate)} is below ${percent(rule.minSuccessRate)}`);
          details.successRate = rate;
          details.minSuccessRate = rule.minSuccessRate;
        }
      }
      if (problems.length === 0) return PASS;
      return violation(`${kind} needs the SLO to hold: ${problems.join('; ')}`, details);
    },
  };
}

const UNKNOWN_DIRECTION = Symbol('unknown scale direction');
const NO_CHANGE = Symbol('no replica change');

function gatedKind(p: ActionProjection): SloGatedAction | typeof UNKNOWN_DIRECTION | typeof NO_CHANGE {
  const verb = p.action.verb;
  if (verb !== 'scale') return verb;
  const before = p.replicasBefore;
  const after = p.replicasAfter;
  if (before === undefined || after === undefined) return UNKNOWN_DIRECTION;
  if (after === before) return NO_CHANGE;
  return after < before ? 'scaleDown' : 'scaleUp';
}

function percent(rate: number): string {
  return `${formatNumber(rate * 100, 3)}%`;
}
