import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, ne, sql } from 'drizzle-orm';
import { CloudEventSchema, DEFAULT_EVENTS_TOPIC, type CloudEvent } from '../events/cloudevent.ts';
import type { Database } from './database.ts';
import { outboxEvents } from './schema.ts';

export type OutboxRow = typeof outboxEvents.$inferSelect;

// Advisory lock namespaces (the first key of pg_advisory_xact_lock(int, int)); 7250001 and
// 7250002 are the audit chain and policy versions.
const KEY_LOCK = 7250003;
const CLAIM_LOCK = 7250004;

/**
 * Adds one event to the outbox. Call it with the transaction that makes the state change
 * the event describes, so that both commit or neither does. An event whose id is already
 * there is left alone (a retried writer derives the same id); returns whether it was added.
 *
 * Writers of one key are serialised until their transaction ends, so that for every key the
 * order of `seq` is the order of commits and the relay never sees a later event of a
 * workload before an earlier one.
 */
export async function enqueueEvent(
  tx: Database,
  event: CloudEvent,
  options: { key?: string; topic?: string } = {},
): Promise<boolean> {
  const valid = CloudEventSchema.parse(event);
  const key = options.key ?? valid.subject;
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${sql.raw(String(KEY_LOCK))}, hashtext(${key}))`);
  const inserted = await tx
    .insert(outboxEvents)
    .values({
      id: valid.id,
      key,
      topic: options.topic ?? DEFAULT_EVENTS_TOPIC,
      type: valid.type,
      event: valid,
    })
    .onConflictDoNothing({ target: outboxEvents.id })
    .returning({ id: outboxEvents.id });
  return inserted.length > 0;
}

/** Options for {@link claimOutboxBatch}. */
export interface ClaimOptions {
  /** Identifies the relay process holding the claim. */
  relayId: string;
  /** @default 100 */
  limit?: number;
  /** How long the claim holds if the relay stops renewing it. @default 30_000 */
  leaseMs?: number;
}

/**
 * Claims the oldest unsent events, in `seq` order, for one relay. The claim is a lease on
 * the head of the queue: while another relay holds an unexpired claim, this returns nothing,
 * so two relays never publish interleaved batches. Calling it again renews the lease.
 */
export async function claimOutboxBatch(db: Database, options: ClaimOptions): Promise<OutboxRow[]> {
  const limit = options.limit ?? 100;
  const leaseMs = options.leaseMs ?? 30_000;
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${sql.raw(String(CLAIM_LOCK))})`);
    const heldByOther = await tx
      .select({ id: outboxEvents.id })
      .from(outboxEvents)
      .where(
        and(
          isNull(outboxEvents.sentAt),
          isNotNull(outboxEvents.claimedBy),
          ne(outboxEvents.claimedBy, options.relayId),
          gt(outboxEvents.claimExpiresAt, sql`now()`),
        ),
      )
      .limit(1);
    if (heldByOther.length > 0) return [];
    const rows = await tx
      .select()
      .from(outboxEvents)
      .where(isNull(outboxEvents.sentAt))
      .orderBy(asc(outboxEvents.seq))
      .limit(limit);
    if (rows.length === 0) return [];
    await tx
      .update(outboxEvents)
      .set({
        claimedBy: options.relayId,
        claimExpiresAt: sql`now() + ${sql.raw(String(Math.max(1, Math.round(leaseMs))))} * interval '1 millisecond'`,
      })
      .where(
        inArray(
          outboxEvents.id,
          rows.map((r) => r.id),
        ),
      );
    return rows;
  });
}

/** Marks events sent (after the broker acknowledged them) and releases their claim. */
export async function markOutboxSent(db: Database, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(outboxEvents)
    .set({ sentAt: sql`now()`, claimedBy: null, claimExpiresAt: null, lastError: null })
    .where(and(inArray(outboxEvents.id, [...ids]), isNull(outboxEvents.sentAt)));
}

/** Counts a failed publication attempt on each event, keeping the claim. */
export async function recordOutboxFailure(
  db: Database,
  ids: readonly string[],
  error: string,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(outboxEvents)
    .set({ attempts: sql`${outboxEvents.attempts} + 1`, lastError: error.slice(0, 2000) })
    .where(and(inArray(outboxEvents.id, [...ids]), isNull(outboxEvents.sentAt)));
}

/** How far publication is behind: unsent events and the age of the oldest one. */
export interface OutboxLag {
  unsent: number;
  /** Seconds since the oldest unsent event was written; 0 when none waits. */
  oldestUnsentSeconds: number;
}

export async function outboxLag(db: Database): Promise<OutboxLag> {
  const rows = await db
    .select({
      unsent: sql<string>`count(*)`,
      oldest: sql<string | null>`extract(epoch from (now() - min(${outboxEvents.createdAt})))`,
    })
    .from(outboxEvents)
    .where(isNull(outboxEvents.sentAt));
  const row = rows[0];
  return {
    unsent: Number(row?.unsent ?? 0),
    oldestUnsentSeconds:
      row?.oldest === null || row?.oldest === undefined ? 0 : Math.max(0, Number(row.oldest)),
  };
}

/** Filters for {@link listOutbox}. */
export interface OutboxFilter {
  key?: string;
  type?: string;
  unsentOnly?: boolean;
  limit?: number;
}

/** Outbox rows in `seq` order (operators and tests read what waits or went out). */
export async function listOutbox(db: Database, filter: OutboxFilter = {}): Promise<OutboxRow[]> {
  const conditions = [];
  if (filter.key) conditions.push(eq(outboxEvents.key, filter.key));
  if (filter.type) conditions.push(eq(outboxEvents.type, filter.type));
  if (filter.unsentOnly) conditions.push(isNull(outboxEvents.sentAt));
  return db
    .select()
    .from(outboxEvents)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(asc(outboxEvents.seq))
    .limit(filter.limit ?? 1000);
}

/** Deletes events sent more than `olderThanMs` ago; returns how many went. */
export async function deleteSentEvents(db: Database, olderThanMs: number): Promise<number> {
  const deleted = await db
    .delete(outboxEvents)
    .where(
      and(
        isNotNull(outboxEvents.sentAt),
        lt(
          outboxEvents.sentAt,
          sql`now() - ${sql.raw(String(Math.max(0, Math.round(olderThanMs))))} * interval '1 millisecond'`,
        ),
      ),
    )
    .returning({ id: outboxEvents.id });
  return deleted.length;
}
