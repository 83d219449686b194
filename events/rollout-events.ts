import { rolloutWorkloadKey, type RolloutStatus } from '../domain/rollout.ts';
import { CloudEventSchema, EVENT_SOURCE, eventId, type CloudEvent } from './cloudevent.ts';
import type { AuditEventSource } from './plan-events.ts';

// Rollout lifecycle events, CloudEvents like the plan events and written to the same outbox.
// Ids derive from the state change they describe, so a retried activity writes one copy.

/** The event types of rollouts. A step event's type is `dev.sentinel.` + its audit kind. */
export const RolloutEventType = {
  /** The rollout moved between non-terminal phases (Progressing → Paused, …). */
  PhaseChanged: 'dev.sentinel.rollout.phase.changed',
  /** The rollout ended: Promoted, RolledBack, Aborted, RollbackFailed or Failed. */
  Finished: 'dev.sentinel.rollout.finished',
} as const;

function rolloutEvent(init: {
  name: string;
  type: string;
  subject: string;
  time: string;
  rolloutId: string;
  data: Record<string, unknown>;
}): CloudEvent {
  return CloudEventSchema.parse({
    specversion: '1.0',
    id: eventId(init.name),
    source: EVENT_SOURCE,
    type: init.type,
    subject: init.subject,
    time: init.time,
    datacontenttype: 'application/json',
    planid: init.rolloutId,
    data: init.data,
  });
}

/**
 * `dev.sentinel.rollout.phase.changed`, or `dev.sentinel.rollout.finished` for a terminal
 * phase. Keyed (and `subject`ed) by the workload, like plan events; `planid` is the rollout's
 * workflow id.
 */
export function rolloutPhaseEvent(status: RolloutStatus, from: string, terminal: boolean): CloudEvent {
  return rolloutEvent({
    name: `${status.workflowId}/${status.startedAt}/phase/${from}->${status.phase}/${status.updatedAt}`,
    type: terminal ? RolloutEventType.Finished : RolloutEventType.PhaseChanged,
    subject: rolloutWorkloadKey(status.target),
    time: status.updatedAt,
    rolloutId: status.workflowId,
    data: {
      rolloutId: status.rolloutId,
      kind: status.kind,
      from,
      phase: status.phase,
      step: status.currentStep,
      weight: status.weight,
      message: status.message,
    },
  });
}

/** The event of a rollout audit record (`rollout.setWeight` → `dev.sentinel.rollout.setWeight`). */
export function rolloutAuditEvent(record: AuditEventSource): CloudEvent {
  return rolloutEvent({
    name: `audit/${record.recordKey}`,
    type: `dev.sentinel.${record.kind}`,
    subject: record.workload,
    time: record.at,
    rolloutId: record.planId,
    data: {
      rolloutId: record.planId,
      stepIndex: record.stepIndex,
      workload: record.workload,
      actor: record.actor,
      audit: { seq: record.seq, hash: record.hash, recordKey: record.recordKey },
      ...record.body,
    },
  });
}
