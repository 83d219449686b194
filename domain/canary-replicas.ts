// Canary replica arithmetic: how many pods each side of a canary gets at a weight, what share
// of the pods that really is, and in which order a weight change moves them. Pure, so the
// workflow calls it directly and the unit tests beside it pin every rounding case.

/** Replica counts of the two Deployments of a canary. */
export interface CanaryPair {
  canary: number;
  stable: number;
}

/** A split at a weight, with the share of the pods it really gives the canary. */
export interface CanaryReplicas extends CanaryPair {
  /** `100 × canary / (canary + stable)`, to one decimal: the traffic share the pods give. */
  weight: number;
}

/**
 * The canary's share of the pods, in percent to one decimal: with the replica-ratio router
 * this is its share of the traffic, whatever weight was asked for. 0 when there are no pods.
 *
 * @example replicaWeight(1, 1) === 50; replicaWeight(2, 1) === 66.7
 */
export function replicaWeight(canary: number, stable: number): number {
  const pods = canary + stable;
  return pods === 0 ? 0 : Math.round((1000 * canary) / pods) / 10;
}

/**
 * Replica counts for `weight`% of a workload of `total` pods (Argo Rollouts'
 * `CalculateReplicaCountsForCanary` is the model).
 *
 * - `weight` 0: canary 0, stable `total`. `weight` 100: canary `total`, stable 0 with dynamic
 *   stable scale (the final step), else `total`.
 * - Otherwise the canary gets `ceil(total × weight / 100)` (at least one pod: a weight above 0
 *   always tries the new version).
 * - Without dynamic stable scale the stable keeps `total`.
 * - With dynamic stable scale the stable gets the rest, `total − canary`, but never fewer than
 *   one pod before the final step: the canary is capped at `total − 1`, and a 1-pod workload
 *   runs one pod of each (one surge pod), since any other split puts all or none of it on the
 *   new version.
 *
 * The weight returned is the share those counts really give ({@link replicaWeight}); it is
 * what the status reports, not the weight asked for.
 *
 * Worked examples (dynamic stable scale):
 *
 * | total × weight | canary | stable | real weight |
 * |---|---|---|---|
 * | 1 × 10% | 1 | 1 | 50 |
 * | 4 × 25% | 1 | 3 | 25 |
 * | 3 × 50% | 2 | 1 | 66.7 |
 * | 10 × 1% | 1 | 9 | 10 |
 * | 3 × 99% | 2 | 1 | 66.7 |
 * | 4 × 100% | 4 | 0 | 100 |
 *
 * Without it: 2 × 50% → canary 1, stable 2 (33.3); 4 × 100% → canary 4, stable 4 (50).
 */
export function canaryReplicaSplit(
  total: number,
  weight: number,
  dynamicStableScale: boolean,
): CanaryReplicas {
  const split = (canary: number, stable: number): CanaryReplicas => ({
    canary,
    stable,
    weight: replicaWeight(canary, stable),
  });
  if (total <= 0) return split(0, 0);
  if (weight <= 0) return split(0, total);
  if (weight >= 100) return split(total, dynamicStableScale ? 0 : total);
  const canary = Math.min(total, Math.max(1, Math.ceil((total * weight) / 100)));
  if (!dynamicStableScale) return split(canary, total);
  if (total === 1) return split(1, 1);
  const capped = Math.min(canary, total - 1);
  return split(capped, total - capped);
}

/**
 * The workload's total after a scale the rollout did not make: an HPA or `kubectl scale` moved
 * the stable from `lastStable` (what the rollout last set or saw) to `liveStable`, so the total
 * moves by the same amount and the next step splits the new total.
 *
 * @example followStableScale(4, 4, 8) === 8 (no dynamic scale: the stable is the total);
 * followStableScale(4, 3, 7) === 8 (dynamic: stable 3 + canary 1, stable scaled to 7)
 */
export function followStableScale(total: number, lastStable: number, liveStable: number): number {
  return Math.max(0, total + liveStable - lastStable);
}

/**
 * The stages of a weight change from `from` to `to`, so that capacity moves only as fast as
 * the receiving side becomes Ready: first every side that grows is scaled up (the rollout then
 * waits for its Ready pods), then every side that shrinks is scaled down. Ready pods of the
 * workload so never drop below what they were.
 *
 * `stableGivesFirst` is the exception, for a cluster whose GPUs for new canary pods can only
 * come from the stable's (dynamic stable scale, same GPU shape): the stable gives up that many
 * pods in the first stage (never more than it would lose anyway), the rest after the canary
 * is Ready.
 *
 * Stages equal to the one before are left out, so a change with nothing to do has none.
 *
 * @example weightStages({canary: 0, stable: 4}, {canary: 2, stable: 2}) →
 *   [{canary: 2, stable: 4}, {canary: 2, stable: 2}]
 */
export function weightStages(from: CanaryPair, to: CanaryPair, stableGivesFirst = 0): CanaryPair[] {
  const shrinkFirst = Math.max(0, Math.min(stableGivesFirst, from.stable - to.stable));
  const grow: CanaryPair = {
    canary: Math.max(from.canary, to.canary),
    stable: to.stable > from.stable ? to.stable : from.stable - shrinkFirst,
  };
  const stages: CanaryPair[] = [];
  let previous = from;
  for (const stage of [grow, to]) {
    if (stage.canary === previous.canary && stage.stable === previous.stable) continue;
    stages.push(stage);
    previous = stage;
  }
  return stages;
}
