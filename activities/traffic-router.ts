import { TrafficRouterKind, type RolloutTarget } from '../domain/rollout.ts';
import { scaleWorkload, type ClusterRegistry } from '../k8s/index.ts';
import { deploymentTarget } from './rollout-kubernetes.ts';

/** What a canary step asks of the router: a weight, and the replica counts the rollout chose for it. */
export interface WeightRequest {
  target: RolloutTarget;
  /** Share of traffic for the canary, 0-100. */
  weight: number;
  canary: { name: string; replicas: number };
  stable: { name: string; replicas: number };
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

/** What a weight change did, per Deployment. */
export interface WeightOutcome {
  changed: boolean;
  canary: { from: number; to: number };
  stable: { from: number; to: number };
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
 * Setting a weight is scaling the two Deployments (the scale subresource, read first, with a
 * resourceVersion precondition).
 */
export class ReplicaRatioRouter implements TrafficRouter {
  readonly kind = TrafficRouterKind.replicaRatio;

  constructor(private readonly clusters: ClusterRegistry) {}

  async setWeight(request: WeightRequest): Promise<WeightOutcome> {
    const scale = (side: 'canary' | 'stable') =>
      scaleWorkload(
        this.clusters,
        deploymentTarget(request.target, request[side].name),
        { replicas: request[side].replicas },
        { dryRun: request.dryRun, planId: request.planId, operationId: `${request.operationId}/${side}` },
      );
    const order = request.stableFirst ? (['stable', 'canary'] as const) : (['canary', 'stable'] as const);
    const results = { canary: { from: 0, to: 0 }, stable: { from: 0, to: 0 } };
    let changed = false;
    for (const side of order) {
      const result = await scale(side);
      results[side] = { from: result.previous.replicas, to: result.applied.replicas };
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
