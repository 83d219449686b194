import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  NativeConnection,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createPlanActivities, type PlanActivityDeps } from '../activities/index.ts';
import { createRolloutActivities } from '../activities/rollout-activities.ts';
import { PLAN_TASK_QUEUE } from '../domain/plan-messages.ts';
import { createRolloutMetrics } from '../metrics/rollout-metrics.ts';
import { installWorkerRuntime } from './runtime.ts';

const workflowsPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'workflows', 'index.ts');

/** Bundles workflows/ once; tests and the dev stack reuse the bundle across workers. */
export async function bundlePlanWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger, preloadModules: SHARED_MODULES });
}

/**
 * Modules loaded once per worker and shared by every workflow instead of evaluated again in
 * each one (the reusable V8 context isolates module state per workflow by default): zod, via
 * workflows/shared-modules.ts. Stateless once loaded, it is most of what each cached workflow
 * would otherwise hold.
 */
const SHARED_MODULES = [
  join(dirname(fileURLToPath(import.meta.url)), '..', 'workflows', 'shared-modules.ts'),
];

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
};

/** Options for {@link createPlanWorker}. */
export interface PlanWorkerOptions {
  temporalAddress: string;
  namespace: string;
  deps: PlanActivityDeps;
  /** A prebuilt bundle; the worker bundles workflows/ itself when absent. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** @default PLAN_TASK_QUEUE */
  taskQueue?: string;
  /** Workflow cache size; tests set 0 to force replay on every task. */
  maxCachedWorkflows?: number;
  /** Prometheus for rollout analyses (`PROMETHEUS_URL`); analysis steps fail clearly without it. */
  prometheusUrl?: string;
}

/**
 * A worker hosting the plan and rollout workflows and their activities (one task queue, one
 * worker); `run()` until `shutdown()`.
 */
export async function createPlanWorker(
  options: PlanWorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  installWorkerRuntime();
  const connection = await NativeConnection.connect({ address: options.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? PLAN_TASK_QUEUE,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath, bundlerOptions: { preloadModules: SHARED_MODULES } }),
    activities: {
      ...createPlanActivities(options.deps),
      ...createRolloutActivities({
        db: options.deps.db,
        clusters: options.deps.clusters,
        ...(options.deps.metrics && { metrics: createRolloutMetrics(options.deps.metrics.registry) }),
        ...(options.prometheusUrl && { prometheusUrl: options.prometheusUrl }),
      }),
    },
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
  });
  return { worker, connection };
}
