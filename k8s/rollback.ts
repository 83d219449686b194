import { createHash } from 'node:crypto';
import type { ClusterRegistry } from './clusters.ts';
import { PatchType, type KubeClient } from './client.ts';
import { storedOutcome } from './diff.ts';
import { KubeConflictError, KubeInvalidError, KubeNotFoundError } from './errors.ts';
import { resourcePath } from './resources.ts';
import {
  DriverVerb,
  SentinelMetadata,
  mutationOptionsWithDefaults,
  type KubeObject,
  type MutationOptions,
  type PodTemplate,
  type RollbackParams,
  type RollbackResult,
  type RollbackState,
  type WorkloadObject,
  type WorkloadTarget,
} from './types.ts';
import { waitForRollout } from './wait.ts';
import {
  readWorkload,
  retrying,
  selectorString,
  sentinelAnnotations,
  subjectOf,
  workloadPath,
} from './workloads.ts';

const DEPLOYMENT_REVISION = 'deployment.kubernetes.io/revision';
const DEPLOYMENT_REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const POD_TEMPLATE_HASH = 'pod-template-hash';

/** One recorded revision of a workload's pod template. */
interface Revision {
  /** The revision number now. */
  number: number;
  /** Numbers it had before the controller renumbered it (Deployments only). */
  history: number[];
  /** ReplicaSet or ControllerRevision name. */
  name: string;
  template: PodTemplate;
}

function contextOf(target: WorkloadTarget): {
  cluster: string;
  namespace: string;
  kind: string;
  name: string;
} {
  return { cluster: target.cluster, ...subjectOf(target) };
}

/** JSON without nulls, `$patch` directives and key-order differences, for comparing templates. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key, v]) => v !== null && v !== undefined && key !== '$patch')
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, v]) => [key, canonical(v)]),
    );
  }
  return value;
}

function sameTemplate(a: PodTemplate, b: PodTemplate): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** A short digest of a pod template, equal for templates {@link sameTemplate} calls equal. */
function templateDigest(template: PodTemplate): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(template)))
    .digest('hex')
    .slice(0, 32);
}

function imagesOf(template: PodTemplate): Record<string, string> {
  return Object.fromEntries(template.spec.containers.map((c) => [c.name, c.image ?? '']));
}

function ownedBy(obj: KubeObject, owner: WorkloadObject): boolean {
  return obj.metadata?.ownerReferences?.some((ref) => ref.uid === owner.metadata.uid) ?? false;
}

async function listOwned<T extends KubeObject>(
  client: KubeClient,
  target: WorkloadTarget,
  live: WorkloadObject,
  plural: string,
  signal: AbortSignal | undefined,
): Promise<T[]> {
  const list = await client.request<{ items: T[] }>({
    method: 'GET',
    path: resourcePath({ apiVersion: 'apps/v1', kind: '', plural, namespaced: true }, target.namespace),
    query: { labelSelector: selectorString(live.spec.selector) },
    subject: subjectOf(target),
    signal,
  });
  return list.items.filter((item) => ownedBy(item, live));
}

/** A Deployment's revisions are its ReplicaSets, numbered by their revision annotation. */
async function deploymentRevisions(
  client: KubeClient,
  target: WorkloadTarget,
  live: WorkloadObject,
  signal: AbortSignal | undefined,
): Promise<Revision[]> {
  const replicaSets = await listOwned<KubeObject & { spec: { template: PodTemplate } }>(
    client,
    target,
    live,
    'replicasets',
    signal,
  );
  return replicaSets.map((rs) => {
    const annotations = rs.metadata?.annotations ?? {};
    const labels = { ...rs.spec.template.metadata?.labels };
    delete labels[POD_TEMPLATE_HASH];
    return {
      number: Number(annotations[DEPLOYMENT_REVISION] ?? 0),
      history: (annotations[DEPLOYMENT_REVISION_HISTORY] ?? '')
        .split(',')
        .filter((n) => n.length > 0)
        .map(Number),
      name: rs.metadata?.name ?? '',
      template: { ...rs.spec.template, metadata: { ...rs.spec.template.metadata, labels } },
    };
  });
}

/** A StatefulSet's revisions are its ControllerRevisions, each holding a template patch. */
async function statefulSetRevisions(
  client: KubeClient,
  target: WorkloadTarget,
  live: WorkloadObject,
  signal: AbortSignal | undefined,
): Promise<Revision[]> {
  const revisions = await listOwned<
    KubeObject & { revision: number; data?: { spec?: { template?: PodTemplate } } }
  >(client, target, live, 'controllerrevisions', signal);
  return revisions
    .filter((cr) => cr.data?.spec?.template !== undefined)
    .map((cr) => ({
      number: cr.revision,
      history: [],
      name: cr.metadata?.name ?? '',
      template: canonical(cr.data?.spec?.template) as PodTemplate,
    }));
}

/** The revision the workload runs now, once its controller has caught up with the spec. */
function currentRevision(target: WorkloadTarget, live: WorkloadObject, revisions: Revision[]): Revision {
  const observed = Number(live.status?.observedGeneration ?? 0);
  const current =
    target.kind === 'Deployment'
      ? revisions.find((r) => String(r.number) === live.metadata.annotations?.[DEPLOYMENT_REVISION])
      : revisions.find((r) => r.name === live.status?.updateRevision);
  if (
    observed < (live.metadata.generation ?? 0) ||
    !current ||
    !sameTemplate(current.template, live.spec.template)
  ) {
    // Retryable: the controller records the new revision a moment after a template change.
    throw new KubeConflictError(
      `the ${target.kind} controller has not recorded the current revision yet (generation ${live.metadata.generation ?? 0}, observed ${observed})`,
      contextOf(target),
    );
  }
  return current;
}

function jsonPointer(...segments: string[]): string {
  return segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Returns a Deployment to an earlier revision, found among its ReplicaSets'
 * `deployment.kubernetes.io/revision` annotations, or a StatefulSet to one of its
 * ControllerRevisions: the previous revision, or `params.toRevision`. The workload's pod
 * template is replaced with that revision's, under a resourceVersion precondition; the
 * controller then brings the old ReplicaSet (or revision) back as the newest.
 *
 * Already at that template → no-op. Because "the previous revision" moves once a rollback
 * is done, a retried rollback without `toRevision` recognises its own change by
 * `options.operationId` (recorded in `sentinel.dev/operation`). The rollback marks
 * (`sentinel.dev/rolled-back-from`/`-to`) are trusted only while the live template is still
 * the one they were written with (`sentinel.dev/rolled-back-template`, its digest).
 */
export async function rollbackWorkload(
  registry: ClusterRegistry,
  target: WorkloadTarget,
  params: RollbackParams = {},
  options: MutationOptions = {},
): Promise<RollbackResult> {
  if (target.kind === 'Job') {
    throw new KubeInvalidError('rollback does not apply to a Job: a Job has no revisions', contextOf(target));
  }
  const o = mutationOptionsWithDefaults(options);
  const client = registry.client(target.cluster);
  const outcome = await retrying(o.retry, o.signal, async (): Promise<RollbackResult> => {
    const live = await readWorkload(client, target, o.signal);
    const annotations = live.metadata.annotations ?? {};
    const revisions =
      target.kind === 'Deployment'
        ? await deploymentRevisions(client, target, live, o.signal)
        : await statefulSetRevisions(client, target, live, o.signal);
    const liveImages = imagesOf(live.spec.template);
    const noop = (previous: RollbackState, applied: RollbackState): RollbackResult => ({
      verb: DriverVerb.rollback,
      target,
      changed: false,
      dryRun: o.dryRun,
      previous,
      applied,
      inverse: { verb: 'rollback', params: { toRevision: previous.revision } },
      resourceVersion: live.metadata.resourceVersion ?? '',
    });

    // A retry of a rollback that already happened: report what it did. The marks describe the
    // template that rollback wrote; once anything else (a plan, a rollout, kubectl) has
    // changed the template they say nothing about the workload and are ignored.
    const from = Number(annotations[SentinelMetadata.rolledBackFromAnnotation]);
    const to = Number(annotations[SentinelMetadata.rolledBackToAnnotation]);
    const alreadyDone =
      annotations[SentinelMetadata.rolledBackTemplateAnnotation] === templateDigest(live.spec.template) &&
      Number.isFinite(from) &&
      Number.isFinite(to) &&
      ((o.operationId !== undefined && annotations[SentinelMetadata.operationAnnotation] === o.operationId) ||
        (params.toRevision !== undefined &&
          params.toRevision === to &&
          !revisions.some((r) => r.number === to)));
    if (alreadyDone) {
      const left = revisions.find((r) => r.number === from);
      return noop(
        { revision: from, images: left ? imagesOf(left.template) : {} },
        { revision: to, images: liveImages },
      );
    }

    const current = currentRevision(target, live, revisions);
    const known = revisions.map((r) => r.number).sort((a, b) => a - b);
    let wanted: Revision | undefined;
    if (params.toRevision !== undefined) {
      const n = params.toRevision;
      wanted = revisions.find((r) => r.number === n) ?? revisions.find((r) => r.history.includes(n));
      if (!wanted)
        throw new KubeNotFoundError(
          `no revision ${n} (known revisions: ${known.join(', ') || 'none'})`,
          contextOf(target),
        );
    } else {
      wanted = revisions.filter((r) => r.number < current.number).sort((a, b) => b.number - a.number)[0];
      if (!wanted)
        throw new KubeNotFoundError(
          `no revision before the current one (${current.number})`,
          contextOf(target),
        );
    }
    const previous: RollbackState = { revision: current.number, images: liveImages };
    const applied: RollbackState = {
      revision: params.toRevision ?? wanted.number,
      images: imagesOf(wanted.template),
    };
    if (sameTemplate(wanted.template, live.spec.template)) return noop(previous, previous);

    const record: Record<string, string> = {
      ...sentinelAnnotations(live, o),
      [SentinelMetadata.rolledBackFromAnnotation]: String(current.number),
      [SentinelMetadata.rolledBackToAnnotation]: String(applied.revision),
      [SentinelMetadata.rolledBackTemplateAnnotation]: templateDigest(wanted.template),
    };
    const annotationOps = live.metadata.annotations
      ? Object.entries(record).map(([key, value]) => ({
          op: 'add',
          path: jsonPointer('metadata', 'annotations', key),
          value,
        }))
      : [{ op: 'add', path: '/metadata/annotations', value: record }];
    const stored = await client.request<WorkloadObject>({
      method: 'PATCH',
      path: workloadPath(target),
      query: { fieldManager: o.fieldManager, ...(o.dryRun && { dryRun: 'All' }) },
      // Replacing the resourceVersion makes the write conditional: a racing change answers 409.
      body: [
        { op: 'replace', path: '/metadata/resourceVersion', value: live.metadata.resourceVersion },
        { op: 'replace', path: '/spec/template', value: wanted.template },
        ...annotationOps,
      ],
      contentType: PatchType.json,
      subject: subjectOf(target),
      signal: o.signal,
    });
    return {
      verb: DriverVerb.rollback,
      target,
      changed: true,
      dryRun: o.dryRun,
      previous,
      applied,
      inverse: { verb: 'rollback', params: { toRevision: current.number } },
      ...storedOutcome(live, stored),
    };
  });
  if (o.wait) await waitForRollout(registry, target, o.wait);
  return outcome;
}
