import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { TERMINAL_PLAN_PHASES, type ActionPlan, type PlanPhase, type PlanStatus } from '../domain/plan.ts';
import { ConflictError, NotFoundError, SentinelError } from '../domain/errors.ts';
import {
  abortPlanUpdate,
  pausePlanUpdate,
  planStatusQuery,
  planWorkflowId,
  PLAN_TASK_QUEUE,
  resumePlanUpdate,
  type ControlRequest,
  type ControlResult,
} from '../domain/plan-messages.ts';
import { SearchAttributes } from '../domain/search-attributes.ts';
import type { Database } from '../store/database.ts';
import { contentDigest } from '../store/digest.ts';
import { getPlan, listPlans, type PlanRow } from '../store/plans.ts';
import type { ClusterRegistry } from '../k8s/index.ts';
import { assertKnownClusters } from './known-clusters.ts';
import { LIVE_STATUS_TIMEOUT_MS, temporalUnavailable, withTimeout } from './temporal-calls.ts';

/** A plan as the API shows it. */
export interface PlanView {
  planId: string;
  workflowId: string;
  plan: ActionPlan | null;
  status: PlanStatus | null;
  phase: string;
}

/** Result of a submission: `created` is false when the same plan was already submitted. */
export interface SubmitResult {
  created: boolean;
  view: PlanView;
}

/** What the HTTP API does with plans, over Temporal and the store. */
export class PlanService {
  /**
   * @param clusters the clusters plans may target; a plan naming another is refused with a
   * 400. Without it, targets are not checked.
   */
  constructor(
    private readonly client: Client,
    private readonly db: Database,
    private readonly clusters?: ClusterRegistry,
  ) {}

  /**
   * Starts `plan/<id>` once. A resubmission with identical content returns the existing plan;
   * different content under the same id is a 409, so a retried request never starts a
   * second workflow and never silently changes what runs. A new plan whose target cluster
   * is not configured is refused (400) before anything starts.
   */
  async submit(plan: ActionPlan): Promise<SubmitResult> {
    const digest = contentDigest(plan);
    const workflowId = planWorkflowId(plan.id);
    const existing = await getPlan(this.db, plan.id);
    if (existing) {
      if (existing.digest !== digest) throw this.idConflict(plan.id);
      return { created: false, view: this.rowView(existing) };
    }
    assertKnownClusters(
      this.clusters,
      plan.steps.map((s, i) => ({ path: `steps.${i}.target.cluster`, cluster: s.target.cluster })),
      'invalid ActionPlan',
    );
    const targets = plan.steps.map((s) => s.target);
    let created = true;
    try {
      await this.client.workflow.start('actionPlanWorkflow', {
        taskQueue: PLAN_TASK_QUEUE,
        workflowId,
        args: [plan],
        // A second start of the same id, running or finished, is refused by the server.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        memo: { digest },
        typedSearchAttributes: [
          { key: SearchAttributes.kind, value: 'plan' },
          { key: SearchAttributes.phase, value: 'Pending' },
          { key: SearchAttributes.cluster, value: targets[0]!.cluster },
          { key: SearchAttributes.namespace, value: targets[0]!.namespace },
          { key: SearchAttributes.workload, value: targets[0]!.name },
          { key: SearchAttributes.verb, value: [...new Set(plan.steps.map((s) => s.verb))] },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw temporalUnavailable(err);
      created = false;
      await this.assertSameContent(workflowId, digest, plan.id);
    }
    if (!created) return { created, view: await this.get(plan.id) };
    return { created, view: { planId: plan.id, workflowId, plan, status: null, phase: 'Pending' } };
  }

  /**
   * A finished plan comes from its row. A running one is asked for its live status (the
   * `status` query), because the row only changes at phase boundaries; if no worker answers
   * within {@link LIVE_STATUS_TIMEOUT_MS} (none runs, or the workflow task is busy) the row
   * is shown instead. A plan with no row yet (or one the database refused) is read from the
   * Temporal server alone: its result once it ended, else its `SentinelPhase`. A read never
   * waits on the workflow.
   */
  async get(planId: string): Promise<PlanView> {
    const row = await getPlan(this.db, planId);
    if (row?.status && TERMINAL_PLAN_PHASES.has(row.phase as PlanPhase)) return this.rowView(row);
    const workflowId = planWorkflowId(planId);
    try {
      const status = await withTimeout(
        this.client.workflow.getHandle(workflowId).query(planStatusQuery),
        LIVE_STATUS_TIMEOUT_MS,
      );
      return {
        planId,
        workflowId,
        plan: (row?.plan as ActionPlan | undefined) ?? null,
        status,
        phase: status.phase,
      };
    } catch (err) {
      if (row) return this.rowView(row);
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`plan ${planId}`);
      return this.executionView(planId, workflowId);
    }
  }

  /** A plan as the Temporal server records it, without a worker: see {@link get}. */
  private async executionView(planId: string, workflowId: string): Promise<PlanView> {
    const handle = this.client.workflow.getHandle(workflowId);
    try {
      const description = await withTimeout(handle.describe(), LIVE_STATUS_TIMEOUT_MS);
      if (description.status.name === 'COMPLETED') {
        const status = (await withTimeout(handle.result(), LIVE_STATUS_TIMEOUT_MS)) as PlanStatus;
        return { planId, workflowId, plan: null, status, phase: status.phase };
      }
      const phase =
        description.status.name === 'RUNNING'
          ? (description.typedSearchAttributes.get(SearchAttributes.phase) ?? 'Pending')
          : 'Failed';
      return { planId, workflowId, plan: null, status: null, phase };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`plan ${planId}`);
      throw temporalUnavailable(err);
    }
  }

  async list(options: { phase?: string; limit?: number }): Promise<PlanView[]> {
    return (await listPlans(this.db, options)).map((row) => this.rowView(row));
  }

  async control(
    planId: string,
    action: 'pause' | 'resume' | 'abort',
    request: ControlRequest,
  ): Promise<ControlResult> {
    const update = { pause: pausePlanUpdate, resume: resumePlanUpdate, abort: abortPlanUpdate }[action];
    try {
      return await this.client.workflow
        .getHandle(planWorkflowId(planId))
        .executeUpdate(update, { args: [request] });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        // A finished workflow no longer takes updates; the server reports it as not found.
        // A plan the database refused has no row; the server still knows how it ended.
        const row = await getPlan(this.db, planId);
        const phase = row?.phase ?? (await this.executionView(planId, planWorkflowId(planId))).phase;
        throw new SentinelError(
          'SENTINEL_ERR_CONTROL_REJECTED',
          `cannot ${action}: plan ${planId} already ended as ${phase}`,
        );
      }
      if (err instanceof WorkflowUpdateFailedError) {
        throw new SentinelError('SENTINEL_ERR_CONTROL_REJECTED', err.cause?.message ?? err.message);
      }
      // An update sent to a closed workflow fails with NOT_FOUND-style errors from the server.
      if (/workflow execution already completed/i.test(String((err as Error).message))) {
        throw new SentinelError('SENTINEL_ERR_CONTROL_REJECTED', `plan ${planId} has already finished`);
      }
      throw temporalUnavailable(err);
    }
  }

  private rowView(row: PlanRow): PlanView {
    return {
      planId: row.id,
      workflowId: row.workflowId,
      plan: row.plan as ActionPlan,
      status: (row.status as PlanStatus | null) ?? null,
      phase: row.phase,
    };
  }

  private async assertSameContent(workflowId: string, digest: string, planId: string): Promise<void> {
    const description = await this.client.workflow.getHandle(workflowId).describe();
    if (description.memo?.digest !== undefined && description.memo.digest !== digest)
      throw this.idConflict(planId);
  }

  private idConflict(planId: string): ConflictError {
    return new ConflictError(
      `plan ${planId} was already submitted with different content; use a new plan id`,
      {
        planId,
      },
    );
  }
}
