// Builders shared by the policy engine's tests: a valid document or action with only the
// fields a test cares about spelled out.

import type { PolicyAction } from '../action.ts';
import type { PolicyContext } from '../context.ts';
import type { PolicyDecision } from '../decision.ts';
import { evaluate } from '../evaluate.ts';
import { validatePolicyDocument } from '../parse.ts';
import type { PolicyDocument, PolicyDocumentInput } from '../schema.ts';

/** A validated policy; `rule` is required, everything else has test defaults. */
export function policy(
  input: Partial<PolicyDocumentInput> & Pick<PolicyDocumentInput, 'rule'>,
): PolicyDocument {
  return validatePolicyDocument({ id: 'p', version: 1, ...input });
}

/** An action on `gpu-east/ml/Deployment/inference`, scaling 2 → 4 unless overridden. */
export function action(overrides: Partial<PolicyAction> = {}): PolicyAction {
  return {
    verb: 'scale',
    target: { cluster: 'gpu-east', namespace: 'ml', kind: 'Deployment', name: 'inference' },
    currentReplicas: 2,
    desiredReplicas: 4,
    ...overrides,
  };
}

/** 2025-06-11T12:00:00Z, a Wednesday. */
export const NOW = '2025-06-11T12:00:00Z';

/** A context at {@link NOW}. */
export function context(overrides: Partial<PolicyContext> = {}): PolicyContext {
  return { now: NOW, ...overrides };
}

/** Evaluates one policy. */
export function decide(p: PolicyDocument, a: PolicyAction, c: PolicyContext = context()): PolicyDecision {
  return evaluate(a, c, [p]);
}

/** One H100 GPU, 8 cores and 64 GiB per replica. */
export const GPU_REPLICA = { cpuCores: 8, memoryBytes: 64 * 2 ** 30, gpus: 1, gpuModel: 'H100' } as const;

/** Prices that make a GPU_REPLICA cost exactly 4.00 per hour: 8 × 0.05 + 64 × 0.00625 + 3.2. */
export const PRICES = {
  cpuCoreHour: 0.05,
  memoryGiBHour: 0.00625,
  gpuHour: { H100: 3.2, A100: 1.6 },
} as const;
