import { workloadKey, type ActionPlan, type PlanStatus } from '../domain/plan.ts';
import { cloudEvent, SentinelEventType, type CloudEvent } from './cloudevent.ts';

// Builders for the plan lifecycle events. Each event's id is derived from the state change it
// describes, never from a clock or a random source, so that a retried activity that repeats
// the change produces the same id and the outbox keeps one copy.

/**
 * The Kafka key of a plan's own events: the workload of its first step. Step events are
 * keyed by their step's workload, so a single-workload plan's events share one partition.
 */
export function planEventKey(plan: ActionPlan): string {
  return workloadKey(plan.steps[0]!.target);
}

/** `dev.sentinel.plan.submitted`: the plan row was created. */
export function planSubmittedEvent(
  plan: ActionPlan,
  meta: { workflowId: string; digest: string; phase: string },
  time: string,
): CloudEvent {
  return cloudEvent({
    name: `plan/${plan.id}/submitted`,
    type: SentinelEventType.PlanSubmitted,
    subject: planEventKey(plan),
    time,
    planId: plan.id,
    data: {
      planId: plan.id,
      workflowId: meta.workflowId,
      digest: meta.digest,
      phase: meta.phase,
      workloads: [...new Set(plan.steps.map((s) => workloadKey(s.target)))],
      plan,
    },
  });
}

/**
 * `dev.sentinel.plan.phase.changed`, or `dev.sentinel.plan.finished` when `status.phase` is
 * terminal. The id includes the workflow's `updatedAt`, so a plan that is paused and resumed
 * twice emits two distinct Running events while a retried write emits one.
 */
export function planPhaseEvent(
  plan: ActionPlan,
  from: string,
  status: PlanStatus,
  terminal: boolean,
): CloudEvent {
  return cloudEvent({
    name: `plan/${plan.id}/phase/${from}->${status.phase}/${status.updatedAt}`,
    type: terminal ? SentinelEventType.PlanFinished : SentinelEventType.PlanPhaseChanged,
    subject: planEventKey(plan),
    time: status.updatedAt,
    planId: plan.id,
    data: { planId: plan.id, from, phase: status.phase, status },
  });
}

const AUDIT_EVENT_TYPES: Record<string, SentinelEventType> = {
  'step.applied': SentinelEventType.StepApplied,
  'step.shadowed': SentinelEventType.StepShadowed,
  'step.denied': SentinelEventType.StepDenied,
  'step.failed': SentinelEventType.StepFailed,
  'step.cancelled': SentinelEventType.StepCancelled,
  'step.compensated': SentinelEventType.StepCompensated,
};

/** What {@link auditEvent} needs from an audit record (the stored row's fields). */
export interface AuditEventSource {
  recordKey: string;
  seq: number;
  hash: string;
  planId: string;
  stepIndex: number;
  kind: string;
  workload: string;
  actor: string;
  at: string;
  body: Record<string, unknown>;
}

/**
 * The step event for an audit record (`step.applied` → `dev.sentinel.plan.step.applied`, …),
 * or `undefined` for audit kinds that are not plan step events. Its id derives from the
 * record's idempotency key.
 */
export function auditEvent(record: AuditEventSource): CloudEvent | undefined {
  const type = AUDIT_EVENT_TYPES[record.kind];
  if (!type) return undefined;
  return cloudEvent({
    name: `audit/${record.recordKey}`,
    type,
    subject: record.workload,
    time: record.at,
    planId: record.planId,
    data: {
      planId: record.planId,
      stepIndex: record.stepIndex,
      workload: record.workload,
      actor: record.actor,
      audit: { seq: record.seq, hash: record.hash, recordKey: record.recordKey },
      ...record.body,
    },
  });
}
