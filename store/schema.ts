import { sql } from 'drizzle-orm';
import {
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/** One row per ActionPlan; the workflow is its only writer after submission. */
export const plans = pgTable(
  'plans',
  {
    id: text('id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    /** sha256 of the canonical plan JSON; a resubmission with the same id must match it. */
    digest: text('digest').notNull(),
    plan: jsonb('plan').notNull(),
    phase: text('phase').notNull(),
    mode: text('mode').notNull(),
    priority: integer('priority').notNull(),
    requestedBy: text('requested_by').notNull(),
    status: jsonb('status'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' })
      .notNull()
      .default(sql`now()`),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' })
      .notNull()
      .default(sql`now()`),
  },
  (t) => [index('plans_phase_idx').on(t.phase), index('plans_created_idx').on(t.createdAt)],
);

/**
 * Append-only, hash-chained audit trail. A trigger (see the migration) rejects UPDATE and
 * DELETE; `hash = sha256(prevHash || canonical(record))`, verified by `sentinel audit verify`.
 */
export const auditRecords = pgTable(
  'audit_records',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    /** Idempotency key: a retried activity writes the same record once. */
    recordKey: text('record_key').notNull(),
    planId: text('plan_id').notNull(),
    stepIndex: integer('step_index').notNull(),
    kind: text('kind').notNull(),
    workload: text('workload').notNull(),
    actor: text('actor').notNull(),
    at: text('at').notNull(),
    body: jsonb('body').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    uniqueIndex('audit_record_key_idx').on(t.recordKey),
    index('audit_plan_idx').on(t.planId),
    index('audit_workload_idx').on(t.workload),
  ],
);

/** Versioned policy documents; a change inserts a new version, old versions stay readable. */
export const policies = pgTable(
  'policies',
  {
    id: text('id').notNull(),
    version: integer('version').notNull(),
    document: jsonb('document').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' })
      .notNull()
      .default(sql`now()`),
    /** Set on the newest version when the policy is deleted. */
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [primaryKey({ columns: [t.id, t.version] })],
);

/**
 * Transactional outbox: each row is one CloudEvent, inserted in the same transaction as the
 * state change it describes and published to Kafka later by the relay (events/relay.ts).
 * `seq` is the publication order; per `key` it is also the commit order, because writers of
 * one key are serialised by an advisory lock (store/outbox.ts).
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    /** The CloudEvent id; derived from the state change, so a retried writer inserts it once. */
    id: text('id').primaryKey(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    /** Kafka message key: the workload key (`cluster/namespace/kind/name`). */
    key: text('key').notNull(),
    /** The stream the event belongs to; the relay maps it to a Kafka topic. */
    topic: text('topic').notNull(),
    type: text('type').notNull(),
    event: jsonb('event').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' })
      .notNull()
      .default(sql`now()`),
    /** Set once the broker acknowledged the event; `null` while it waits. */
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'string' }),
    /** Failed publication attempts so far. */
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** The relay that holds the head of the queue, until `claimExpiresAt`. */
    claimedBy: text('claimed_by'),
    claimExpiresAt: timestamp('claim_expires_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [
    uniqueIndex('outbox_seq_idx').on(t.seq),
    index('outbox_unsent_idx')
      .on(t.seq)
      .where(sql`${t.sentAt} IS NULL`),
  ],
);
