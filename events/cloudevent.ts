import { createHash } from 'node:crypto';
import { z } from 'zod';

/** CloudEvents `source` of every event Sentinel emits. */
export const EVENT_SOURCE = 'sentinel';

/**
 * The stream every plan event is written to, and the Kafka topic it is published on unless
 * `KAFKA_TOPIC` names another.
 */
export const DEFAULT_EVENTS_TOPIC = 'sentinel.events';

/** Content type of a structured-mode CloudEvent on Kafka (the whole event is the message value). */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

/** Every event type Sentinel emits. */
export const SentinelEventType = {
  /** A plan was accepted and its row created (once per plan id). */
  PlanSubmitted: 'dev.sentinel.plan.submitted',
  /** A plan moved between non-terminal phases (e.g. Pending → Running, Running → Paused). */
  PlanPhaseChanged: 'dev.sentinel.plan.phase.changed',
  /** A plan reached its terminal phase (Succeeded, Denied, Expired, Failed, RolledBack, …). */
  PlanFinished: 'dev.sentinel.plan.finished',
  /** A step mutated its workload; the audit record is in `data`. */
  StepApplied: 'dev.sentinel.plan.step.applied',
  /** A shadow-mode step ran as a server-side dry run. */
  StepShadowed: 'dev.sentinel.plan.step.shadowed',
  /** Policy denied a step. */
  StepDenied: 'dev.sentinel.plan.step.denied',
  /** A step failed (the Kubernetes change was refused or never completed); compensation follows. */
  StepFailed: 'dev.sentinel.plan.step.failed',
  /** An abort stopped a step's change in flight; compensation follows. */
  StepCancelled: 'dev.sentinel.plan.step.cancelled',
  /** A step's inverse ran to roll the plan back. */
  StepCompensated: 'dev.sentinel.plan.step.compensated',
} as const;
export type SentinelEventType = (typeof SentinelEventType)[keyof typeof SentinelEventType];

/**
 * A CloudEvents 1.0 event in its JSON format, as Sentinel writes it to the outbox and to
 * Kafka. `planid` is a CloudEvents extension attribute.
 */
export const CloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  /** The workload key (`cluster/namespace/kind/name`), also the Kafka message key. */
  subject: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  planid: z.string().min(1).optional(),
  data: z.record(z.string(), z.unknown()),
});
export type CloudEvent = z.infer<typeof CloudEventSchema>;

// Namespace of the name-based event ids (RFC 9562 UUIDv5); fixed forever so ids stay stable.
const EVENT_ID_NAMESPACE = Buffer.from('3a7473c379424aa2a8569f489af31335', 'hex');

/**
 * A deterministic event id (UUIDv5) for a logical event name such as
 * `plan/p1/phase/Running/2025-01-01T00:00:00.000Z`: a retried writer derives the same id,
 * so the outbox (and a consumer that dedupes by id) sees the event once.
 */
export function eventId(name: string): string {
  const hash = createHash('sha1').update(EVENT_ID_NAMESPACE).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Fields that vary per event; {@link cloudEvent} adds the fixed ones. */
export interface CloudEventInit {
  /** Logical name of the event, hashed into its id (see {@link eventId}). */
  name: string;
  type: SentinelEventType;
  subject: string;
  time: string;
  planId?: string;
  data: Record<string, unknown>;
}

/** Builds and validates a CloudEvent. */
export function cloudEvent(init: CloudEventInit): CloudEvent {
  return CloudEventSchema.parse({
    specversion: '1.0',
    id: eventId(init.name),
    source: EVENT_SOURCE,
    type: init.type,
    subject: init.subject,
    time: init.time,
    datacontenttype: 'application/json',
    ...(init.planId ? { planid: init.planId } : {}),
    data: init.data,
  });
}
