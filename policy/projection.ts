// What an action would change, derived once per evaluation and shared by every rule (several
// cost, quota and budget policies usually match the same action). Values are computed on
// first use and memoised, so an evaluation that matches no cost rule never prices anything.
//
// Rules never block an action that does not make things worse (scaling down over a quota,
// reducing cost above a ceiling): the "may increase" helpers below answer that question even
// when exact quantities or prices are unknown.

import type { PolicyAction, ReplicaResources } from './action.ts';
import type { PolicyContext, PriceTable } from './context.ts';
import { TEAM_LABEL } from './context.ts';
import { PolicyInputError } from './errors.ts';
import { parseInstant } from './instant.ts';

/** An input a rule needs but the action or context does not provide. */
export interface MissingInput {
  readonly missing: string;
}

/** A resource dimension counted by quotas. */
export type ResourceDimension = 'replicas' | 'cpuCores' | 'memoryBytes' | 'gpus';

/** How much an action adds to one dimension: a number, or "never more than now", or unknown. */
export type Growth = { readonly value: number } | { readonly nonIncreasing: true } | MissingInput;

/** Hourly cost of a workload, with the parts that make it up. */
export interface HourlyCost {
  readonly total: number;
  readonly perReplica: number;
  readonly replicas: number;
}

const GIB = 2 ** 30;

/** Why a team-scoped rule cannot tell whose workload this is. */
export const TEAM_UNKNOWN = `the workload's team is unknown (no context.team and no ${TEAM_LABEL} label)`;

/** Rounds to the resolution each dimension is compared at (millicores, bytes, whole devices). */
export function quantize(dimension: ResourceDimension, value: number): number {
  return dimension === 'cpuCores' ? Math.round(value * 1000) / 1000 : Math.round(value);
}

/** Money is compared in millionths, so 3 × 0.1 is exactly at a ceiling of 0.3. */
export function quantizeMoney(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function sameResources(a: ReplicaResources, b: ReplicaResources): boolean {
  return (
    (a.cpuCores ?? 0) === (b.cpuCores ?? 0) &&
    (a.memoryBytes ?? 0) === (b.memoryBytes ?? 0) &&
    (a.gpus ?? 0) === (b.gpus ?? 0) &&
    (a.gpuModel ?? '') === (b.gpuModel ?? '')
  );
}

/** Derived, memoised view of an action in its context. */
export class ActionProjection {
  readonly action: PolicyAction;
  readonly context: PolicyContext;
  /** `context.now` in epoch milliseconds. */
  readonly nowMs: number;
  private costAfterMemo: HourlyCost | MissingInput | undefined;
  private costBeforeMemo: HourlyCost | MissingInput | undefined;
  private historyTimesMemo: Float64Array | undefined;

  constructor(action: PolicyAction, context: PolicyContext, nowMs: number) {
    this.action = action;
    this.context = context;
    this.nowMs = nowMs;
  }

  get replicasBefore(): number | undefined {
    return this.action.currentReplicas;
  }

  /** Replicas after the action; a verb other than `scale` keeps the current count. */
  get replicasAfter(): number | undefined {
    const a = this.action;
    return a.desiredReplicas ?? (a.verb === 'scale' ? undefined : a.currentReplicas);
  }

  /** Per-replica requests after the action (either resources field stands for both when alone). */
  get resourcesAfter(): ReplicaResources | undefined {
    return this.action.resources ?? this.action.currentResources;
  }

  get resourcesBefore(): ReplicaResources | undefined {
    return this.action.currentResources ?? this.action.resources;
  }

  /** Whether per-replica requests stay the same (true also when they are unknown but not said to change). */
  get resourcesUnchanged(): boolean {
    const { resources, currentResources } = this.action;
    return (
      resources === undefined || currentResources === undefined || sameResources(resources, currentResources)
    );
  }

  /** Owning team: `context.team`, else the team label of the workload, else of its namespace. */
  get team(): string | undefined {
    return (
      this.context.team ??
      this.action.workloadLabels?.[TEAM_LABEL] ??
      this.action.namespaceLabels?.[TEAM_LABEL]
    );
  }

  get currency(): string {
    return this.context.prices?.currency ?? 'USD';
  }

  /** How much the action adds to `dimension` in any scope that contains the workload. */
  growth(dimension: ResourceDimension): Growth {
    const before = this.replicasBefore;
    const after = this.replicasAfter;
    if (before === undefined) return { missing: 'action.currentReplicas is not given' };
    if (after === undefined) return { missing: 'action.desiredReplicas is not given' };
    if (dimension === 'replicas') return { value: after - before };
    if (this.resourcesUnchanged) {
      // Same per-replica requests: the sign of the change is the sign of the replica change,
      // whatever the (possibly unknown) requests are.
      if (after <= before) return { nonIncreasing: true };
      const per = this.resourcesAfter;
      if (per === undefined) return { missing: 'action.resources is not given' };
      return { value: quantize(dimension, (after - before) * (per[dimension] ?? 0)) };
    }
    const a = this.resourcesAfter!;
    const b = this.resourcesBefore!;
    return { value: quantize(dimension, after * (a[dimension] ?? 0) - before * (b[dimension] ?? 0)) };
  }

  /** False when the action certainly does not raise the workload's hourly cost. */
  get costMayIncrease(): boolean {
    const before = this.replicasBefore;
    const after = this.replicasAfter;
    if (before === undefined || after === undefined) return true;
    if (this.resourcesUnchanged) return after > before;
    const a = this.resourcesAfter!;
    const b = this.resourcesBefore!;
    if ((a.gpuModel ?? '') !== (b.gpuModel ?? '') && after * (a.gpus ?? 0) > 0) return true;
    return (
      after * (a.cpuCores ?? 0) > before * (b.cpuCores ?? 0) ||
      after * (a.memoryBytes ?? 0) > before * (b.memoryBytes ?? 0) ||
      after * (a.gpus ?? 0) > before * (b.gpus ?? 0)
    );
  }

  /**
   * `context.history[i].at` in epoch ms, parsed on first use and shared by every rate limit
   * (rate limits filter entries by scope first, so most timestamps are never parsed).
   * @throws {PolicyInputError} when the entry's `at` is not an ISO 8601 timestamp.
   */
  historyTime(i: number): number {
    const history = this.context.history ?? [];
    this.historyTimesMemo ??= new Float64Array(history.length).fill(Number.NaN);
    let at = this.historyTimesMemo[i]!;
    if (Number.isNaN(at)) {
      const entry = history[i]!;
      const parsed = parseInstant(entry.at);
      if (parsed === undefined) {
        throw new PolicyInputError(`context.history[${i}].at is not an ISO 8601 timestamp: "${entry.at}"`);
      }
      at = parsed;
      this.historyTimesMemo[i] = at;
    }
    return at;
  }

  /** Hourly cost of the workload after the action. */
  get costAfter(): HourlyCost | MissingInput {
    this.costAfterMemo ??= this.price(this.replicasAfter, this.resourcesAfter, 'desiredReplicas');
    return this.costAfterMemo;
  }

  /** Hourly cost of the workload as it is now. */
  get costBefore(): HourlyCost | MissingInput {
    this.costBeforeMemo ??= this.price(this.replicasBefore, this.resourcesBefore, 'currentReplicas');
    return this.costBeforeMemo;
  }

  private price(
    replicas: number | undefined,
    resources: ReplicaResources | undefined,
    replicasField: string,
  ): HourlyCost | MissingInput {
    if (replicas === undefined) return { missing: `action.${replicasField} is not given` };
    if (resources === undefined) return { missing: 'action.resources is not given' };
    const perReplica = replicaHourlyCost(resources, this.context.prices);
    if (typeof perReplica !== 'number') return perReplica;
    return { total: quantizeMoney(perReplica * replicas), perReplica, replicas };
  }
}

/** Hourly price of one replica; a price is needed only for a resource actually requested. */
export function replicaHourlyCost(
  resources: ReplicaResources,
  prices: PriceTable | undefined,
): number | MissingInput {
  let cost = 0;
  const cpu = resources.cpuCores ?? 0;
  if (cpu > 0) {
    if (prices?.cpuCoreHour === undefined) return { missing: 'context.prices.cpuCoreHour is not given' };
    cost += cpu * prices.cpuCoreHour;
  }
  const memory = resources.memoryBytes ?? 0;
  if (memory > 0) {
    if (prices?.memoryGiBHour === undefined) return { missing: 'context.prices.memoryGiBHour is not given' };
    cost += (memory / GIB) * prices.memoryGiBHour;
  }
  const gpus = resources.gpus ?? 0;
  if (gpus > 0) {
    const model = resources.gpuModel;
    const price =
      (model !== undefined && prices?.gpuHour !== undefined && Object.hasOwn(prices.gpuHour, model)
        ? prices.gpuHour[model]
        : undefined) ?? prices?.defaultGpuHour;
    if (price === undefined) {
      return {
        missing:
          model === undefined
            ? 'no GPU price: action.resources.gpuModel and context.prices.defaultGpuHour are not given'
            : `no GPU price for model ${model} in context.prices.gpuHour and no defaultGpuHour`,
      };
    }
    cost += gpus * price;
  }
  return cost;
}

/** Type guard for {@link MissingInput}. */
export function isMissing(value: object): value is MissingInput {
  return 'missing' in value;
}
