// The worker bundles this file: every workflow type Sentinel runs is exported here.
export { actionPlanWorkflow } from './action-plan.ts';
export { workloadLockWorkflow } from './workload-lock.ts';
