import {
  decisionDigest,
  evaluate,
  type PolicyAction,
  type PolicyContext,
  type PolicyDocument,
} from '../policy/index.ts';
import { auditHash, GENESIS_HASH, type AuditEntry } from '../store/audit.ts';

/** An audit record as stored and served by `GET /v1/audit`. */
export interface StoredAuditRecord extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The decision part of a step record's body, as the plan activity writes it. */
interface RecordedDecision {
  result: 'allow' | 'deny' | 'warn';
  violations: { policyId: string; enforced: boolean }[];
  policyRefs: { id: string; version: number }[];
  inputDigest: string;
  action: PolicyAction;
  context: PolicyContext;
}

/** Finds one version of one policy (from the API or the database). */
export type PolicyVersionLookup = (id: string, version: number) => Promise<PolicyDocument | undefined>;

/** The first problem found, with the record it was found at. */
export interface AuditProblem {
  seq: number;
  recordKey: string;
  kind: 'chain-broken' | 'hash-mismatch' | 'decision-unverifiable' | 'decision-changed' | 'violating-action';
  message: string;
}

export interface AuditVerification {
  records: number;
  decisionsChecked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  problem: AuditProblem | null;
}

/** Kinds of record that mean "this change was made to a cluster". */
const EXECUTED_KINDS = new Set(['step.applied']);

/**
 * Walks the chain in order: each record must point at its predecessor's hash and hash to
 * what it says; each recorded policy decision is re-evaluated with the same inputs and the
 * same policy versions and must give the same result from the same input digest; and no
 * executed step may carry a deny. Stops at the first problem, which is what an auditor needs.
 *
 * `previousHash` is the hash the first record must point at (the genesis hash for a full run).
 */
export async function verifyAuditRecords(
  records: AsyncIterable<StoredAuditRecord> | Iterable<StoredAuditRecord>,
  lookupPolicy: PolicyVersionLookup,
  options: { previousHash?: string; onProgress?: (checked: number) => void } = {},
): Promise<AuditVerification> {
  const result: AuditVerification = {
    records: 0,
    decisionsChecked: 0,
    firstSeq: null,
    lastSeq: null,
    problem: null,
  };
  let expectedPrev = options.previousHash ?? GENESIS_HASH;
  const fail = (
    record: StoredAuditRecord,
    kind: AuditProblem['kind'],
    message: string,
  ): AuditVerification => ({
    ...result,
    problem: { seq: record.seq, recordKey: record.recordKey, kind, message },
  });

  for await (const record of records) {
    result.records++;
    result.firstSeq ??= record.seq;
    result.lastSeq = record.seq;
    if (record.prevHash !== expectedPrev) {
      return fail(
        record,
        'chain-broken',
        `points at ${short(record.prevHash)} but the previous record hashes to ${short(expectedPrev)}`,
      );
    }
    const recomputed = auditHash(record.prevHash, record);
    if (recomputed !== record.hash) {
      return fail(
        record,
        'hash-mismatch',
        `content hashes to ${short(recomputed)}, the record says ${short(record.hash)}: it was altered after it was written`,
      );
    }
    expectedPrev = record.hash;

    const decision = (record.body as { decision?: RecordedDecision }).decision;
    if (decision) {
      const policies: PolicyDocument[] = [];
      for (const ref of decision.policyRefs) {
        const document = await lookupPolicy(ref.id, ref.version);
        if (!document)
          return fail(
            record,
            'decision-unverifiable',
            `policy ${ref.id}@${ref.version} it was judged by cannot be found`,
          );
        policies.push(document);
      }
      const digest = decisionDigest(decision.action, decision.context, policies);
      if (digest !== decision.inputDigest) {
        return fail(
          record,
          'decision-unverifiable',
          `its inputs digest to ${short(digest)}, the record says ${short(decision.inputDigest)}`,
        );
      }
      const again = evaluate(decision.action, decision.context, policies);
      if (again.result !== decision.result) {
        return fail(
          record,
          'decision-changed',
          `re-evaluation gives ${again.result}, the record says ${decision.result}`,
        );
      }
      result.decisionsChecked++;
      if (EXECUTED_KINDS.has(record.kind) && decision.result === 'deny') {
        return fail(
          record,
          'violating-action',
          `a step denied by ${decision.violations
            .filter((v) => v.enforced)
            .map((v) => v.policyId)
            .join(', ')} was executed`,
        );
      }
    }
    options.onProgress?.(result.records);
  }
  return result;
}

function short(hash: string): string {
  return hash.slice(0, 12);
}
