// The Kubernetes side of rollouts, on top of the driver (k8s/): the second Deployment's
// manifest, pod template patches with exact inverses, Service selectors, the current
// pod-template-hash of a Deployment, and where GPU pods still fit. Every write reads first and
// does nothing when the live object already matches, so a retried activity never writes twice.

import {
  applyWorkload,
  getClusterCapacity,
  getWorkload,
  GPU_RESOURCE,
  isPodReady,
  KubeInvalidError,
  KubeNotFoundError,
  parseQuantity,
  PatchType,
  sameQuantity,
  selectorString,
  SENTINEL_FIELD_MANAGER,
  type ApplyResult,
  type ClusterRegistry,
  type Container,
  type KubeObject,
  type PodObject,
  type PodTemplate,
  type WorkloadObject,
  withRetry,
} from '../k8s/index.ts';
import { resourcePath } from '../k8s/resources.ts';
import { sentinelAnnotations } from '../k8s/workloads.ts';
import { ROLLOUT_ROLE_LABEL, type RolloutRole, type RolloutTarget } from '../domain/rollout.ts';
import type { TemplateState } from '../domain/rollout-template.ts';

/** Annotation on the second Deployment: the rollout that created it. */
export const ROLLOUT_ANNOTATION = 'sentinel.dev/rollout';
/** The label the Deployment controller puts on every pod and ReplicaSet of one template. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

function contextOf(cluster: string, namespace: string, name: string) {
  return { cluster, namespace, kind: 'Deployment', name };
}

function findContainer(
  template: PodTemplate,
  name: string,
  where: { cluster: string; namespace: string; name: string },
): Container {
  const container = template.spec.containers.find((c) => c.name === name);
  if (!container) {
    const names = template.spec.containers.map((c) => c.name).join(', ');
    throw new KubeInvalidError(
      `the template changes container ${name}, which ${where.name} does not have (containers: ${names})`,
      contextOf(where.cluster, where.namespace, where.name),
    );
  }
  return container;
}

/** The live values of exactly the fields `desired` sets (`null` where absent). */
export function liveTemplateState(
  template: PodTemplate,
  desired: TemplateState,
  where: { cluster: string; namespace: string; name: string },
): TemplateState {
  const pick = <T>(map: Record<string, T> | undefined, keys: Record<string, unknown>) =>
    Object.fromEntries(Object.keys(keys).map((k) => [k, map?.[k] ?? null]));
  return {
    containers: desired.containers.map((want) => {
      const live = findContainer(template, want.name, where);
      const env = live.env ?? [];
      return {
        name: want.name,
        ...(want.image !== undefined && { image: live.image ?? '' }),
        ...(want.env !== undefined && {
          env: Object.fromEntries(
            Object.keys(want.env).map((k) => {
              const entry = env.find((e) => e.name === k);
              if (entry?.valueFrom !== undefined)
                throw new KubeInvalidError(
                  `env ${k} of container ${want.name} comes from valueFrom; a rollout sets literal values only`,
                  contextOf(where.cluster, where.namespace, where.name),
                );
              return [k, entry ? (entry.value ?? '') : null];
            }),
          ),
        }),
        ...(want.resources !== undefined && {
          resources: {
            ...(want.resources.requests && {
              requests: pick(live.resources?.requests, want.resources.requests),
            }),
            ...(want.resources.limits && { limits: pick(live.resources?.limits, want.resources.limits) }),
          },
        }),
      };
    }),
    ...(desired.labels && { labels: pick(template.metadata?.labels, desired.labels) }),
    ...(desired.annotations && { annotations: pick(template.metadata?.annotations, desired.annotations) }),
  };
}

/** True when the live values already equal the desired ones. */
export function sameTemplateState(live: TemplateState, desired: TemplateState): boolean {
  const sameMap = (
    a: Record<string, string | null> | undefined,
    b: Record<string, string | null> | undefined,
    quantity = false,
  ) =>
    Object.entries(b ?? {}).every(([k, v]) =>
      quantity ? sameQuantity(a?.[k] ?? null, v) : (a?.[k] ?? null) === v,
    );
  return (
    desired.containers.every((want) => {
      const have = live.containers.find((c) => c.name === want.name);
      if (!have) return false;
      if (want.image !== undefined && have.image !== want.image) return false;
      if (!sameMap(have.env, want.env)) return false;
      if (!sameMap(have.resources?.requests, want.resources?.requests, true)) return false;
      return sameMap(have.resources?.limits, want.resources?.limits, true);
    }) &&
    sameMap(live.labels, desired.labels) &&
    sameMap(live.annotations, desired.annotations)
  );
}

/** `template` with `state` applied (a copy); `null` removes. */
export function applyTemplateState(
  template: PodTemplate,
  state: TemplateState,
  where: { cluster: string; namespace: string; name: string },
): PodTemplate {
  const copy = structuredClone(template);
  const setMap = (target: Record<string, string>, values: Record<string, string | null> | undefined) => {
    for (const [k, v] of Object.entries(values ?? {})) {
      if (v === null) delete target[k];
      else target[k] = v;
    }
    return target;
  };
  for (const change of state.containers) {
    const container = findContainer(copy, change.name, where);
    if (change.image !== undefined) container.image = change.image;
    if (change.env !== undefined) {
      const env = [...(container.env ?? [])];
      for (const [name, value] of Object.entries(change.env)) {
        const at = env.findIndex((e) => e.name === name);
        if (value === null) {
          if (at >= 0) env.splice(at, 1);
        } else if (at >= 0) env[at] = { name, value };
        else env.push({ name, value });
      }
      container.env = env;
    }
    if (change.resources !== undefined) {
      container.resources ??= {};
      for (const section of ['requests', 'limits'] as const) {
        const values = change.resources[section];
        if (values) container.resources[section] = setMap({ ...container.resources[section] }, values);
      }
    }
  }
  if (state.labels || state.annotations) {
    copy.metadata ??= {};
    if (state.labels) copy.metadata.labels = setMap({ ...copy.metadata.labels }, state.labels);
    if (state.annotations)
      copy.metadata.annotations = setMap({ ...copy.metadata.annotations }, state.annotations);
  }
  return copy;
}

/** A strategic-merge patch of the pod template: containers merge by name, `null` removes. */
function templatePatch(state: TemplateState): Record<string, unknown> {
  return {
    ...((state.labels || state.annotations) && {
      metadata: {
        ...(state.labels && { labels: state.labels }),
        ...(state.annotations && { annotations: state.annotations }),
      },
    }),
    spec: {
      containers: state.containers.map((c) => ({
        name: c.name,
        ...(c.image !== undefined && { image: c.image }),
        ...(c.env !== undefined && {
          env: Object.entries(c.env).map(([name, value]) =>
            value === null ? { name, $patch: 'delete' } : { name, value },
          ),
        }),
        ...(c.resources !== undefined && { resources: c.resources }),
      })),
    },
  };
}

/** What a write did: whether anything changed, the values before and after. */
export interface TemplatePatchResult {
  changed: boolean;
  previous: TemplateState;
  applied: TemplateState;
  generation: number;
}

/**
 * Sets the fields of `state` on a Deployment's pod template in one strategic-merge patch
 * with a resourceVersion precondition (a racing write makes the driver retry from a fresh
 * read). `previous` is the exact inverse.
 */
export async function patchDeploymentTemplate(
  clusters: ClusterRegistry,
  where: { cluster: string; namespace: string; name: string },
  state: TemplateState,
  options: { dryRun: boolean; planId: string; operationId: string },
): Promise<TemplatePatchResult> {
  const target = { ...where, kind: 'Deployment' as const };
  const live = await getWorkload(clusters, target);
  const previous = liveTemplateState(live.spec.template, state, where);
  if (sameTemplateState(previous, state))
    return { changed: false, previous, applied: previous, generation: live.metadata.generation ?? 0 };
  const client = clusters.client(where.cluster);
  const stored = await client.request<WorkloadObject>({
    method: 'PATCH',
    path: resourcePath(
      { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
      where.namespace,
      where.name,
    ),
    query: { fieldManager: SENTINEL_FIELD_MANAGER, ...(options.dryRun && { dryRun: 'All' }) },
    body: {
      metadata: {
        resourceVersion: live.metadata.resourceVersion,
        annotations: sentinelAnnotations(live, options),
      },
      spec: { template: templatePatch(state) },
    },
    contentType: PatchType.strategicMerge,
    subject: { namespace: where.namespace, kind: 'Deployment', name: where.name },
  });
  return { changed: true, previous, applied: state, generation: stored.metadata.generation ?? 0 };
}

/** GPUs one pod of the template asks for (requests, else limits, summed over containers). */
export function gpusPerPod(template: PodTemplate): number {
  let total = 0;
  for (const c of template.spec.containers) {
    const value = c.resources?.requests?.[GPU_RESOURCE] ?? c.resources?.limits?.[GPU_RESOURCE];
    const parsed = value === undefined ? 0 : parseQuantity(value);
    total += Number.isFinite(parsed) ? parsed : 0;
  }
  return Math.round(total);
}

/**
 * The second Deployment (`<name>-canary` or `<name>-green`): the stable's pod template with
 * the change applied, the stable's labels plus `sentinel.dev/rollout-role`, and a selector
 * that adds the role, so the two Deployments never claim each other's pods while a Service
 * that selects the stable's labels selects both.
 */
export function secondDeploymentManifest(
  stable: WorkloadObject,
  options: {
    name: string;
    role: RolloutRole;
    replicas: number;
    state: TemplateState;
    rolloutId: string;
    cluster: string;
  },
): KubeObject {
  const where = {
    cluster: options.cluster,
    namespace: stable.metadata.namespace,
    name: stable.metadata.name,
  };
  const template = applyTemplateState(stable.spec.template, options.state, where);
  const role = { [ROLLOUT_ROLE_LABEL]: options.role };
  const selector = stable.spec.selector ?? { matchLabels: { ...stable.spec.template.metadata?.labels } };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: options.name,
      namespace: stable.metadata.namespace,
      labels: { ...stable.metadata.labels, ...role },
      annotations: { [ROLLOUT_ANNOTATION]: options.rolloutId },
    },
    spec: {
      replicas: options.replicas,
      selector: { ...selector, matchLabels: { ...selector.matchLabels, ...role } },
      ...(stable.spec.strategy !== undefined && { strategy: stable.spec.strategy }),
      ...(stable.spec.minReadySeconds !== undefined && { minReadySeconds: stable.spec.minReadySeconds }),
      template: {
        ...template,
        metadata: { ...template.metadata, labels: { ...template.metadata?.labels, ...role } },
      },
    },
  };
}

/** Creates (or re-applies) the second Deployment with server-side apply. */
export function applySecondDeployment(
  clusters: ClusterRegistry,
  cluster: string,
  manifest: KubeObject,
  options: { dryRun: boolean; planId: string },
): Promise<ApplyResult> {
  return applyWorkload(clusters, cluster, manifest, { dryRun: options.dryRun, planId: options.planId });
}

/**
 * Deletes a Deployment (its ReplicaSets and pods follow, in the background); false when it
 * was already gone. The propagation policy goes in the query rather than a DeleteOptions
 * body: a DELETE body without a Content-Length is not framed by Node's HTTP client and
 * corrupts the next request on the kept-alive connection.
 */
export async function deleteDeployment(
  clusters: ClusterRegistry,
  where: { cluster: string; namespace: string; name: string },
  dryRun: boolean,
): Promise<boolean> {
  if (dryRun) return deploymentExists(clusters, where);
  return withRetry(async () => {
    try {
      await clusters.client(where.cluster).request({
        method: 'DELETE',
        path: resourcePath(
          { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
          where.namespace,
          where.name,
        ),
        query: { propagationPolicy: 'Background' },
        subject: { namespace: where.namespace, kind: 'Deployment', name: where.name },
      });
      return true;
    } catch (err) {
      if (err instanceof KubeNotFoundError) return false;
      throw err;
    }
  });
}

interface ServiceObject extends KubeObject {
  metadata: { name: string; namespace: string; resourceVersion?: string; [field: string]: unknown };
  spec: { selector?: Record<string, string>; [field: string]: unknown };
}

const SERVICE_TYPE = { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true };

/** A Service's selector. */
export async function readServiceSelector(
  clusters: ClusterRegistry,
  where: { cluster: string; namespace: string; name: string },
): Promise<Record<string, string>> {
  const service = await clusters.client(where.cluster).request<ServiceObject>({
    method: 'GET',
    path: resourcePath(SERVICE_TYPE, where.namespace, where.name),
    subject: { namespace: where.namespace, kind: 'Service', name: where.name },
  });
  return service.spec.selector ?? {};
}

function sameSelector(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

/**
 * Replaces a Service's selector as a whole, the switch of a blue/green rollout: read, then
 * write the object back with its resourceVersion, so a racing change makes the write fail
 * with a conflict (and the driver retry from a fresh read) rather than overwrite it. A no-op
 * when the selector already is `selector`.
 */
export async function setServiceSelector(
  clusters: ClusterRegistry,
  where: { cluster: string; namespace: string; name: string },
  selector: Record<string, string>,
  options: { dryRun: boolean },
): Promise<{ changed: boolean; previous: Record<string, string> }> {
  const client = clusters.client(where.cluster);
  const path = resourcePath(SERVICE_TYPE, where.namespace, where.name);
  const subject = { namespace: where.namespace, kind: 'Service', name: where.name };
  return withRetry(async () => {
    const live = await client.request<ServiceObject>({ method: 'GET', path, subject });
    const previous = live.spec.selector ?? {};
    if (sameSelector(previous, selector)) return { changed: false, previous };
    await client.request({
      method: 'PUT',
      path,
      query: { fieldManager: SENTINEL_FIELD_MANAGER, ...(options.dryRun && { dryRun: 'All' }) },
      body: { ...live, spec: { ...live.spec, selector } },
      subject,
    });
    return { changed: true, previous };
  });
}

interface EndpointSliceObject extends KubeObject {
  endpoints?: { conditions?: { ready?: boolean | null }; targetRef?: { kind?: string; name?: string } }[];
}

const POD_TYPE = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
const ENDPOINT_SLICE_TYPE = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  namespaced: true,
};

/** What a Service serves now: its selector, the Ready pods it matches, and how many of them its EndpointSlices list as ready. */
export interface ServiceEndpoints {
  selector: Record<string, string>;
  /** Ready pods (not being deleted) that the selector matches. */
  selectedReadyPods: number;
  /** Of those, the ones the Service's EndpointSlices list with a ready endpoint. */
  readyEndpoints: number;
}

/**
 * Counts the Ready endpoints a Service has now. An endpoint counts only when its pod is Ready
 * and matches the Service's current selector, so EndpointSlices the endpoint controller has
 * not yet updated after a selector change (still listing the previous selector's pods) do not
 * count.
 */
export async function readServiceEndpoints(
  clusters: ClusterRegistry,
  where: { cluster: string; namespace: string; name: string },
): Promise<ServiceEndpoints> {
  const client = clusters.client(where.cluster);
  const subject = { namespace: where.namespace, kind: 'Service', name: where.name };
  const service = await client.request<ServiceObject>({
    method: 'GET',
    path: resourcePath(SERVICE_TYPE, where.namespace, where.name),
    subject,
  });
  const selector = service.spec.selector ?? {};
  if (Object.keys(selector).length === 0) return { selector, selectedReadyPods: 0, readyEndpoints: 0 };
  const [pods, slices] = await Promise.all([
    client.request<{ items: PodObject[] }>({
      method: 'GET',
      path: resourcePath(POD_TYPE, where.namespace),
      query: { labelSelector: selectorString({ matchLabels: selector }) },
      subject,
    }),
    client.request<{ items: EndpointSliceObject[] }>({
      method: 'GET',
      path: resourcePath(ENDPOINT_SLICE_TYPE, where.namespace),
      query: { labelSelector: `kubernetes.io/service-name=${where.name}` },
      subject,
    }),
  ]);
  const ready = new Set(
    pods.items
      .filter((p) => p.metadata.deletionTimestamp === undefined && isPodReady(p))
      .map((p) => p.metadata.name),
  );
  const listed = new Set<string>();
  for (const slice of slices.items)
    for (const endpoint of slice.endpoints ?? []) {
      const pod = endpoint.targetRef?.kind === 'Pod' ? endpoint.targetRef.name : undefined;
      // A ready condition left unset means ready (discovery.k8s.io/v1).
      if (pod !== undefined && ready.has(pod) && endpoint.conditions?.ready !== false) listed.add(pod);
    }
  return { selector, selectedReadyPods: ready.size, readyEndpoints: listed.size };
}

interface ReplicaSetObject extends KubeObject {
  metadata: KubeObject['metadata'] & { name: string };
}

/**
 * The pod-template-hash of a Deployment's current template: the label of its ReplicaSet at
 * the Deployment's revision. Null when the controller has not created that ReplicaSet yet.
 */
export async function currentPodTemplateHash(
  clusters: ClusterRegistry,
  where: { cluster: string; namespace: string; name: string },
): Promise<string | null> {
  const deployment = await getWorkload(clusters, { ...where, kind: 'Deployment' });
  const revision = deployment.metadata.annotations?.['deployment.kubernetes.io/revision'];
  const list = await clusters.client(where.cluster).request<{ items: ReplicaSetObject[] }>({
    method: 'GET',
    path: resourcePath(
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true },
      where.namespace,
    ),
    subject: { namespace: where.namespace, kind: 'Deployment', name: where.name },
  });
  const owned = list.items.filter((rs) =>
    rs.metadata.ownerReferences?.some((o) => o.controller && o.uid === deployment.metadata.uid),
  );
  const current = owned.find(
    (rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision,
  );
  return current?.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? null;
}

/** Where `pods` more pods of `gpus` GPUs each can go, given a node selector. */
export interface GpuFit {
  fits: boolean;
  /** How many such pods fit on ready, schedulable, matching nodes (whole pods per node). */
  podsThatFit: number;
  freeGpus: number;
  message: string;
}

/** Reads the cluster's capacity and counts how many more such pods fit, node by node. */
export async function gpuFit(
  clusters: ClusterRegistry,
  cluster: string,
  request: { pods: number; gpusPerPod: number; nodeSelector: Record<string, string> },
): Promise<GpuFit> {
  const capacity = await getClusterCapacity(clusters, cluster);
  const nodes = capacity.nodes.filter(
    (n) =>
      n.ready &&
      n.schedulable &&
      Object.entries(request.nodeSelector).every(([key, value]) => n.labels[key] === value),
  );
  const freeGpus = nodes.reduce((sum, n) => sum + n.free.gpus, 0);
  const podsThatFit =
    request.gpusPerPod > 0
      ? nodes.reduce((sum, n) => sum + Math.floor(n.free.gpus / request.gpusPerPod), 0)
      : Number.MAX_SAFE_INTEGER;
  const where = Object.keys(request.nodeSelector).length
    ? ` on nodes with ${Object.entries(request.nodeSelector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`
    : '';
  const needed = request.pods * request.gpusPerPod;
  const fits = podsThatFit >= request.pods;
  return {
    fits,
    podsThatFit,
    freeGpus,
    message: fits
      ? `${request.pods} pod(s) of ${request.gpusPerPod} ${GPU_RESOURCE} fit${where} (${freeGpus} free)`
      : `${needed} ${GPU_RESOURCE} for ${request.pods} pod(s) of ${request.gpusPerPod}${where}; ${freeGpus} free, room for ${podsThatFit} such pod(s)`,
  };
}

/** Reads a Deployment; a missing one is a `KubeNotFoundError`. */
export function readDeployment(
  clusters: ClusterRegistry,
  where: { cluster: string; namespace: string; name: string },
): Promise<WorkloadObject> {
  return getWorkload(clusters, { ...where, kind: 'Deployment' });
}

/** Whether a Deployment exists. */
export async function deploymentExists(
  clusters: ClusterRegistry,
  where: { cluster: string; namespace: string; name: string },
): Promise<boolean> {
  try {
    await readDeployment(clusters, where);
    return true;
  } catch (err) {
    if (err instanceof KubeNotFoundError) return false;
    throw err;
  }
}

/** `target` as the driver's workload target. */
export function deploymentTarget(target: RolloutTarget, name = target.name) {
  return { cluster: target.cluster, namespace: target.namespace, kind: 'Deployment' as const, name };
}
