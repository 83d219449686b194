import type { ClusterRegistry } from './clusters.ts';
import { PatchType } from './client.ts';
import { storedOutcome } from './diff.ts';
import { KubeInvalidError } from './errors.ts';
import { sameQuantity } from './quantity.ts';
import {
  DriverVerb,
  SentinelMetadata,
  mutationOptionsWithDefaults,
  type Container,
  type MutationOptions,
  type UpdateParams,
  type UpdateResult,
  type UpdateState,
  type WorkloadObject,
  type WorkloadTarget,
} from './types.ts';
import { waitForRollout } from './wait.ts';
import { readWorkload, retrying, sentinelAnnotations, subjectOf, workloadPath } from './workloads.ts';

type ResourceMap = Record<string, string | number | null>;

function contextOf(target: WorkloadTarget): {
  cluster: string;
  namespace: string;
  kind: string;
  name: string;
} {
  return { cluster: target.cluster, ...subjectOf(target) };
}

/** The live values of exactly the fields `params` sets (absent env vars and resources as `null`). */
function liveState(target: WorkloadTarget, container: Container, params: UpdateParams): UpdateState {
  const state: UpdateState = { container: params.container };
  if (params.image !== undefined) state.image = container.image ?? '';
  if (params.env !== undefined) {
    state.env = {};
    for (const name of Object.keys(params.env)) {
      const entry = container.env?.find((e) => e.name === name);
      if (entry?.valueFrom !== undefined) {
        throw new KubeInvalidError(
          `env ${name} of container ${params.container} comes from valueFrom; update sets literal values only`,
          contextOf(target),
        );
      }
      state.env[name] = entry ? (entry.value ?? '') : null;
    }
  }
  if (params.resources !== undefined) {
    state.resources = {};
    for (const section of ['requests', 'limits'] as const) {
      const wanted = params.resources[section];
      if (wanted === undefined) continue;
      const live: ResourceMap = {};
      for (const name of Object.keys(wanted)) live[name] = container.resources?.[section]?.[name] ?? null;
      state.resources[section] = live;
    }
  }
  return state;
}

/** `params` with quantities as strings, the form the apiserver stores. */
function desiredState(params: UpdateParams): UpdateState {
  const state: UpdateState = { container: params.container };
  if (params.image !== undefined) state.image = params.image;
  if (params.env !== undefined) state.env = { ...params.env };
  if (params.resources !== undefined) {
    state.resources = {};
    for (const section of ['requests', 'limits'] as const) {
      const wanted = params.resources[section];
      if (wanted === undefined) continue;
      state.resources[section] = Object.fromEntries(
        Object.entries(wanted).map(([name, q]) => [name, q === null ? null : String(q)]),
      );
    }
  }
  return state;
}

function sameState(a: UpdateState, b: UpdateState): boolean {
  if (a.image !== b.image) return false;
  for (const [name, value] of Object.entries(b.env ?? {}))
    if ((a.env?.[name] ?? null) !== value) return false;
  for (const section of ['requests', 'limits'] as const) {
    for (const [name, q] of Object.entries(b.resources?.[section] ?? {})) {
      if (!sameQuantity(a.resources?.[section]?.[name], q)) return false;
    }
  }
  return true;
}

/** A strategic-merge patch of one container (merged by name): `null` removes a resource, `$patch: delete` an env var. */
function containerPatch(desired: UpdateState): Record<string, unknown> {
  const patch: Record<string, unknown> = { name: desired.container };
  if (desired.image !== undefined) patch.image = desired.image;
  if (desired.env !== undefined) {
    patch.env = Object.entries(desired.env).map(([name, value]) =>
      value === null ? { name, $patch: 'delete' } : { name, value },
    );
  }
  if (desired.resources !== undefined) patch.resources = desired.resources;
  return patch;
}

/**
 * Changes one container of a Deployment or StatefulSet, by name: its image, env vars and/or
 * resource requests and limits. Fields not named in `params` are left alone. Reads first
 * and does nothing when the container already matches; writes a strategic-merge patch
 * under field manager `sentinel` with a resourceVersion precondition. The inverse restores
 * exactly the previous values (`null` for what did not exist).
 *
 * A Job's pod template is immutable, so `update` does not apply to Jobs.
 */
export async function updateWorkload(
  registry: ClusterRegistry,
  target: WorkloadTarget,
  params: UpdateParams,
  options: MutationOptions = {},
): Promise<UpdateResult> {
  if (target.kind === 'Job') {
    throw new KubeInvalidError(
      'update does not apply to a Job: its pod template is immutable',
      contextOf(target),
    );
  }
  if (params.image === undefined && params.env === undefined && params.resources === undefined) {
    throw new KubeInvalidError('update needs at least one of image, env or resources', contextOf(target));
  }
  const o = mutationOptionsWithDefaults(options);
  const client = registry.client(target.cluster);
  const outcome = await retrying(o.retry, o.signal, async (): Promise<UpdateResult> => {
    const live = await readWorkload(client, target, o.signal);
    const container = live.spec.template.spec.containers.find((c) => c.name === params.container);
    if (!container) {
      const names = live.spec.template.spec.containers.map((c) => c.name).join(', ');
      throw new KubeInvalidError(
        `no container named ${params.container} (containers: ${names})`,
        contextOf(target),
      );
    }
    const previous = liveState(target, container, params);
    const applied = desiredState(params);
    const base = {
      verb: DriverVerb.update,
      target,
      dryRun: o.dryRun,
      previous,
      inverse: { verb: 'update' as const, params: previous },
    };
    if (sameState(previous, applied)) {
      return {
        ...base,
        changed: false,
        applied: previous,
        resourceVersion: live.metadata.resourceVersion ?? '',
      };
    }
    const stored = await client.request<WorkloadObject>({
      method: 'PATCH',
      path: workloadPath(target),
      query: { fieldManager: o.fieldManager, ...(o.dryRun && { dryRun: 'All' }) },
      body: {
        metadata: {
          resourceVersion: live.metadata.resourceVersion,
          annotations: {
            ...sentinelAnnotations(live, o),
            // A later template change ends what a rollback recorded.
            [SentinelMetadata.rolledBackFromAnnotation]: null,
            [SentinelMetadata.rolledBackToAnnotation]: null,
          },
        },
        spec: { template: { spec: { containers: [containerPatch(applied)] } } },
      },
      contentType: PatchType.strategicMerge,
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
  if (o.wait) await waitForRollout(registry, target, o.wait);
  return outcome;
}
