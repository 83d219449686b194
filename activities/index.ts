export { createPlanActivities } from './plan-activities.ts';
export type {
  AuditRequest,
  PlanActivities,
  PlanActivityDeps,
  StepDecision,
  StepOutcome,
} from './plan-activities.ts';
