import type { ActionPlan, PlanStep } from '../domain/plan.ts';
import {
  getNamespaceLabels,
  getNamespaceUsage,
  getWorkload,
  parseQuantity,
  type ClusterRegistry,
  type WorkloadObject,
} from '../k8s/index.ts';
import {
  parseDuration,
  type ActionHistoryEntry,
  type PolicyAction,
  type PolicyContext,
  type PolicyDocument,
  type PriceTable,
  type ReplicaResources,
} from '../policy/index.ts';
import type { Database } from '../store/database.ts';
import { listRecentActions } from '../store/audit.ts';

/** Where the live inputs of a policy decision come from. */
export interface PolicyInputSources {
  db: Database;
  clusters: ClusterRegistry;
  /** Hourly prices for cost-ceiling and budget rules; those rules fail closed without them. */
  prices?: PriceTable;
}

/**
 * How far back the history reaches: the longest window of the rate-limit policies in force,
 * and nothing when there are none. The history is stored with every decision (so it can be
 * re-verified), which is why it holds no more than the rules can look at.
 */
function historyWindowMs(policies: readonly PolicyDocument[]): number {
  let longest = 0;
  for (const policy of policies) {
    if (policy.rule.type === 'rateLimit') longest = Math.max(longest, parseDuration(policy.rule.window) ?? 0);
  }
  return longest;
}

/**
 * The action and context one plan step is judged on, read from the live cluster and the
 * audit trail: workload and namespace labels, replicas, per-replica requests, what the
 * namespace uses now, and the actions applied within the longest rate-limit window. Both the plan workflow's
 * policy gate and the dry-run API use this, so they judge the same facts.
 */
export async function describeStepForPolicy(
  sources: PolicyInputSources,
  plan: ActionPlan,
  step: PlanStep,
  now: Date,
  policies: readonly PolicyDocument[],
): Promise<{ action: PolicyAction; context: PolicyContext }> {
  const { cluster, namespace } = step.target;
  const [live, namespaceLabels, namespaceUsage, history] = await Promise.all([
    getWorkload(sources.clusters, step.target),
    getNamespaceLabels(sources.clusters, cluster, namespace),
    getNamespaceUsage(sources.clusters, cluster, namespace),
    recentActions(sources.db, now, historyWindowMs(policies)),
  ]);
  const currentReplicas =
    step.target.kind === 'Job' ? (live.spec.parallelism ?? 1) : (live.spec.replicas ?? 1);
  const resources = replicaResources(live);
  const action: PolicyAction = {
    verb: step.verb,
    target: step.target,
    planId: plan.id,
    emergency: plan.emergency,
    workloadLabels: live.metadata.labels ?? {},
    namespaceLabels,
    currentReplicas,
    desiredReplicas: step.verb === 'scale' ? step.params.replicas : currentReplicas,
    resources,
    currentResources: resources,
  };
  const context: PolicyContext = {
    now: now.toISOString(),
    usage: {
      namespaces: {
        [`${cluster}/${namespace}`]: {
          replicas: namespaceUsage.pods,
          cpuCores: namespaceUsage.cpuCores,
          memoryBytes: namespaceUsage.memoryBytes,
          gpus: Math.round(namespaceUsage.gpus),
        },
      },
    },
    history,
    availableReplicas: Number(live.status?.readyReplicas ?? 0),
    ...(sources.prices ? { prices: sources.prices } : {}),
  };
  return { action, context };
}

async function recentActions(db: Database, now: Date, windowMs: number): Promise<ActionHistoryEntry[]> {
  if (windowMs === 0) return [];
  const rows = await listRecentActions(db, new Date(now.getTime() - windowMs).toISOString());
  return rows.flatMap((row): ActionHistoryEntry[] => {
    const step = row.step as PlanStep | null;
    return step ? [{ at: row.at, verb: step.verb, target: step.target, planId: row.planId }] : [];
  });
}

/** Requests of one replica, summed over its containers (limits stand in for missing requests). */
function replicaResources(live: WorkloadObject): ReplicaResources {
  let cpuCores = 0;
  let memoryBytes = 0;
  let gpus = 0;
  for (const container of live.spec.template.spec.containers) {
    const requests = { ...container.resources?.limits, ...container.resources?.requests };
    cpuCores += quantity(requests.cpu);
    memoryBytes += quantity(requests.memory);
    gpus += quantity(requests['nvidia.com/gpu']);
  }
  const gpuModel = live.spec.template.spec.nodeSelector?.['nvidia.com/gpu.product'];
  return { cpuCores, memoryBytes, gpus: Math.round(gpus), ...(gpuModel ? { gpuModel } : {}) };
}

function quantity(value: string | undefined): number {
  if (value === undefined) return 0;
  const parsed = parseQuantity(value);
  return Number.isFinite(parsed) ? parsed : 0;
}
