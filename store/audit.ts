import { createHash } from 'node:crypto';
import { and, asc, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import { canonicalJson } from '../policy/canonical-json.ts';
import { auditEvent } from '../events/plan-events.ts';
import type { Database } from './database.ts';
import { enqueueEvent } from './outbox.ts';
import { auditRecords } from './schema.ts';

export type AuditRow = typeof auditRecords.$inferSelect;

/** The chain starts from this hash. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a caller appends; the store adds the sequence number and the chain hashes. */
export interface AuditEntry {
  /** Unique per logical event (e.g. `plan/p1/step/0/applied`) so retried activities append once. */
  recordKey: string;
  planId: string;
  stepIndex: number;
  kind: string;
  workload: string;
  actor: string;
  at: string;
  body: Record<string, unknown>;
}

/** The hash of a record given its predecessor's; the one definition the writer and verifier share. */
export function auditHash(prevHash: string, entry: AuditEntry): string {
  const content = canonicalJson({
    recordKey: entry.recordKey,
    planId: entry.planId,
    stepIndex: entry.stepIndex,
    kind: entry.kind,
    workload: entry.workload,
    actor: entry.actor,
    at: entry.at,
    body: entry.body,
  });
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

/**
 * Appends one record at the head of the chain. Writers are serialised by a transaction-scoped
 * advisory lock so concurrent workers cannot fork the chain; an existing `recordKey` returns
 * the stored record unchanged. A plan step record (`step.applied`, `step.shadowed`,
 * `step.denied`, `step.failed`, `step.cancelled`, `step.compensated`) commits together with its CloudEvent in the outbox.
 */
export async function appendAudit(db: Database, entry: AuditEntry): Promise<AuditRow> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(7250001)`);
    const existing = await tx
      .select()
      .from(auditRecords)
      .where(eq(auditRecords.recordKey, entry.recordKey))
      .limit(1);
    if (existing[0]) return existing[0];
    const head = await tx
      .select({ hash: auditRecords.hash })
      .from(auditRecords)
      .orderBy(sql`${auditRecords.seq} DESC`)
      .limit(1);
    const prevHash = head[0]?.hash ?? GENESIS_HASH;
    const inserted = await tx
      .insert(auditRecords)
      .values({ ...entry, prevHash, hash: auditHash(prevHash, entry) })
      .returning();
    const row = inserted[0]!;
    const event = auditEvent({ ...row, body: entry.body });
    if (event) await enqueueEvent(tx, event);
    return row;
  });
}

/** One applied step as rate limits count it. */
export interface RecentAction {
  at: string;
  planId: string;
  step: unknown;
}

/**
 * Applied steps since `sinceIso`, newest first (at most `limit`): the history rate limits
 * count. Only the step is read, not the whole record body.
 */
export async function listRecentActions(
  db: Database,
  sinceIso: string,
  limit = 1000,
): Promise<RecentAction[]> {
  return db
    .select({
      at: auditRecords.at,
      planId: auditRecords.planId,
      step: sql<unknown>`${auditRecords.body}->'step'`,
    })
    .from(auditRecords)
    .where(and(eq(auditRecords.kind, 'step.applied'), gte(auditRecords.at, sinceIso)))
    .orderBy(sql`${auditRecords.seq} DESC`)
    .limit(limit);
}

/** Filters for {@link listAudit}. */
export interface AuditFilter {
  planId?: string;
  workload?: string;
  kind?: string;
  fromSeq?: number;
  toSeq?: number;
  limit?: number;
}

export async function listAudit(db: Database, filter: AuditFilter = {}): Promise<AuditRow[]> {
  const conditions: SQL[] = [];
  if (filter.planId) conditions.push(eq(auditRecords.planId, filter.planId));
  if (filter.workload) conditions.push(eq(auditRecords.workload, filter.workload));
  if (filter.kind) conditions.push(eq(auditRecords.kind, filter.kind));
  if (filter.fromSeq !== undefined) conditions.push(gte(auditRecords.seq, filter.fromSeq));
  if (filter.toSeq !== undefined) conditions.push(lte(auditRecords.seq, filter.toSeq));
  return db
    .select()
    .from(auditRecords)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(asc(auditRecords.seq))
    .limit(filter.limit ?? 1000);
}
