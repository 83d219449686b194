import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRolloutActivities, RolloutFailureType } from '../../activities/rollout-activities.ts';
import {
  currentPodTemplateHash,
  readServiceEndpoints,
  readServiceSelector,
} from '../../activities/rollout-kubernetes.ts';
import type { RolloutSpecInput } from '../../domain/rollout.ts';
import { applyObject, getWorkload, listWorkloadPods } from '../../k8s/index.ts';
import { listAudit } from '../../store/audit.ts';
import {
  deployServing,
  removeServing,
  rolloutApi,
  startRolloutStack,
  type RolloutStack,
} from '../support/rollout-stack.ts';
import { eventually } from '../support/stack.ts';

// A blue/green rollout gives the active Service its selector back at the end. A selector that
// pins a pod-template-hash names a ReplicaSet the rollout retires, so it is refused before any
// change; and a rollout ends Promoted only once the active Service lists Ready endpoints.
let stack: RolloutStack;
let api: ReturnType<typeof rolloutApi>;
const NS = 'bluegreen-selector';

const where = (name: string) => ({ cluster: 'local', namespace: NS, name });
const deployment = (name: string) => ({ ...where(name), kind: 'Deployment' as const });

function blueGreenSpec(name: string): RolloutSpecInput {
  return {
    target: { cluster: 'local', namespace: NS, name },
    template: { containers: [{ name: 'server', image: 'registry.local/inference:v2' }] },
    strategy: { blueGreen: { activeService: name, scaleDownDelaySeconds: 0 } },
    progressDeadlineSeconds: 60,
    requestedBy: 'integration-test',
    reason: 'blue/green selector test',
  };
}

beforeAll(async () => {
  stack = await startRolloutStack();
  api = rolloutApi(stack.apiUrl);
});
afterAll(async () => stack?.stop());

describe('blue/green and the active Service selector', () => {
  it('refuses an active Service that pins a pod-template-hash, with the reason, before any change', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'pinned', replicas: 2 });
    const hash = await currentPodTemplateHash(stack.registry, where('pinned'));
    expect(hash).toBeTruthy();
    const pinned = { app: 'pinned', 'pod-template-hash': hash! };
    await applyObject(stack.registry, 'local', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'pinned', namespace: NS },
      spec: { selector: pinned, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const before = await getWorkload(stack.registry, deployment('pinned'));

    const started = await api.start(blueGreenSpec('pinned'));
    expect(started.status).toBe(201);
    const view = await api.finished(`local/${NS}/pinned`);

    expect(view.phase).toBe('Failed');
    expect(view.status?.message).toContain(`pod-template-hash=${hash}`);
    expect(view.status?.message).toMatch(/would select no pods/);
    expect(view.status?.message).toMatch(/nothing was changed/);
    // Nothing was written: the Service, the Deployment, no green, no audited change.
    expect(await readServiceSelector(stack.registry, where('pinned'))).toEqual(pinned);
    expect((await getWorkload(stack.registry, deployment('pinned'))).metadata.resourceVersion).toBe(
      before.metadata.resourceVersion,
    );
    await expect(getWorkload(stack.registry, deployment('pinned-green'))).rejects.toThrow(/not found/i);
    expect(await listAudit(stack.database.db, { planId: `rollout/local/${NS}/pinned` })).toEqual([]);
    await removeServing(stack.registry, NS, 'pinned');
  });

  it('ends Promoted only with the active Service selecting the new pods through Ready endpoints', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'fresh', replicas: 2 });
    expect((await api.start(blueGreenSpec('fresh'))).status).toBe(201);
    const view = await api.finished(`local/${NS}/fresh`);
    expect(view.phase).toBe('Promoted');

    // At the moment it is Promoted the Service already has Ready endpoints, all of the new
    // template (green's pods, still being removed, run it too).
    const endpoints = await readServiceEndpoints(stack.registry, where('fresh'));
    expect(endpoints.selector).toEqual({ app: 'fresh' });
    expect(endpoints.readyEndpoints).toBeGreaterThanOrEqual(2);
    const images = (pods: { spec: { containers: { image?: string }[] } }[]) =>
      new Set(pods.map((p) => p.spec.containers[0]!.image));
    expect(images(await listWorkloadPods(stack.registry, deployment('fresh')))).toEqual(
      new Set(['registry.local/inference:v2']),
    );
    // Once green's pods are gone, the Deployment's own two pods serve.
    await eventually(
      () => readServiceEndpoints(stack.registry, where('fresh')),
      (e) => e.readyEndpoints === 2 && e.selectedReadyPods === 2,
      30_000,
    );
    await removeServing(stack.registry, NS, 'fresh');
  });

  it('fails the endpoint check non-retryably, naming the selector, when the Service selects no Ready pod', async () => {
    await applyObject(stack.registry, 'local', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'orphan', namespace: NS },
      spec: { selector: { app: 'nobody' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const activities = createRolloutActivities({ db: stack.database.db, clusters: stack.registry });
    const check = activities.waitServiceEndpoints({
      target: { cluster: 'local', namespace: NS, name: 'orphan' },
      service: 'orphan',
      deadlineAt: new Date(Date.now() + 1_500).toISOString(),
    });
    const failure = await check.then(
      () => undefined,
      (err: unknown) => err as ApplicationFailure,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: RolloutFailureType.serviceWithoutEndpoints, nonRetryable: true });
    expect(failure!.message).toMatch(
      /^Service orphan has no Ready endpoints \(selector \{"app":"nobody"\} matches 0 Ready pod/,
    );
  });
});
