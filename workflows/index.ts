// The worker bundles this file: every workflow type Sentinel runs is exported here.
export { actionPlanWorkflow } from './action-plan.ts';
export { workloadLockWorkflow } from './workload-lock.ts';
export { canaryRolloutWorkflow } from './canary-rollout.ts';
export { blueGreenRolloutWorkflow } from './bluegreen-rollout.ts';
export { noopWorkflow } from './noop.ts';
