import { describe, expect, it } from 'vitest';
import { verifyAuditRecords, type StoredAuditRecord } from '../../audit/verify.ts';
import {
  decisionDigest,
  evaluate,
  parsePolicyDocument,
  type PolicyAction,
  type PolicyDocument,
} from '../../policy/index.ts';
import { auditHash, GENESIS_HASH, type AuditEntry } from '../../store/audit.ts';

const policy = parsePolicyDocument(`
id: max-4
version: 1
description: at most 4 replicas
priority: 1
mode: enforce
selector: {}
rule: { type: quota, scope: workload, maxReplicas: 4 }
`);
const policies: Record<string, PolicyDocument> = { 'max-4@1': policy };
const lookup = (id: string, version: number) => Promise.resolve(policies[`${id}@${version}`]);
const target = { cluster: 'c', namespace: 'n', kind: 'Deployment', name: 'w' } as const;

function decisionFor(replicas: number) {
  const action: PolicyAction = { verb: 'scale', target, currentReplicas: 1, desiredReplicas: replicas };
  const context = { now: '2026-11-26T00:00:00Z' };
  const decision = evaluate(action, context, [policy]);
  return {
    result: decision.result,
    violations: decision.violations.map((v) => ({ policyId: v.policyId, enforced: v.enforced })),
    policyRefs: [{ id: 'max-4', version: 1 }],
    inputDigest: decisionDigest(action, context, [policy]),
    action,
    context,
  };
}

/** Builds a correctly chained trail from entries. */
function chain(
  entries: Omit<AuditEntry, 'recordKey' | 'planId' | 'stepIndex' | 'workload' | 'actor' | 'at'>[],
): StoredAuditRecord[] {
  let prev = GENESIS_HASH;
  return entries.map((e, i) => {
    const entry: AuditEntry = {
      recordKey: `k${i}`,
      planId: `p${i}`,
      stepIndex: 0,
      workload: 'c/n/Deployment/w',
      actor: 'a',
      at: '2026-11-26T00:00:00Z',
      ...e,
    };
    const record = { ...entry, seq: i + 1, prevHash: prev, hash: auditHash(prev, entry) };
    prev = record.hash;
    return record;
  });
}

describe('verifyAuditRecords', () => {
  it('accepts an intact trail and re-evaluates each decision', async () => {
    const trail = chain([
      { kind: 'step.applied', body: { decision: decisionFor(3) } },
      { kind: 'step.denied', body: { decision: decisionFor(9) } },
    ]);
    const result = await verifyAuditRecords(trail, lookup);
    expect(result).toMatchObject({ records: 2, decisionsChecked: 2, problem: null });
  });

  it('finds a record removed from the middle of the chain', async () => {
    const trail = chain([
      { kind: 'x', body: {} },
      { kind: 'y', body: {} },
      { kind: 'z', body: {} },
    ]);
    const result = await verifyAuditRecords([trail[0]!, trail[2]!], lookup);
    expect(result.problem).toMatchObject({ seq: 3, kind: 'chain-broken' });
  });

  it('finds an executed step whose decision was deny, even with a consistent chain', async () => {
    const trail = chain([{ kind: 'step.applied', body: { decision: decisionFor(9) } }]);
    const result = await verifyAuditRecords(trail, lookup);
    expect(result.problem).toMatchObject({ seq: 1, kind: 'violating-action' });
    expect(result.problem?.message).toContain('max-4');
  });

  it('finds a decision whose recorded result does not follow from its inputs', async () => {
    const forged = { ...decisionFor(9), result: 'allow' as const };
    const result = await verifyAuditRecords(
      chain([{ kind: 'step.applied', body: { decision: forged } }]),
      lookup,
    );
    expect(result.problem).toMatchObject({ seq: 1, kind: 'decision-changed' });
  });

  it('finds a decision judged by a policy version that cannot be found, or with altered inputs', async () => {
    const missing = { ...decisionFor(3), policyRefs: [{ id: 'max-4', version: 2 }] };
    expect(
      (await verifyAuditRecords(chain([{ kind: 'step.applied', body: { decision: missing } }]), lookup))
        .problem,
    ).toMatchObject({
      kind: 'decision-unverifiable',
    });
    const altered = { ...decisionFor(3), context: { now: '2027-01-01T00:00:00Z' } };
    expect(
      (await verifyAuditRecords(chain([{ kind: 'step.applied', body: { decision: altered } }]), lookup))
        .problem,
    ).toMatchObject({
      kind: 'decision-unverifiable',
    });
  });
});
