import { z } from 'zod';
import {
  AnalysisDurationSchema,
  AnalysisInputError,
  AnalysisTemplateSchema,
  effectiveCount,
  JudgeDirection,
  JudgeVerdict,
  MeasurementSchema,
  resolveAnalysisTemplate,
  type AnalysisTemplate,
  type Metric,
} from '../analysis/index.ts';
import { parseDuration } from '../policy/duration.ts';
import { ContainerResourcesSchema } from './plan.ts';
import { dnsLabel, envVarName, envVarValue, labelKey, labelValue, text } from './strings.ts';

/**
 * Progressive delivery: the rollout spec (what an operator writes, in YAML or JSON) and the
 * live status a rollout workflow reports. Pure: the API, the CLI, the workflows and the
 * activities all use it. See docs/rollouts.md.
 */

/** Deployment names leave room for the `-canary` / `-green` suffix of the second Deployment. */
const deploymentName = dnsLabel.max(56);

/** The kinds of rollout, also the `SentinelKind` search attribute's values for rollouts. */
export const RolloutKind = { canary: 'canary', blueGreen: 'bluegreen' } as const;
export type RolloutKind = (typeof RolloutKind)[keyof typeof RolloutKind];

/** The Deployment a rollout ships a new pod template to. */
export const RolloutTargetSchema = z.strictObject({
  cluster: dnsLabel,
  namespace: dnsLabel,
  name: deploymentName,
});
export type RolloutTarget = z.infer<typeof RolloutTargetSchema>;

/** `cluster/namespace/name`: a rollout's id, and what `sentinel rollout get` takes. */
export function rolloutId(target: RolloutTarget): string {
  return `${target.cluster}/${target.namespace}/${target.name}`;
}

/** `cluster/namespace/Deployment/name`, the key the workload lock and the audit use. */
export function rolloutWorkloadKey(target: RolloutTarget): string {
  return `${target.cluster}/${target.namespace}/Deployment/${target.name}`;
}

/** The second Deployment a rollout runs beside the stable one. */
export const RolloutRole = { canary: 'canary', green: 'green' } as const;
export type RolloutRole = (typeof RolloutRole)[keyof typeof RolloutRole];

/** Pod label that tells a rollout's canary or green pods from the stable ones. */
export const ROLLOUT_ROLE_LABEL = 'sentinel.dev/rollout-role';

/** `<name>-canary` / `<name>-green`. */
export function secondDeploymentName(target: RolloutTarget, role: RolloutRole): string {
  return `${target.name}-${role}`;
}

/** What changes in one container; fields left out keep the stable's values. */
export const ContainerChangeSchema = z
  .strictObject({
    name: dnsLabel,
    image: text({ min: 1, max: 1024 }).optional(),
    env: z.record(envVarName, envVarValue).optional(),
    resources: ContainerResourcesSchema.optional(),
  })
  .refine((c) => c.image !== undefined || c.env !== undefined || c.resources !== undefined, {
    message: 'a container change needs at least one of image, env or resources',
  });
export type ContainerChange = z.infer<typeof ContainerChangeSchema>;

/**
 * The new pod template, as a change to the stable Deployment's template: per container
 * (matched by name) image, env and resources, and pod labels and annotations to add.
 */
export const PodTemplateChangeSchema = z
  .strictObject({
    containers: z.array(ContainerChangeSchema).max(20).default([]),
    labels: z.record(labelKey, labelValue).optional(),
    annotations: z.record(labelKey, text({ max: 65_536 })).optional(),
  })
  .refine((t) => t.containers.length > 0 || t.labels !== undefined || t.annotations !== undefined, {
    message: 'the template must change at least one container, label or annotation',
  })
  .refine((t) => new Set(t.containers.map((c) => c.name)).size === t.containers.length, {
    message: 'each container may be named once',
  })
  .refine((t) => !Object.keys(t.labels ?? {}).includes(ROLLOUT_ROLE_LABEL), {
    message: `label ${ROLLOUT_ROLE_LABEL} is reserved for Sentinel`,
  });
export type PodTemplateChange = z.infer<typeof PodTemplateChangeSchema>;

/** A name/value argument handed to the analysis templates of a step. */
export const AnalysisArgValueSchema = z.strictObject({
  name: text({ min: 1, max: 253 }),
  value: text({ max: 4000 }),
});

/**
 * The Mann-Whitney judge: samples of one query per version over a time range (e.g. median
 * latency every 5 s over the last minute), compared with a one-sided U test. `pass` →
 * successful, `fail` → failed, `marginal` → inconclusive (a human decides).
 */
export const JudgeSchema = z.strictObject({
  name: z
    .string()
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase name of a-z, 0-9 and "-"'),
  /** PromQL whose values over the range are the canary's sample. */
  canaryQuery: text({ min: 1, max: 10_000 }),
  /** PromQL whose values over the range are the stable's sample. */
  stableQuery: text({ min: 1, max: 10_000 }),
  /** How far back to collect samples. @default '1m' */
  range: AnalysisDurationSchema.default('1m'),
  /** Spacing of the samples; use at least the queries' rate window. @default '5s' */
  step: AnalysisDurationSchema.default('5s'),
  /** Wait before collecting, so the canary has served for `range`. @default none */
  initialDelay: AnalysisDurationSchema.optional(),
  /** @default 0.95 */
  confidence: z.number().min(0.5).lt(1).default(0.95),
  /** @default 0.1 */
  tolerance: z.number().min(0).default(0.1),
  /** @default 'lower-is-better' */
  direction: z
    .enum([JudgeDirection.lowerIsBetter, JudgeDirection.higherIsBetter])
    .default(JudgeDirection.lowerIsBetter),
});
export type Judge = z.infer<typeof JudgeSchema>;

const analysisRefShape = {
  templates: z
    .array(z.strictObject({ templateName: text({ min: 1, max: 253 }) }))
    .max(20)
    .default([]),
  args: z.array(AnalysisArgValueSchema).max(100).default([]),
  judges: z.array(JudgeSchema).max(10).default([]),
};
const needsTemplateOrJudge = {
  message: 'an analysis needs at least one template or judge',
};

/** An analysis a rollout runs: templates (by name, from `analysisTemplates`) with arguments, and judges. */
export const AnalysisRefSchema = z
  .strictObject(analysisRefShape)
  .refine((a) => a.templates.length > 0 || a.judges.length > 0, needsTemplateOrJudge);
export type AnalysisRef = z.infer<typeof AnalysisRefSchema>;

/** A canary's background analysis: runs from step `startingStep` until the rollout ends. */
export const BackgroundAnalysisSchema = z
  .strictObject({ ...analysisRefShape, startingStep: z.int().min(0).default(0) })
  .refine((a) => a.templates.length > 0 || a.judges.length > 0, needsTemplateOrJudge);
export type BackgroundAnalysis = z.infer<typeof BackgroundAnalysisSchema>;

/** One canary step: move traffic, wait, or judge. */
export const CanaryStepSchema = z.union([
  z.strictObject({ setWeight: z.int().min(0).max(100) }),
  z.strictObject({
    /** `{}` waits until an operator promotes; `{ duration: 10m }` waits that long (or until promoted). */
    pause: z.strictObject({ duration: AnalysisDurationSchema.optional() }),
  }),
  z.strictObject({ analysis: AnalysisRefSchema }),
]);
export type CanaryStep = z.infer<typeof CanaryStepSchema>;

/** How traffic reaches the canary. Only the replica ratio is built in (see activities/traffic-router.ts). */
export const TrafficRouterKind = { replicaRatio: 'replicaRatio' } as const;
export type TrafficRouterKind = (typeof TrafficRouterKind)[keyof typeof TrafficRouterKind];

export const CanaryStrategySchema = z.strictObject({
  steps: z.array(CanaryStepSchema).min(1).max(100),
  /** An analysis that runs in the background from step `startingStep` until the rollout ends. */
  analysis: BackgroundAnalysisSchema.optional(),
  /** Scale the stable down as the canary grows, so the total stays `replicas`. @default false */
  dynamicStableScale: z.boolean().default(false),
  /** @default 'replicaRatio' */
  trafficRouter: z.enum([TrafficRouterKind.replicaRatio]).default(TrafficRouterKind.replicaRatio),
});
export type CanaryStrategy = z.infer<typeof CanaryStrategySchema>;

export const BlueGreenStrategySchema = z.strictObject({
  /** The Service that carries production traffic; its selector is switched from blue to green. */
  activeService: dnsLabel,
  /** A Service pointed at green before the switch, for smoke tests. */
  previewService: dnsLabel.optional(),
  prePromotionAnalysis: AnalysisRefSchema.optional(),
  postPromotionAnalysis: AnalysisRefSchema.optional(),
  /** With `false`, the rollout waits for `promote` before switching traffic. @default true */
  autoPromotionEnabled: z.boolean().default(true),
  /** How long blue keeps running after the switch, for a quick switch back. @default 30 */
  scaleDownDelaySeconds: z
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(30),
});
export type BlueGreenStrategy = z.infer<typeof BlueGreenStrategySchema>;

/**
 * `canary:` or `blueGreen:`, exactly one. Parsed as one object (so a mistake inside either is
 * reported at its own path) and typed as the union of the two.
 */
export const RolloutStrategySchema = z
  .strictObject({ canary: CanaryStrategySchema.optional(), blueGreen: BlueGreenStrategySchema.optional() })
  .refine((s) => (s.canary === undefined) !== (s.blueGreen === undefined), {
    message: 'needs exactly one of canary or blueGreen',
    // Aborting: otherwise zod still runs the spec's cross-field refinement, on a strategy
    // that is neither (issue 14 item 17: a 500 instead of a 400).
    abort: true,
  })
  .transform((s): { canary: CanaryStrategy } | { blueGreen: BlueGreenStrategy } =>
    s.canary ? { canary: s.canary } : { blueGreen: s.blueGreen! },
  );

/** Argument names a rollout fills in itself when a template declares them and the step does not. */
export const BUILT_IN_ANALYSIS_ARGS = ['cluster', 'namespace', 'workload'] as const;

/**
 * A rollout as submitted: which Deployment, its new pod template, the strategy, and the
 * analysis templates the strategy's analyses refer to by name.
 */
export const RolloutSpecSchema = z
  .strictObject({
    target: RolloutTargetSchema,
    template: PodTemplateChangeSchema,
    /** Total replicas (stable + canary, or each of blue and green); the stable's current count when absent. */
    replicas: z.int().min(1).max(10_000).optional(),
    strategy: RolloutStrategySchema,
    analysisTemplates: z.array(AnalysisTemplateSchema).max(50).default([]),
    /** How long new pods may take to become Ready before the rollout rolls back. @default 600 */
    progressDeadlineSeconds: z
      .int()
      .min(1)
      .max(24 * 3600)
      .default(600),
    /** How often to look again while waiting for GPU capacity. @default '10s' */
    capacityCheckInterval: AnalysisDurationSchema.default('10s'),
    /** Lock priority against plans on the same workload. @default 100 */
    priority: z.int().min(0).max(1000).default(100),
    requestedBy: text({ min: 1, max: 200 }),
    reason: text({ min: 1, max: 2000 }),
  })
  .superRefine((spec, ctx) => {
    // Templates are referred to by name: a second template of one name would silently replace
    // the first.
    const firstIndex = new Map<string, number>();
    spec.analysisTemplates.forEach((t, i) => {
      const first = firstIndex.get(t.name);
      if (first === undefined) firstIndex.set(t.name, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: ['analysisTemplates', i, 'name'],
          message: `duplicates analysisTemplates[${first}].name "${t.name}": template names must be unique`,
        });
    });
    const templates = new Map(spec.analysisTemplates.map((t) => [t.name, t]));
    // `awaited`: the rollout waits for the analysis to end (a step, pre- or post-promotion),
    // so each of its metrics must end by itself; only a background analysis is ended by
    // the rollout.
    const check = (ref: AnalysisRef | undefined, path: (string | number)[], awaited: boolean) => {
      if (!ref) return;
      // Measurements of one analysis are kept by metric name: two metrics of one name
      // (from two templates, or one template listed twice) would land in one list.
      const definedBy = new Map<string, { templateName: string; index: number }>();
      ref.templates.forEach(({ templateName }, i) => {
        const at = [...path, 'templates', i, 'templateName'];
        const template = templates.get(templateName);
        if (!template) {
          ctx.addIssue({
            code: 'custom',
            path: at,
            message: `no analysis template named "${templateName}" in analysisTemplates`,
          });
          return;
        }
        for (const metric of template.metrics) {
          const first = definedBy.get(metric.name);
          if (first === undefined) {
            definedBy.set(metric.name, { templateName, index: i });
            if (awaited && effectiveCount(metric) === undefined)
              ctx.addIssue({
                code: 'custom',
                path: at,
                message: `metric "${metric.name}" of template "${templateName}" has interval ${metric.interval} but no count: this analysis is waited for, so it would measure forever; set count (only a background analysis may measure until the rollout ends)`,
              });
          } else
            ctx.addIssue({
              code: 'custom',
              path: at,
              message:
                first.templateName === templateName
                  ? `template "${templateName}" is listed twice (templates[${first.index}] and templates[${i}]): its metric "${metric.name}" would be measured twice into one list`
                  : `templates "${first.templateName}" (templates[${first.index}]) and "${templateName}" (templates[${i}]) both define metric "${metric.name}": an analysis keeps measurements by metric name, so metric names must be unique across its templates`,
            });
        }
        try {
          resolveAnalysis(template, ref, spec.target);
        } catch (err) {
          if (!(err instanceof AnalysisInputError)) throw err;
          ctx.addIssue({ code: 'custom', path: [...path, 'args'], message: err.message });
        }
      });
      const judges = new Map<string, number>();
      ref.judges.forEach((judge, i) => {
        const first = judges.get(judge.name);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'judges', i, 'name'],
            message: `duplicates judges[${first}].name "${judge.name}"`,
          });
        else judges.set(judge.name, i);
      });
    };
    if ('canary' in spec.strategy) {
      const { steps, analysis } = spec.strategy.canary;
      steps.forEach((step, i) => {
        if ('analysis' in step) check(step.analysis, ['strategy', 'canary', 'steps', i, 'analysis'], true);
      });
      check(analysis, ['strategy', 'canary', 'analysis'], false);
      if (analysis && analysis.startingStep >= steps.length)
        ctx.addIssue({
          code: 'custom',
          path: ['strategy', 'canary', 'analysis', 'startingStep'],
          message: `must name a step (0-${steps.length - 1})`,
        });
    } else {
      const bg = spec.strategy.blueGreen;
      check(bg.prePromotionAnalysis, ['strategy', 'blueGreen', 'prePromotionAnalysis'], true);
      check(bg.postPromotionAnalysis, ['strategy', 'blueGreen', 'postPromotionAnalysis'], true);
      if (bg.previewService === bg.activeService)
        ctx.addIssue({
          code: 'custom',
          path: ['strategy', 'blueGreen', 'previewService'],
          message: 'must differ from activeService',
        });
    }
  });
export type RolloutSpec = z.infer<typeof RolloutSpecSchema>;
export type RolloutSpecInput = z.input<typeof RolloutSpecSchema>;

/** The kind of a spec's strategy. */
export function rolloutKindOf(spec: RolloutSpec): RolloutKind {
  return 'canary' in spec.strategy ? RolloutKind.canary : RolloutKind.blueGreen;
}

/**
 * A template's metrics with its arguments filled from the analysis' `args`, then from the
 * built-ins (`cluster`, `namespace`, `workload`) where the template declares them. Throws
 * `AnalysisInputError` for a missing or undeclared argument.
 */
export function resolveAnalysis(
  template: AnalysisTemplate,
  ref: AnalysisRef,
  target: RolloutTarget,
): Metric[] {
  const declared = new Set(template.args.map((a) => a.name));
  const args: Record<string, string> = {};
  const builtIns: Record<(typeof BUILT_IN_ANALYSIS_ARGS)[number], string> = {
    cluster: target.cluster,
    namespace: target.namespace,
    workload: target.name,
  };
  for (const [name, value] of Object.entries(builtIns)) if (declared.has(name)) args[name] = value;
  // A step's args go to every template of the step; each template takes the ones it declares.
  for (const { name, value } of ref.args) if (declared.has(name)) args[name] = value;
  return resolveAnalysisTemplate(template, args);
}

/**
 * `ceil(total × weight / 100)` canary replicas; the stable keeps `total`, or the rest with dynamic stable scale.
 * @deprecated Only for canaries whose histories predate `canary-capacity-follows-ready`; new
 * runs split with `canaryReplicaSplit` (domain/canary-replicas.ts), which keeps a stable pod.
 */
export function replicaSplit(
  total: number,
  weight: number,
  dynamicStableScale: boolean,
): { canary: number; stable: number } {
  const canary = Math.min(total, Math.ceil((total * weight) / 100));
  return { canary, stable: dynamicStableScale ? total - canary : total };
}

/** Milliseconds of a spec duration (validated by the schema, so never undefined there). */
export function durationMs(text: string): number {
  return parseDuration(text) ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Status

export const RolloutPhase = {
  /** Started; nothing done yet. */
  Pending: 'Pending',
  /** Waiting for its turn on the workload (a plan or another change holds its lock). */
  Waiting: 'Waiting',
  Progressing: 'Progressing',
  /** Held by an operator, a pause step, an inconclusive analysis or a manual promotion gate. */
  Paused: 'Paused',
  /** The next step needs more `nvidia.com/gpu` than the cluster has free; it looks again on a timer. */
  WaitingForCapacity: 'WaitingForCapacity',
  /** Every step passed: making the new template the stable one. */
  Promoting: 'Promoting',
  /** Undoing what the rollout changed, newest first. */
  RollingBack: 'RollingBack',
  Promoted: 'Promoted',
  /** An analysis failed or pods missed their readiness deadline; everything was undone. */
  RolledBack: 'RolledBack',
  /** An operator aborted; everything was undone. */
  Aborted: 'Aborted',
  /** Undoing failed part way; the message says what is left. */
  RollbackFailed: 'RollbackFailed',
  /** Could not start (e.g. the Deployment or the Service does not exist); nothing was changed. */
  Failed: 'Failed',
} as const;
export type RolloutPhase = (typeof RolloutPhase)[keyof typeof RolloutPhase];
export const TERMINAL_ROLLOUT_PHASES: ReadonlySet<RolloutPhase> = new Set([
  RolloutPhase.Promoted,
  RolloutPhase.RolledBack,
  RolloutPhase.Aborted,
  RolloutPhase.RollbackFailed,
  RolloutPhase.Failed,
]);

export const RolloutStepPhase = {
  Pending: 'Pending',
  Running: 'Running',
  Completed: 'Completed',
  Skipped: 'Skipped',
  Failed: 'Failed',
} as const;
export type RolloutStepPhase = (typeof RolloutStepPhase)[keyof typeof RolloutStepPhase];

const enumOf = <T extends Record<string, string>>(values: T) =>
  z.enum(Object.values(values) as [T[keyof T], ...T[keyof T][]]);

export const RolloutStepStatusSchema = z.object({
  index: z.number().int(),
  /** `setWeight`, `pause`, `analysis`, `promote` (canary); `deployGreen`, `switchTraffic`, … (blue/green). */
  name: z.string(),
  /** e.g. `setWeight 20`, `pause 30s`, `analysis error-rate`. */
  description: z.string(),
  phase: enumOf(RolloutStepPhase),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  message: z.string().optional(),
});
export type RolloutStepStatus = z.infer<typeof RolloutStepStatusSchema>;

export const AnalysisRunPhase = {
  Running: 'Running',
  Successful: 'Successful',
  Failed: 'Failed',
  Inconclusive: 'Inconclusive',
  /**
   * Ended by an operator before it decided (`promote --full`): neither passed nor failed,
   * and no later measurement counts. `skipped` says who and why.
   */
  Skipped: 'Skipped',
} as const;
export type AnalysisRunPhase = (typeof AnalysisRunPhase)[keyof typeof AnalysisRunPhase];

export const AnalysisRunKind = {
  inline: 'inline',
  background: 'background',
  prePromotion: 'prePromotion',
  postPromotion: 'postPromotion',
} as const;
export type AnalysisRunKind = (typeof AnalysisRunKind)[keyof typeof AnalysisRunKind];

/** One metric of an analysis run: its decision so far and its latest measurements. */
export const MetricStatusSchema = z.object({
  name: z.string(),
  template: z.string(),
  query: z.string(),
  /** `continue` while measuring, then `successful`, `failed` or `inconclusive`. */
  decision: z.enum(['continue', 'successful', 'failed', 'inconclusive']),
  message: z.string(),
  counts: z.object({
    measured: z.number(),
    successful: z.number(),
    failed: z.number(),
    inconclusive: z.number(),
    error: z.number(),
    consecutiveErrors: z.number(),
  }),
  /** The most recent measurements (at most {@link MEASUREMENTS_IN_STATUS}); the audit has all. */
  measurements: z.array(MeasurementSchema),
});
export type MetricStatus = z.infer<typeof MetricStatusSchema>;

/** How many of a metric's latest measurements the status carries. */
export const MEASUREMENTS_IN_STATUS = 10;

export const JudgeStatusSchema = z.object({
  name: z.string(),
  verdict: z.enum([JudgeVerdict.pass, JudgeVerdict.marginal, JudgeVerdict.fail]).nullable(),
  message: z.string(),
  /** The judge's statistics (`u`, `z`, `pValue`, `effect`, medians, sizes) once it has run. */
  result: z.record(z.string(), z.unknown()).nullable(),
});
export type JudgeStatus = z.infer<typeof JudgeStatusSchema>;

export const AnalysisRunStatusSchema = z.object({
  /** `step-3`, `background`, `pre-promotion`, `post-promotion`. */
  id: z.string(),
  kind: enumOf(AnalysisRunKind),
  stepIndex: z.number().int().nullable(),
  phase: enumOf(AnalysisRunPhase),
  message: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  metrics: z.array(MetricStatusSchema),
  judges: z.array(JudgeStatusSchema),
  /** Set when an operator ended the analysis before it decided (phase `Skipped`). */
  skipped: z.object({ actor: z.string(), reason: z.string(), at: z.string() }).nullable().optional(),
});
export type AnalysisRunStatus = z.infer<typeof AnalysisRunStatusSchema>;

export const PauseReason = {
  /** A `pause` step. */
  step: 'step',
  /** An operator's `pause`. */
  operator: 'operator',
  /** An analysis came out inconclusive: promote to go on, abort to roll back. */
  inconclusive: 'inconclusive',
  /** Blue/green with `autoPromotionEnabled: false`: promote to switch traffic. */
  promotion: 'promotion',
} as const;
export type PauseReason = (typeof PauseReason)[keyof typeof PauseReason];

/** Live state of a rollout, as the workflow's `status` query and `GET /v1/rollouts/:id` report it. */
export const RolloutStatusSchema = z.object({
  rolloutId: z.string(),
  workflowId: z.string(),
  kind: enumOf(RolloutKind),
  target: RolloutTargetSchema,
  phase: enumOf(RolloutPhase),
  message: z.string().nullable(),
  /** Index into `steps` of the step in progress; null before the first and after the last. */
  currentStep: z.number().int().nullable(),
  steps: z.array(RolloutStepStatusSchema),
  /** Share of the pods (so of the traffic) on the new template, 0-100. */
  weight: z.number(),
  /** Replicas the rollout asked for: stable/canary, or blue/green. */
  replicas: z.object({
    total: z.number().int(),
    stable: z.number().int(),
    canary: z.number().int(),
  }),
  /** Blue/green: which side the active Service selects. */
  activeSide: z.enum(['blue', 'green']).nullable(),
  pause: z
    .object({
      reason: enumOf(PauseReason),
      since: z.string(),
      /** When a timed pause step ends (workflow time); null for an indefinite pause. */
      until: z.string().nullable(),
      message: z.string(),
    })
    .nullable(),
  /** What the rollout waits for right now, in words (its lock, GPU capacity, Ready pods). */
  waitingFor: z.string().nullable(),
  analyses: z.array(AnalysisRunStatusSchema),
  abort: z.object({ actor: z.string(), reason: z.string(), at: z.string() }).nullable(),
  startedAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type RolloutStatus = z.infer<typeof RolloutStatusSchema>;
