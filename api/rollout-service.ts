import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { ConflictError, NotFoundError, SentinelError } from '../domain/errors.ts';
import {
  rolloutKindOf,
  RolloutPhase,
  type RolloutKind,
  type RolloutSpec,
  type RolloutStatus,
  type RolloutTarget,
} from '../domain/rollout.ts';
import {
  abortRolloutUpdate,
  pauseRolloutUpdate,
  promoteRolloutUpdate,
  resumeRolloutUpdate,
  rolloutStatusQuery,
  rolloutWorkflowId,
  RolloutWorkflowType,
  type PromoteRequest,
  type RolloutControlAction,
  type RolloutControlResult,
} from '../domain/rollout-messages.ts';
import { PLAN_TASK_QUEUE } from '../domain/plan-messages.ts';
import { SearchAttributes } from '../domain/search-attributes.ts';
import type { ClusterRegistry } from '../k8s/index.ts';
import { assertKnownClusters } from './known-clusters.ts';
import { LIVE_STATUS_TIMEOUT_MS, temporalUnavailable, withTimeout } from './temporal-calls.ts';

/** A rollout as the API shows it. */
export interface RolloutView {
  rolloutId: string;
  workflowId: string;
  runId: string | null;
  kind: RolloutKind | null;
  phase: string;
  /** Live status (the workflow's `status` query, or its result once it ended); null when unreadable. */
  status: RolloutStatus | null;
}

/** One line of `GET /v1/rollouts`, from Temporal's visibility store. */
export interface RolloutSummary {
  rolloutId: string;
  workflowId: string;
  runId: string;
  kind: string | null;
  phase: string | null;
  step: number | null;
  cluster: string | null;
  namespace: string | null;
  workload: string | null;
  /** Temporal's execution status: RUNNING, COMPLETED, … */
  execution: string;
  startedAt: string;
  closedAt: string | null;
}

/** Filters of {@link RolloutService.list}; values are validated by the route. */
export interface RolloutListFilter {
  phase?: string;
  cluster?: string;
  namespace?: string;
  kind?: RolloutKind;
  /** Only rollouts still running. @default false */
  running?: boolean;
  limit?: number;
}

/** What the HTTP API does with rollouts, over Temporal. */
export class RolloutService {
  /** @param clusters the clusters rollouts may target; another is refused with a 400. */
  constructor(
    private readonly client: Client,
    private readonly clusters?: ClusterRegistry,
  ) {}

  /**
   * Starts `rollout/<cluster>/<namespace>/<workload>`. The id is the workload, so a second
   * rollout of a workload while one runs is refused by the server (409); after it ended, a new
   * one may start.
   */
  async start(spec: RolloutSpec): Promise<RolloutView> {
    assertKnownClusters(
      this.clusters,
      [{ path: 'target.cluster', cluster: spec.target.cluster }],
      'invalid rollout',
    );
    const kind = rolloutKindOf(spec);
    const workflowId = rolloutWorkflowId(spec.target);
    try {
      const handle = await this.client.workflow.start(RolloutWorkflowType[kind], {
        taskQueue: PLAN_TASK_QUEUE,
        workflowId,
        args: [spec],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: [
          { key: SearchAttributes.kind, value: kind },
          { key: SearchAttributes.phase, value: RolloutPhase.Pending },
          { key: SearchAttributes.cluster, value: spec.target.cluster },
          { key: SearchAttributes.namespace, value: spec.target.namespace },
          { key: SearchAttributes.workload, value: spec.target.name },
        ],
      });
      return {
        rolloutId: idOf(spec.target),
        workflowId,
        runId: handle.firstExecutionRunId,
        kind,
        phase: RolloutPhase.Pending,
        status: null,
      };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new ConflictError(
          `a rollout of ${idOf(spec.target)} is already running (workflow ${workflowId}); abort it or wait for it to end`,
          { workflowId },
        );
      throw temporalUnavailable(err);
    }
  }

  /** The latest rollout of a workload: live status while it runs, its result once it ended. */
  async get(target: RolloutTarget): Promise<RolloutView> {
    const workflowId = rolloutWorkflowId(target);
    const handle = this.client.workflow.getHandle(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`rollout ${idOf(target)}`);
      throw temporalUnavailable(err);
    }
    const base = {
      rolloutId: idOf(target),
      workflowId,
      runId: description.runId,
      kind: (description.typedSearchAttributes.get(SearchAttributes.kind) as RolloutKind | undefined) ?? null,
    };
    const phaseAttribute = description.typedSearchAttributes.get(SearchAttributes.phase) ?? 'Unknown';
    if (description.status.name === 'COMPLETED') {
      const status = (await handle.result()) as RolloutStatus;
      return { ...base, phase: status.phase, status };
    }
    if (description.status.name !== 'RUNNING')
      return { ...base, phase: `${phaseAttribute} (workflow ${description.status.name})`, status: null };
    try {
      const status = await withTimeout(handle.query(rolloutStatusQuery), LIVE_STATUS_TIMEOUT_MS);
      return { ...base, phase: status.phase, status };
    } catch {
      // No worker answered in time: the search attribute still says where it is.
      return { ...base, phase: phaseAttribute, status: null };
    }
  }

  /** Rollouts from Temporal's visibility store, newest first (the same filters the Web UI offers). */
  async list(filter: RolloutListFilter): Promise<RolloutSummary[]> {
    const clauses = [
      filter.kind ? `SentinelKind = '${filter.kind}'` : `SentinelKind IN ('canary', 'bluegreen')`,
      ...(filter.phase ? [`SentinelPhase = '${filter.phase}'`] : []),
      ...(filter.cluster ? [`SentinelCluster = '${filter.cluster}'`] : []),
      ...(filter.namespace ? [`SentinelNamespace = '${filter.namespace}'`] : []),
      ...(filter.running ? [`ExecutionStatus = 'Running'`] : []),
    ];
    const items: RolloutSummary[] = [];
    try {
      for await (const info of this.client.workflow.list({ query: clauses.join(' AND ') })) {
        const attr = info.typedSearchAttributes;
        items.push({
          rolloutId: info.workflowId.replace(/^rollout\//, ''),
          workflowId: info.workflowId,
          runId: info.runId,
          kind: attr.get(SearchAttributes.kind) ?? null,
          phase: attr.get(SearchAttributes.phase) ?? null,
          step: attr.get(SearchAttributes.step) ?? null,
          cluster: attr.get(SearchAttributes.cluster) ?? null,
          namespace: attr.get(SearchAttributes.namespace) ?? null,
          workload: attr.get(SearchAttributes.workload) ?? null,
          execution: info.status.name,
          startedAt: info.startTime.toISOString(),
          closedAt: info.closeTime?.toISOString() ?? null,
        });
        if (items.length >= (filter.limit ?? 50)) break;
      }
    } catch (err) {
      throw temporalUnavailable(err);
    }
    return items;
  }

  /** pause / resume / abort / promote through the workflow's updates (validated synchronously). */
  async control(
    target: RolloutTarget,
    action: RolloutControlAction,
    request: PromoteRequest,
  ): Promise<RolloutControlResult> {
    const update = {
      pause: pauseRolloutUpdate,
      resume: resumeRolloutUpdate,
      abort: abortRolloutUpdate,
      promote: promoteRolloutUpdate,
    }[action];
    const { full, ...control } = request;
    const args = action === 'promote' ? { ...control, ...(full !== undefined && { full }) } : control;
    const workflowId = rolloutWorkflowId(target);
    try {
      return await this.client.workflow.getHandle(workflowId).executeUpdate(update, { args: [args] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new SentinelError('SENTINEL_ERR_CONTROL_REJECTED', err.cause?.message ?? err.message);
      if (err instanceof WorkflowNotFoundError || /already completed/i.test(String((err as Error).message))) {
        const view = await this.get(target);
        throw new SentinelError(
          'SENTINEL_ERR_CONTROL_REJECTED',
          `cannot ${action}: rollout ${idOf(target)} already ended as ${view.phase}`,
        );
      }
      throw temporalUnavailable(err);
    }
  }
}

function idOf(target: RolloutTarget): string {
  return `${target.cluster}/${target.namespace}/${target.name}`;
}
