import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';
import { decisionDigest, decisionInputs, POLICY_ENGINE_VERSION } from './digest.ts';
import { parsePolicyDocument } from './parse.ts';
import { compilePolicies } from './policy-set.ts';
import { sha256Hex } from './sha256.ts';
import { action, context, policy } from './test-support/fixtures.ts';

const a = policy({ id: 'a', version: 2, rule: { type: 'quota', scope: 'workload', maxReplicas: 8 } });
const b = policy({ id: 'b', version: 1, priority: 5, rule: { type: 'sla', minAvailable: 1 } });
const ctx = context({ prices: { cpuCoreHour: 0.05 }, team: 'vision' });

describe('decisionDigest', () => {
  it('is the sha256 of the canonical JSON of the inputs', () => {
    const inputs = decisionInputs(action(), ctx, [b, a]);
    expect(inputs.engine).toBe(POLICY_ENGINE_VERSION);
    expect(inputs.policies.map((p) => `${p.id}@${p.version}`)).toEqual(['a@2', 'b@1']);
    expect(decisionDigest(action(), ctx, [b, a])).toBe(sha256Hex(canonicalJson(inputs)));
  });

  it('does not change between releases unless the engine version does', () => {
    // If this fails, stored audit digests no longer verify: bump POLICY_ENGINE_VERSION instead.
    expect(decisionDigest(action(), ctx, [a, b])).toBe(
      '943c55021363c78a718b0692b920a6fa492ca464049914f86bd1e5c8e5941ce5',
    );
  });

  it('ignores policy order, key order and whether defaults were written out', () => {
    const d = decisionDigest(action(), ctx, [a, b]);
    expect(decisionDigest(action(), ctx, [b, a])).toBe(d);
    expect(
      decisionDigest(action(), { team: 'vision', prices: { cpuCoreHour: 0.05 }, now: ctx.now }, [a, b]),
    ).toBe(d);
    expect(decisionDigest(action(), ctx, compilePolicies([a, b]))).toBe(d);
    const terse = parsePolicyDocument(
      '{ id: b, version: 1, priority: 5, rule: { type: sla, minAvailable: 1 } }',
    );
    expect(decisionDigest(action(), ctx, [a, terse])).toBe(d);
  });

  it('changes with any input: policy version, content, context or action', () => {
    const d = decisionDigest(action(), ctx, [a, b]);
    expect(decisionDigest(action(), ctx, [{ ...a, version: 3 }, b])).not.toBe(d);
    expect(decisionDigest(action(), ctx, [{ ...a, priority: 1 }, b])).not.toBe(d);
    expect(decisionDigest(action(), { ...ctx, now: '2025-06-11T12:00:01Z' }, [a, b])).not.toBe(d);
    expect(decisionDigest(action({ desiredReplicas: 5 }), ctx, [a, b])).not.toBe(d);
    expect(decisionDigest(action(), ctx, [a])).not.toBe(d);
  });
});
