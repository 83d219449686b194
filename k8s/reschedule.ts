import type { ClusterRegistry } from './clusters.ts';
import { PatchType } from './client.ts';
import { storedOutcome } from './diff.ts';
import { KubeInvalidError, KubeRolloutFailedError } from './errors.ts';
import {
  DriverVerb,
  SentinelMetadata,
  mutationOptionsWithDefaults,
  type MutationOptions,
  type RescheduleParams,
  type RescheduleResult,
  type RescheduleState,
  type WorkloadObject,
  type WorkloadTarget,
} from './types.ts';
import { waitForRollout } from './wait.ts';
import {
  listWorkloadPods,
  readWorkload,
  retrying,
  sentinelAnnotations,
  subjectOf,
  workloadPath,
} from './workloads.ts';

const FIELDS = ['nodeSelector', 'tolerations', 'affinity'] as const;
type Field = (typeof FIELDS)[number];

function contextOf(target: WorkloadTarget): {
  cluster: string;
  namespace: string;
  kind: string;
  name: string;
} {
  return { cluster: target.cluster, ...subjectOf(target) };
}

/** Empty and absent mean the same to the scheduler. */
function normalized(field: Field, value: unknown): unknown {
  if (value === undefined || value === null) return field === 'tolerations' ? [] : {};
  return value;
}

function same(field: Field, a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): string =>
    JSON.stringify(v, (_key, inner: unknown) =>
      typeof inner === 'object' && inner !== null && !Array.isArray(inner)
        ? Object.fromEntries(Object.entries(inner).sort(([x], [y]) => x.localeCompare(y)))
        : inner,
    );
  return canonical(normalized(field, a)) === canonical(normalized(field, b));
}

/** Where a rescheduled workload's pods ended up. */
export interface Placement {
  pod: string;
  node: string;
}

/** {@link RescheduleResult} plus, after a wait, where the pods landed. */
export type RescheduleOutcome = RescheduleResult & { placement?: Placement[] };

/**
 * Moves a Deployment's or StatefulSet's pods: replaces the pod template's nodeSelector,
 * tolerations and/or affinity (each given field as a whole; `{}` / `[]` clears it), e.g. to
 * another GPU pool, then by default waits until the rollout is done and reports where the
 * new pods landed. Reads first and does nothing when the template already says so; writes
 * a JSON patch with a resourceVersion precondition.
 *
 * Unlike the other verbs, `wait` defaults to true here: a reschedule is done when the pods
 * have landed. A Job's pod template is immutable, so `reschedule` does not apply to Jobs.
 */
export async function rescheduleWorkload(
  registry: ClusterRegistry,
  target: WorkloadTarget,
  params: RescheduleParams,
  options: MutationOptions = {},
): Promise<RescheduleOutcome> {
  if (target.kind === 'Job') {
    throw new KubeInvalidError(
      'reschedule does not apply to a Job: its pod template is immutable',
      contextOf(target),
    );
  }
  const fields = FIELDS.filter((f) => params[f] !== undefined);
  if (fields.length === 0) {
    throw new KubeInvalidError(
      'reschedule needs at least one of nodeSelector, tolerations or affinity',
      contextOf(target),
    );
  }
  const o = mutationOptionsWithDefaults({ wait: true, ...options });
  const client = registry.client(target.cluster);
  const outcome = await retrying(o.retry, o.signal, async (): Promise<RescheduleResult> => {
    const live = await readWorkload(client, target, o.signal);
    const spec = live.spec.template.spec;
    const previous: RescheduleState = {};
    const applied: RescheduleState = {};
    for (const f of fields) {
      Object.assign(previous, { [f]: normalized(f, spec[f]) });
      Object.assign(applied, { [f]: params[f] });
    }
    const base = {
      verb: DriverVerb.reschedule,
      target,
      dryRun: o.dryRun,
      previous,
      inverse: { verb: 'reschedule' as const, params: previous },
    };
    if (fields.every((f) => same(f, spec[f], params[f]))) {
      return {
        ...base,
        changed: false,
        applied: previous,
        resourceVersion: live.metadata.resourceVersion ?? '',
      };
    }
    const record: Record<string, string | null> = {
      ...sentinelAnnotations(live, o),
      [SentinelMetadata.rolledBackFromAnnotation]: null,
      [SentinelMetadata.rolledBackToAnnotation]: null,
    };
    const stored = await client.request<WorkloadObject>({
      method: 'PATCH',
      path: workloadPath(target),
      query: { fieldManager: o.fieldManager, ...(o.dryRun && { dryRun: 'All' }) },
      body: [
        // Replacing the resourceVersion makes the write conditional: a racing change answers 409.
        { op: 'replace', path: '/metadata/resourceVersion', value: live.metadata.resourceVersion },
        // `add` sets a field whether or not it exists; empty values clear it.
        ...fields.map((f) => ({ op: 'add', path: `/spec/template/spec/${f}`, value: params[f] })),
        live.metadata.annotations
          ? {
              op: 'replace',
              path: '/metadata/annotations',
              value: withRecord(live.metadata.annotations, record),
            }
          : { op: 'add', path: '/metadata/annotations', value: withRecord({}, record) },
      ],
      contentType: PatchType.json,
      subject: subjectOf(target),
      signal: o.signal,
    });
    return {
      ...base,
      changed: true,
      applied,
      ...storedOutcome(live, stored),
    };
  });
  if (!o.wait) return outcome;
  await waitForRollout(registry, target, o.wait);
  const pods = await listWorkloadPods(registry, target, {
    retry: o.retry,
    ...(o.signal && { signal: o.signal }),
  });
  const unplaced = pods.filter((p) => !p.spec.nodeName);
  if (unplaced.length > 0) {
    throw new KubeRolloutFailedError(
      `pods not scheduled after the rollout: ${unplaced.map((p) => p.metadata.name).join(', ')}`,
      contextOf(target),
    );
  }
  return { ...outcome, placement: pods.map((p) => ({ pod: p.metadata.name, node: p.spec.nodeName ?? '' })) };
}

function withRecord(
  annotations: Record<string, string>,
  record: Record<string, string | null>,
): Record<string, string> {
  const next = { ...annotations };
  for (const [key, value] of Object.entries(record)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}
