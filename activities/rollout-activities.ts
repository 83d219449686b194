import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  rolloutWorkloadKey,
  secondDeploymentName,
  TERMINAL_ROLLOUT_PHASES,
  type RolloutKind,
  type RolloutRole,
  type RolloutSpec,
  type RolloutStatus,
  type RolloutTarget,
  type TrafficRouterKind,
} from '../domain/rollout.ts';
import { templateStateOf, type TemplateState } from '../domain/rollout-template.ts';
import { rolloutAuditEvent, rolloutPhaseEvent } from '../events/rollout-events.ts';
import {
  isRetryableKubeError,
  KubeError,
  KubeNotFoundError,
  KubeRolloutFailedError,
  KubeTimeoutError,
  scaleWorkload,
  waitForRollout,
  type ClusterRegistry,
} from '../k8s/index.ts';
import type { RolloutMetrics } from '../metrics/rollout-metrics.ts';
import { appendAudit } from '../store/audit.ts';
import type { Database } from '../store/database.ts';
import { enqueueEvent } from '../store/outbox.ts';
import { createAnalysisActivities, type AnalysisActivities } from './analysis-activities.ts';
import {
  applySecondDeployment,
  applyTemplateState,
  currentPodTemplateHash,
  deleteDeployment,
  deploymentExists,
  deploymentTarget,
  gpuFit,
  gpusPerPod,
  patchDeploymentTemplate,
  POD_TEMPLATE_HASH_LABEL,
  readDeployment,
  readServiceEndpoints,
  readServiceSelector,
  secondDeploymentManifest,
  setServiceSelector,
  type GpuFit,
  type ServiceEndpoints,
} from './rollout-kubernetes.ts';
import { trafficRouterFor } from './traffic-router.ts';

/** What the rollout activities need from the process that hosts them. */
export interface RolloutActivityDeps {
  db: Database;
  clusters: ClusterRegistry;
  metrics?: RolloutMetrics;
  /** Base URL of Prometheus (`PROMETHEUS_URL`); analysis steps fail clearly without it. */
  prometheusUrl?: string;
}

/** Failure `type`s the rollout activities raise; all non-retryable. */
export const RolloutFailureType = {
  /** The spec does not fit the cluster (no such Deployment, container or Service). */
  invalid: 'RolloutInvalid',
  /** A non-retryable Kubernetes error (SENTINEL_ERR_K8S_*). */
  kube: 'KubeNonRetryable',
  /** New pods did not become Ready within `progressDeadlineSeconds`. */
  readinessDeadline: 'ReadinessDeadlineExceeded',
  /** An analysis step without `PROMETHEUS_URL` configured. */
  analysisNotConfigured: 'AnalysisNotConfigured',
  /** The active Service did not reach Ready endpoints by its deadline: the rollout may not end Promoted. */
  serviceWithoutEndpoints: 'ServiceWithoutEndpoints',
} as const;

/** Which rollout a change belongs to, for provenance and the audit. */
export interface RolloutRef {
  workflowId: string;
  runId: string;
  rolloutId: string;
  kind: RolloutKind;
  target: RolloutTarget;
  requestedBy: string;
  reason: string;
}

/** A change a rollout makes to its cluster. Each is idempotent and has an inverse of the same shape. */
export type RolloutChange =
  | { op: 'createDeployment'; role: RolloutRole; replicas: number; state: TemplateState }
  | { op: 'deleteDeployment'; name: string }
  | { op: 'scale'; name: string; replicas: number }
  | {
      op: 'setWeight';
      router: TrafficRouterKind;
      weight: number;
      canary: { name: string; replicas: number };
      /** Null: the stable is left as it is (no dynamic stable scale: only promotion writes it). */
      stable: { name: string; replicas: number } | null;
      stableFirst: boolean;
      /** Which scale of a staged weight change (`grow`, then `shrink`); part of its operation id. */
      stage?: 'grow' | 'shrink';
    }
  | { op: 'patchTemplate'; name: string; state: TemplateState }
  | { op: 'setSelector'; service: string; selector: Record<string, string> };

/** The audit record a change writes: its kind (`rollout.<step>`) and place in the rollout. */
export interface ChangeAudit {
  /** Position in the rollout's audit trail; with the run id, the record's idempotency key. */
  seq: number;
  kind: string;
  stepIndex: number;
  /** Extra fields for the record (e.g. the step, the reason of a rollback). */
  body?: Record<string, unknown>;
}

/** What a change did (or, dry run, would do), and what undoes it. */
export interface ChangeOutcome {
  changed: boolean;
  dryRun: boolean;
  /** `{ field: { from, to } }`. */
  change: Record<string, { from: unknown; to: unknown }>;
  /** The change that restores what was there; null where there is nothing to restore. */
  inverse: RolloutChange | null;
  /**
   * Deployments whose replicas the change raised: their new pods must be Ready before the
   * other side gives up capacity (a rollback waits for them before its next undo).
   */
  grown?: string[];
}

/** What a rollout reads before it changes anything. */
export interface RolloutBaseline {
  /** The stable's current `spec.replicas`. */
  stableReplicas: number;
  /** Total replicas the rollout works with (`spec.replicas`, else the stable's). */
  replicas: number;
  /** GPUs one pod of the new template asks for. */
  gpusPerPod: number;
  /** True when a new pod and a stable pod ask for the same GPUs on the same nodes. */
  sameShape: boolean;
  nodeSelector: Record<string, string>;
  /** Extra pods the stable's rolling update may create (its maxSurge). */
  surgePods: number;
  /** The second Deployment already exists (left by an earlier rollout); it is taken over. */
  leftover: boolean;
  /** Blue/green: selectors of the active (and preview) Service, and blue's pod-template-hash. */
  activeSelector?: Record<string, string>;
  previewSelector?: Record<string, string>;
  blueHash?: string;
}

function toFailure(err: unknown): unknown {
  if (err instanceof KubeNotFoundError)
    return ApplicationFailure.create({
      type: RolloutFailureType.invalid,
      message: err.message,
      nonRetryable: true,
      details: [err.details],
    });
  if (err instanceof KubeError && !isRetryableKubeError(err))
    return ApplicationFailure.create({
      type: RolloutFailureType.kube,
      message: err.message,
      nonRetryable: true,
      details: [err.details],
    });
  return err;
}

async function kube<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw toFailure(err);
  }
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: RolloutFailureType.invalid, message, nonRetryable: true });
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * Why a Service's selector, given back at the end of a blue/green rollout, would not select
 * the new template's pods (null when it would). A `pod-template-hash` in it names one
 * ReplicaSet of one template, gone once the Deployment runs the new template; a label the new
 * template changes or removes no longer matches its pods. Either way the Service would end
 * with no endpoints.
 */
export function restoredSelectorProblem(
  service: { name: string; selector: Record<string, string> },
  newPodLabels: Record<string, string>,
): string | null {
  const pinned = service.selector[POD_TEMPLATE_HASH_LABEL];
  if (pinned !== undefined)
    return (
      `Service ${service.name} selects ${POD_TEMPLATE_HASH_LABEL}=${pinned}, one ReplicaSet of the current template: ` +
      `after the rollout no pod has that hash, so the selector given back at the end would select no pods; ` +
      `remove ${POD_TEMPLATE_HASH_LABEL} from its selector (the rollout pins and unpins it itself)`
    );
  const lost = Object.entries(service.selector).filter(([k, v]) => newPodLabels[k] !== v);
  if (lost.length > 0)
    return `Service ${service.name} selects ${lost.map(([k, v]) => `${k}=${v}`).join(', ')}, which the new template's pods do not carry: the Service would end with no endpoints`;
  return null;
}

/** Waits `ms`; inside an activity, a cancellation (an abort) ends the wait at once. */
function pause(ms: number, context: Context | undefined): Promise<void> {
  return context ? context.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
}

/** `maxSurge` of a rolling update (an int or a percentage, 25% by default) in pods. */
function surgePods(strategy: unknown, replicas: number): number {
  const rolling =
    (strategy as { type?: string; rollingUpdate?: { maxSurge?: number | string } } | undefined) ?? {};
  if (rolling.type === 'Recreate') return 0;
  const surge = rolling.rollingUpdate?.maxSurge ?? '25%';
  if (typeof surge === 'number') return surge;
  const percent = /^(\d+)%$/.exec(surge);
  return percent ? Math.ceil((replicas * Number(percent[1])) / 100) : Number(surge) || 0;
}

/**
 * The rollout workflows' side effects. Every change reads live state first and does nothing
 * when it is already in place, so a retried activity (a worker that died mid-step) never
 * writes twice; every change that lands writes its audit record under an idempotency key.
 */
export function createRolloutActivities(deps: RolloutActivityDeps) {
  const { clusters } = deps;
  const analysis: AnalysisActivities | undefined = deps.prometheusUrl
    ? createAnalysisActivities({ prometheusUrl: deps.prometheusUrl })
    : undefined;
  const notConfigured = () =>
    ApplicationFailure.create({
      type: RolloutFailureType.analysisNotConfigured,
      message:
        'this rollout has analysis steps but the worker has no Prometheus: set PROMETHEUS_URL on the worker',
      nonRetryable: true,
    });

  const audit = async (
    rollout: RolloutRef,
    entry: ChangeAudit,
    body: Record<string, unknown>,
  ): Promise<{ seq: number; hash: string }> => {
    const record = {
      recordKey: `${rollout.workflowId}/${rollout.runId}/${entry.seq}/${entry.kind}`,
      planId: rollout.workflowId,
      stepIndex: entry.stepIndex,
      kind: entry.kind,
      workload: rolloutWorkloadKey(rollout.target),
      actor: rollout.requestedBy,
      at: new Date().toISOString(),
      body: {
        rollout: { id: rollout.rolloutId, kind: rollout.kind, runId: rollout.runId, reason: rollout.reason },
        ...entry.body,
        ...body,
      },
    };
    const row = await appendAudit(deps.db, record);
    // The audit store emits plan step events only; a rollout's record gets its own event, with
    // an id derived from the record key, so a retry after a crash adds no second copy.
    await enqueueEvent(deps.db, rolloutAuditEvent({ ...row, body: record.body }));
    return { seq: row.seq, hash: row.hash };
  };

  /**
   * `resumed`: a retried attempt of a change the workflow's dry run said would change
   * something, so finding it in place means an earlier attempt made it.
   */
  const applyChange = async (
    rollout: RolloutRef,
    change: RolloutChange,
    dryRun: boolean,
    resumed = false,
  ): Promise<ChangeOutcome> => {
    const { target } = rollout;
    const where = (name: string) => ({ cluster: target.cluster, namespace: target.namespace, name });
    const provenance = { planId: rollout.workflowId, dryRun };
    switch (change.op) {
      case 'createDeployment': {
        const name = secondDeploymentName(target, change.role);
        const stable = await readDeployment(clusters, where(target.name));
        const manifest = secondDeploymentManifest(stable, {
          name,
          role: change.role,
          replicas: change.replicas,
          state: change.state,
          rolloutId: rollout.workflowId,
          cluster: target.cluster,
        });
        const result = await applySecondDeployment(clusters, target.cluster, manifest, provenance);
        return {
          changed: result.changed,
          dryRun,
          change: { deployment: { from: result.created ? null : name, to: name } },
          inverse: { op: 'deleteDeployment', name },
        };
      }
      case 'deleteDeployment': {
        const existed = await deleteDeployment(clusters, where(change.name), dryRun);
        return {
          changed: existed,
          dryRun,
          change: existed ? { deployment: { from: change.name, to: null } } : {},
          inverse: null,
        };
      }
      case 'scale': {
        const result = await scaleWorkload(
          clusters,
          deploymentTarget(target, change.name),
          { replicas: change.replicas },
          {
            dryRun,
            planId: rollout.workflowId,
            operationId: `${rollout.workflowId}/scale/${change.name}/${change.replicas}`,
            resumed,
          },
        );
        return {
          changed: result.changed,
          dryRun,
          change: result.changed
            ? { [`${change.name}.replicas`]: { from: result.previous.replicas, to: result.applied.replicas } }
            : {},
          inverse: { op: 'scale', name: change.name, replicas: result.previous.replicas },
          grown: result.applied.replicas > result.previous.replicas ? [change.name] : [],
        };
      }
      case 'setWeight': {
        const outcome = await trafficRouterFor(change.router, clusters).setWeight({
          target,
          weight: change.weight,
          canary: change.canary,
          stable: change.stable,
          stableFirst: change.stableFirst,
          dryRun,
          planId: rollout.workflowId,
          operationId: `${rollout.workflowId}/weight/${change.weight}${change.stage ? `/${change.stage}` : ''}`,
        });
        const diff: ChangeOutcome['change'] = {};
        const grown: string[] = [];
        const sides = [
          [change.canary, outcome.canary],
          [change.stable, outcome.stable],
        ] as const;
        for (const [side, moved] of sides) {
          if (!side || !moved || moved.from === moved.to) continue;
          diff[`${side.name}.replicas`] = moved;
          if (moved.to > moved.from) grown.push(side.name);
        }
        return {
          changed: outcome.changed,
          dryRun,
          change: diff,
          inverse: {
            ...change,
            canary: { ...change.canary, replicas: outcome.canary.from },
            stable: change.stable && outcome.stable && { ...change.stable, replicas: outcome.stable.from },
            // Undoing puts the stable back first: it must be there before the canary goes.
            stableFirst: true,
          },
          grown,
        };
      }
      case 'patchTemplate': {
        const result = await patchDeploymentTemplate(clusters, where(change.name), change.state, {
          dryRun,
          planId: rollout.workflowId,
          operationId: `${rollout.workflowId}/template/${change.name}`,
        });
        return {
          changed: result.changed,
          dryRun,
          change: result.changed
            ? { [`${change.name}.template`]: { from: result.previous, to: result.applied } }
            : {},
          inverse: { op: 'patchTemplate', name: change.name, state: result.previous },
        };
      }
      case 'setSelector': {
        const result = await setServiceSelector(clusters, where(change.service), change.selector, { dryRun });
        return {
          changed: result.changed,
          dryRun,
          change: result.changed
            ? { [`${change.service}.selector`]: { from: result.previous, to: change.selector } }
            : {},
          inverse: { op: 'setSelector', service: change.service, selector: result.previous },
        };
      }
    }
  };

  const activities = {
    /**
     * Reads what the rollout starts from and checks the spec against the cluster before
     * anything changes: the Deployment and every container the template names exist, and for
     * blue/green the Services exist and blue has a current ReplicaSet.
     */
    async readRolloutBaseline(input: { spec: RolloutSpec; kind: RolloutKind }): Promise<RolloutBaseline> {
      const { spec } = input;
      const { target } = spec;
      const where = { cluster: target.cluster, namespace: target.namespace, name: target.name };
      return kube(async () => {
        let stable;
        try {
          stable = await readDeployment(clusters, where);
        } catch (err) {
          if (err instanceof KubeNotFoundError)
            throw invalid(
              `Deployment ${target.namespace}/${target.name} not found in cluster ${target.cluster}`,
            );
          throw err;
        }
        const template = applyTemplateState(stable.spec.template, templateStateOf(spec.template), where);
        const gpus = gpusPerPod(template);
        const nodeSelector = template.spec.nodeSelector ?? {};
        const sameShape =
          gpus === gpusPerPod(stable.spec.template) &&
          JSON.stringify(nodeSelector) === JSON.stringify(stable.spec.template.spec.nodeSelector ?? {});
        const stableReplicas = stable.spec.replicas ?? 1;
        const replicas = spec.replicas ?? stableReplicas;
        const role = input.kind === 'canary' ? 'canary' : 'green';
        const baseline: RolloutBaseline = {
          stableReplicas,
          replicas,
          gpusPerPod: gpus,
          sameShape,
          nodeSelector,
          surgePods: surgePods(stable.spec.strategy, replicas),
          leftover: await deploymentExists(clusters, { ...where, name: secondDeploymentName(target, role) }),
        };
        if ('blueGreen' in spec.strategy) {
          const bg = spec.strategy.blueGreen;
          const serviceSelector = async (name: string) => {
            try {
              return await readServiceSelector(clusters, { ...where, name });
            } catch (err) {
              if (err instanceof KubeNotFoundError)
                throw invalid(`Service ${target.namespace}/${name} not found in cluster ${target.cluster}`);
              throw err;
            }
          };
          baseline.activeSelector = await serviceSelector(bg.activeService);
          if (bg.previewService) baseline.previewSelector = await serviceSelector(bg.previewService);
          const labels = stable.spec.template.metadata?.labels ?? {};
          const foreign = Object.entries(baseline.activeSelector).filter(
            ([k, v]) => k !== POD_TEMPLATE_HASH_LABEL && labels[k] !== v,
          );
          if (foreign.length > 0 || Object.keys(baseline.activeSelector).length === 0)
            throw invalid(
              `Service ${bg.activeService} does not select the pods of ${target.name} (selector ${JSON.stringify(baseline.activeSelector)})`,
            );
          // The rollout ends by giving each Service its selector back, so that selector must
          // select the new template's pods then.
          const services = [
            { name: bg.activeService, selector: baseline.activeSelector },
            ...(bg.previewService && baseline.previewSelector
              ? [{ name: bg.previewService, selector: baseline.previewSelector }]
              : []),
          ];
          for (const service of services) {
            const refusal = restoredSelectorProblem(service, template.metadata?.labels ?? {});
            if (refusal) throw invalid(refusal);
          }
          const hash = await currentPodTemplateHash(clusters, where);
          if (!hash)
            throw invalid(
              `Deployment ${target.name} has no current ReplicaSet yet; retry when it has rolled out`,
            );
          baseline.blueHash = hash;
        }
        return baseline;
      });
    },

    /**
     * A Deployment's live `spec.replicas`: a canary step reads the stable's before it moves
     * the weight, so a scale made meanwhile (an HPA, `kubectl scale`) is followed, not undone.
     */
    async readDeploymentReplicas(input: { target: RolloutTarget; name: string }): Promise<number> {
      const { cluster, namespace } = input.target;
      return kube(
        async () =>
          (await readDeployment(clusters, { cluster, namespace, name: input.name })).spec.replicas ?? 1,
      );
    },

    /** Whether `pods` more pods of the new template fit on the cluster's GPUs now. */
    async checkGpuCapacity(input: {
      cluster: string;
      pods: number;
      gpusPerPod: number;
      nodeSelector: Record<string, string>;
    }): Promise<GpuFit> {
      return kube(() => gpuFit(clusters, input.cluster, input));
    },

    /**
     * Makes one change (or dry-runs it) and, when it is not a dry run, appends its audit
     * record (`rollout.<step>`), which also emits its event.
     *
     * `intended` is the dry run of the same change, recorded in the workflow history before
     * this call. A worker killed between the change and its audit append leaves the change
     * made; the retried attempt then finds nothing to do, and it records (and returns) the
     * intended change rather than "nothing changed", so the record describes the change
     * however many attempts it took.
     */
    async applyRolloutChange(input: {
      rollout: RolloutRef;
      change: RolloutChange;
      audit: ChangeAudit;
      dryRun?: boolean;
      intended?: ChangeOutcome;
    }): Promise<ChangeOutcome> {
      const dryRun = input.dryRun ?? false;
      const resumed = (activityContext()?.info.attempt ?? 1) > 1 && input.intended?.changed === true;
      const applied = await kube(() => applyChange(input.rollout, input.change, dryRun, resumed));
      const outcome =
        !dryRun && !applied.changed && input.intended?.changed
          ? { ...input.intended, dryRun: false }
          : applied;
      if (!dryRun) await audit(input.rollout, input.audit, { request: input.change, outcome });
      return outcome;
    },

    /**
     * Waits until a Service has Ready endpoints for the pods its selector matches now: what a
     * blue/green rollout checks before it may call itself Promoted. Past `deadlineAt` the
     * failure is non-retryable and names the selector and what it found.
     */
    async waitServiceEndpoints(input: {
      target: RolloutTarget;
      service: string;
      deadlineAt: string;
    }): Promise<ServiceEndpoints> {
      const context = activityContext();
      const where = { cluster: input.target.cluster, namespace: input.target.namespace, name: input.service };
      const deadline = Date.parse(input.deadlineAt);
      for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 2_000)) {
        const found = await kube(() => readServiceEndpoints(clusters, where));
        context?.heartbeat(found);
        if (found.readyEndpoints > 0) return found;
        if (Date.now() >= deadline)
          throw ApplicationFailure.create({
            type: RolloutFailureType.serviceWithoutEndpoints,
            message:
              `Service ${input.service} has no Ready endpoints (selector ${JSON.stringify(found.selector)} ` +
              `matches ${found.selectedReadyPods} Ready pod(s); ${found.readyEndpoints} listed as ready endpoints by ${input.deadlineAt})`,
            nonRetryable: true,
            details: [found],
          });
        await pause(Math.min(delayMs, Math.max(0, deadline - Date.now())), context);
      }
    },

    /**
     * Waits, by watch, until a Deployment is rolled out (every replica updated, Ready and
     * available). The deadline comes from the workflow, so a retried attempt keeps it; past
     * it, the failure is non-retryable and the rollout rolls back. Returns the current
     * pod-template-hash for blue/green switches.
     */
    async waitDeploymentReady(input: {
      target: RolloutTarget;
      name: string;
      deadlineAt: string;
    }): Promise<{ message: string; readyReplicas: number; podTemplateHash: string | null }> {
      const context = activityContext();
      const heartbeat = (details?: unknown) => context?.heartbeat(details);
      const ticker = setInterval(() => heartbeat(), 2_000);
      const where = { cluster: input.target.cluster, namespace: input.target.namespace, name: input.name };
      try {
        const remaining = Date.parse(input.deadlineAt) - Date.now();
        if (remaining <= 0) throw new KubeTimeoutError('deadline passed before the wait began', where);
        const status = await waitForRollout(clusters, deploymentTarget(input.target, input.name), {
          timeoutMs: remaining,
          onProgress: (progress) => heartbeat(progress.message),
          ...(context && { signal: context.cancellationSignal }),
        });
        return {
          message: status.message,
          readyReplicas: status.readyReplicas,
          podTemplateHash: await currentPodTemplateHash(clusters, where),
        };
      } catch (err) {
        if (
          (err instanceof KubeTimeoutError && Date.now() >= Date.parse(input.deadlineAt)) ||
          err instanceof KubeRolloutFailedError
        )
          throw ApplicationFailure.create({
            type: RolloutFailureType.readinessDeadline,
            message: `${input.name} not Ready by ${input.deadlineAt} (progressDeadlineSeconds): ${err.message}`,
            nonRetryable: true,
          });
        throw toFailure(err);
      } finally {
        clearInterval(ticker);
      }
    },

    /** Appends a rollout audit record that is not a cluster change (analysis results, operator actions). */
    async appendRolloutAudit(input: {
      rollout: RolloutRef;
      audit: ChangeAudit;
      analysis?: { kind: string; phase: string };
    }): Promise<{ seq: number; hash: string }> {
      if (input.analysis) deps.metrics?.analysisRuns.inc(input.analysis);
      return audit(input.rollout, input.audit, {});
    },

    /**
     * Publishes a phase change as an event (outbox) and counts it; the transition into a
     * terminal phase also observes the rollout's duration.
     */
    async recordRolloutPhase(input: { status: RolloutStatus; from: string }): Promise<void> {
      const { status } = input;
      const terminal = TERMINAL_ROLLOUT_PHASES.has(status.phase);
      const added = await enqueueEvent(deps.db, rolloutPhaseEvent(status, input.from, terminal));
      if (!added || !deps.metrics) return;
      deps.metrics.phaseTransitions.inc({ kind: status.kind, phase: status.phase });
      if (terminal) {
        deps.metrics.finished.inc({ kind: status.kind, phase: status.phase });
        const seconds = (Date.parse(status.updatedAt) - Date.parse(status.startedAt)) / 1000;
        deps.metrics.duration.observe({ kind: status.kind, phase: status.phase }, Math.max(0, seconds));
      }
    },

    /** Fails (non-retryable) when analysis is asked for and the worker has no Prometheus. */
    async checkAnalysisConfigured(): Promise<void> {
      if (!analysis) throw notConfigured();
      return Promise.resolve();
    },

    /** One measurement of a metric (see activities/analysis-activities.ts). */
    async runMeasurement(
      input: Parameters<AnalysisActivities['runMeasurement']>[0],
    ): ReturnType<AnalysisActivities['runMeasurement']> {
      if (!analysis) throw notConfigured();
      return analysis.runMeasurement(input);
    },

    /** Samples for the Mann-Whitney judge (see activities/analysis-activities.ts). */
    async collectSamples(
      input: Parameters<AnalysisActivities['collectSamples']>[0],
    ): ReturnType<AnalysisActivities['collectSamples']> {
      if (!analysis) throw notConfigured();
      return analysis.collectSamples(input);
    },
  };
  return activities;
}

/** The rollout activities as workflows see them (types only). */
export type RolloutActivities = ReturnType<typeof createRolloutActivities>;
