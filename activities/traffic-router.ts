import { TrafficRouterKind, type RolloutTarget } from '../domain/rollout.ts';
import { scaleWorkload, type ClusterRegistry } from '../k8s/index.ts';
import { deploymentTarget } from './rollout-kubernetes.ts';

/** What a canary step asks of the router: a weight, and the replica counts the rollout chose for it. */
export interface WeightRequest {
  target: RolloutTarget;
  /** Share of traffic for the canary, 0-100. */
  weight: number;
  canary: { name: string; replicas: number };
  /** Null: the stable is left as it is (only dynamic stable scale moves it before promotion). */
  stable: { name: string; replicas: number } | null;
  /**
   * Change the stable first: when the canary's GPUs can only come from the stable's (dynamic
   * stable scale on a full cluster). Otherwise the canary grows before the stable shrinks, so
   * capacity never dips.
   */
  stableFirst: boolean;
  dryRun: boolean;
  /** The rollout making the change, recorded on the Deployments. */
  planId: string;
  /** Idempotency key of this change. */
  operationId: string;
}

/** What a weight change did, per Deployment (null for a side it left alone). */
export interface WeightOutcome {
  changed: boolean;
  canary: { from: number; to: number };
  stable: { from: number; to: number } | null;
}

/**
 * How a rollout splits traffic between the stable and the canary. The replica-ratio router
 * is built in; a Gateway API or Istio router would set route weights here and leave the
 * replica counts to the rollout, as Argo Rollouts does.
 */
export interface TrafficRouter {
  readonly kind: TrafficRouterKind;
  /** Sends `weight`% of the traffic to the canary. Idempotent: a repeat changes nothing. */
  setWeight(request: WeightRequest): Promise<WeightOutcome>;
}

/**
 * Traffic by replica ratio: the stable `<name>` and the canary `<name>-canary` sit behind the
 * same Service selector, so the canary's share of the traffic is its share of the Ready pods.
 * Setting a weight is scaling the two Deployments (`scaleWorkload`: read first, then one patch
 * of the count and its provenance annotations with a resourceVersion precondition).
 */
export class ReplicaRatioRouter implements TrafficRouter {
  readonly kind = TrafficRouterKind.replicaRatio;

  constructor(private readonly clusters: ClusterRegistry) {}

  async setWeight(request: WeightRequest): Promise<WeightOutcome> {
    const scale = (side: { name: string; replicas: number }, key: 'canary' | 'stable') =>
      scaleWorkload(
        this.clusters,
        deploymentTarget(request.target, side.name),
        { replicas: side.replicas },
        { dryRun: request.dryRun, planId: request.planId, operationId: `${request.operationId}/${key}` },
      );
    const order = request.stableFirst ? (['stable', 'canary'] as const) : (['canary', 'stable'] as const);
    const results: Pick<WeightOutcome, 'canary' | 'stable'> = { canary: { from: 0, to: 0 }, stable: null };
    let changed = false;
    for (const key of order) {
      const side = request[key];
      if (!side) continue;
      const result = await scale(side, key);
      results[key] = { from: result.previous.replicas, to: result.applied.replicas };
      changed ||= result.changed;
    }
    return { changed, ...results };
  }
}

/** The router of a kind. */
export function trafficRouterFor(kind: TrafficRouterKind, clusters: ClusterRegistry): TrafficRouter {
  switch (kind) {
    case TrafficRouterKind.replicaRatio:
      return new ReplicaRatioRouter(clusters);
  }
}
