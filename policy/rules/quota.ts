import { z } from 'zod';
import type { ResourceUsage } from '../context.ts';
import { formatBytes, formatCpu, formatNumber } from '../format.ts';
import type { ActionProjection, MissingInput, ResourceDimension } from '../projection.ts';
import { isMissing, quantize, TEAM_UNKNOWN } from '../projection.ts';
import { parseQuantity } from '../quantity.ts';
import type { CompiledRule, RuleOutcome } from './common.ts';
import { missingInput, onMissingInputField, PASS, QuantitySchema, violation } from './common.ts';

/** What a quota limits: the workload itself, or everything in its namespace, team or cluster. */
export const QuotaScope = {
  workload: 'workload',
  namespace: 'namespace',
  team: 'team',
  cluster: 'cluster',
} as const;
export type QuotaScope = (typeof QuotaScope)[keyof typeof QuotaScope];

/**
 * Caps replicas, CPU, memory and `nvidia.com/gpu`. With scope `workload` the workload's own
 * totals after the action are capped. With `namespace`, `team` or `cluster`, what is in use
 * in that scope (`context.usage`, which counts the workload as it is now) plus what the action
 * adds is capped. Exactly at a limit is allowed. A dimension the action does not grow always
 * passes, like Kubernetes ResourceQuota, so a scope that is over quota can still shrink.
 */
export const QuotaRuleSchema = z
  .strictObject({
    type: z.literal('quota'),
    scope: z.enum([QuotaScope.workload, QuotaScope.namespace, QuotaScope.team, QuotaScope.cluster]),
    maxReplicas: z.number().int().nonnegative().optional(),
    /** CPU cores, as a number or quantity ("64", "500m"). */
    maxCpu: QuantitySchema.optional(),
    /** Memory bytes, as a number or quantity ("512Gi"). */
    maxMemory: QuantitySchema.optional(),
    /** `nvidia.com/gpu` devices. */
    maxGpus: z.number().int().nonnegative().optional(),
    onMissingInput: onMissingInputField,
  })
  .refine(
    (r) =>
      r.maxReplicas !== undefined ||
      r.maxCpu !== undefined ||
      r.maxMemory !== undefined ||
      r.maxGpus !== undefined,
    { message: 'must set at least one of maxReplicas, maxCpu, maxMemory, maxGpus' },
  );
export type QuotaRule = z.infer<typeof QuotaRuleSchema>;

interface Limit {
  readonly dimension: ResourceDimension;
  readonly label: string;
  readonly max: number;
  readonly show: (n: number) => string;
}

/** Compiles a quota rule. */
export function compileQuotaRule(rule: QuotaRule): CompiledRule {
  const limits: Limit[] = [];
  if (rule.maxReplicas !== undefined) {
    limits.push({ dimension: 'replicas', label: 'replicas', max: rule.maxReplicas, show: formatNumber });
  }
  if (rule.maxCpu !== undefined) {
    limits.push({
      dimension: 'cpuCores',
      label: 'CPU',
      max: quantize('cpuCores', parseQuantity(rule.maxCpu)!),
      show: formatCpu,
    });
  }
  if (rule.maxMemory !== undefined) {
    const max = quantize('memoryBytes', parseQuantity(rule.maxMemory)!);
    limits.push({ dimension: 'memoryBytes', label: 'memory', max, show: formatBytes });
  }
  if (rule.maxGpus !== undefined) {
    limits.push({ dimension: 'gpus', label: 'nvidia.com/gpu', max: rule.maxGpus, show: formatNumber });
  }
  const check = rule.scope === 'workload' ? checkWorkload : checkShared;
  return {
    evaluate(p: ActionProjection): RuleOutcome {
      const problems: string[] = [];
      const details: Record<string, number | string> = { scope: rule.scope };
      let where = '';
      for (const limit of limits) {
        const result = check(rule.scope, limit, p);
        if (result === undefined) continue;
        if (isMissing(result)) return missingInput(rule.onMissingInput, result);
        where = result.where;
        problems.push(result.problem);
        Object.assign(details, result.details);
      }
      if (problems.length === 0) return PASS;
      details.scopeName = where;
      return violation(`${rule.scope} ${where} quota: ${problems.join('; ')}`, details);
    },
  };
}

interface Excess {
  readonly where: string;
  readonly problem: string;
  readonly details: Record<string, number>;
}

/** Scope `workload`: the workload's own total after the action. */
function checkWorkload(
  _scope: QuotaScope,
  limit: Limit,
  p: ActionProjection,
): Excess | MissingInput | undefined {
  const replicas = p.replicasAfter;
  if (replicas === undefined) return { missing: 'action.desiredReplicas is not given' };
  let total: number;
  let perReplica = 1;
  if (limit.dimension === 'replicas') {
    total = replicas;
  } else {
    const resources = p.resourcesAfter;
    if (resources === undefined) return { missing: 'action.resources is not given' };
    perReplica = resources[limit.dimension] ?? 0;
    total = quantize(limit.dimension, replicas * perReplica);
  }
  if (total <= limit.max) return undefined;
  const growth = p.growth(limit.dimension);
  if ('nonIncreasing' in growth || (!isMissing(growth) && growth.value <= 0)) return undefined;
  const t = p.action.target;
  const how =
    limit.dimension === 'replicas'
      ? `${formatNumber(replicas)} replicas`
      : `${formatNumber(replicas)} replicas × ${limit.show(perReplica)} = ${limit.show(total)}`;
  return {
    where: `${t.cluster}/${t.namespace}/${t.kind}/${t.name}`,
    problem: `${limit.label}: ${how} exceeds the quota of ${limit.show(limit.max)}`,
    details: { [`${limit.dimension}.projected`]: total, [`${limit.dimension}.limit`]: limit.max },
  };
}

/** Scopes `namespace`, `team`, `cluster`: usage in the scope plus what the action adds. */
function checkShared(
  scope: QuotaScope,
  limit: Limit,
  p: ActionProjection,
): Excess | MissingInput | undefined {
  const growth = p.growth(limit.dimension);
  if ('nonIncreasing' in growth) return undefined;
  if (isMissing(growth)) return growth;
  if (growth.value <= 0) return undefined;
  const found = usageIn(scope, p);
  if (isMissing(found)) return found;
  if (found.usage === undefined) return { missing: `context.usage has no entry for ${scope} ${found.name}` };
  const used = found.usage[limit.dimension];
  if (used === undefined)
    return { missing: `context.usage has no ${limit.dimension} for ${scope} ${found.name}` };
  const projected = quantize(limit.dimension, used + growth.value);
  if (projected <= limit.max) return undefined;
  return {
    where: found.name,
    problem:
      `${limit.label}: ${limit.show(used)} in use + ${limit.show(growth.value)} requested = ` +
      `${limit.show(projected)} exceeds the quota of ${limit.show(limit.max)}`,
    details: {
      [`${limit.dimension}.used`]: used,
      [`${limit.dimension}.requested`]: growth.value,
      [`${limit.dimension}.projected`]: projected,
      [`${limit.dimension}.limit`]: limit.max,
    },
  };
}

interface ScopeUsage {
  readonly name: string;
  readonly usage: ResourceUsage | undefined;
}

function usageIn(scope: QuotaScope, p: ActionProjection): ScopeUsage | MissingInput {
  const usage = p.context.usage;
  const { cluster, namespace } = p.action.target;
  switch (scope) {
    case 'namespace': {
      const name = `${cluster}/${namespace}`;
      return { name, usage: lookup(usage?.namespaces, name) };
    }
    case 'cluster':
      return { name: cluster, usage: lookup(usage?.clusters, cluster) };
    case 'team': {
      const team = p.team;
      if (team === undefined) return { missing: TEAM_UNKNOWN };
      return { name: team, usage: lookup(usage?.teams, team) };
    }
    case 'workload':
      return { missing: 'unreachable: workload quotas do not read usage' };
  }
}

function lookup<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
