import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutSpecInput } from '../../domain/rollout.ts';
import { getWorkload, scaleWorkload } from '../../k8s/index.ts';
import {
  deployServing,
  removeServing,
  rolloutApi,
  servingPods,
  startRolloutStack,
  watchReadyPods,
  type RolloutStack,
} from '../support/rollout-stack.ts';
import { eventually } from '../support/stack.ts';

// Canary capacity on the real services (Temporal, kube-apiserver with kwok, the HTTP API):
// the replica split at small sizes, Ready pods that never dip while the weight moves, is
// rolled back or promoted, and a scale made outside the rollout that later steps keep.
let stack: RolloutStack;
let api: ReturnType<typeof rolloutApi>;
const NS = 'canary-capacity';

const deployment = (name: string) => ({ cluster: 'local', namespace: NS, kind: 'Deployment' as const, name });
const specReplicas = async (name: string) =>
  (await getWorkload(stack.registry, deployment(name))).spec.replicas;

function canarySpec(name: string, steps: unknown[], dynamicStableScale: boolean): RolloutSpecInput {
  return {
    target: { cluster: 'local', namespace: NS, name },
    template: { containers: [{ name: 'server', image: 'registry.local/inference:v2' }] },
    strategy: { canary: { steps: steps as never, dynamicStableScale } },
    progressDeadlineSeconds: 60,
    requestedBy: 'integration-test',
    reason: 'canary capacity test',
  };
}

beforeAll(async () => {
  stack = await startRolloutStack();
  api = rolloutApi(stack.apiUrl);
});
afterAll(async () => stack?.stop());

describe('canary capacity', () => {
  it('keeps a stable pod on a 1-replica workload at setWeight 10 and reports the real share (50%)', async () => {
    await deployServing(stack.registry, { namespace: NS, name: 'single', replicas: 1 });
    const id = `local/${NS}/single`;
    expect((await api.start(canarySpec('single', [{ setWeight: 10 }, { pause: {} }], true))).status).toBe(
      201,
    );
    const paused = await api.until(id, (v) => v.phase === 'Paused');
    expect(paused.status?.replicas).toEqual({ total: 1, stable: 1, canary: 1 });
    expect(paused.status?.weight).toBe(50);
    expect(paused.status?.steps[0]?.message).toContain('50% of the pods on the new template');
    expect(await servingPods(stack.registry, NS, 'single')).toMatchObject({ stable: 1, canary: 1 });
    await api.control(id, 'promote');
    const promoted = await api.finished(id);
    expect(promoted.phase).toBe('Promoted');
    expect(promoted.status?.weight).toBe(100);
    expect(await specReplicas('single')).toBe(1);
    await removeServing(stack.registry, NS, 'single');
  });

  it.each(['abort', 'promote'] as const)(
    'never drops Ready pods below the start while the weight moves and on %s (pods take 3 s to start)',
    async (ending) => {
      const name = `slow-${ending}`;
      await deployServing(stack.registry, { namespace: NS, name, replicas: 4, readyDelay: '3s' });
      const id = `local/${NS}/${name}`;
      const watch = await watchReadyPods(stack.registry, NS, [name, `${name}-canary`]);
      expect(watch.ready(name)).toBe(4);

      await api.start(canarySpec(name, [{ setWeight: 50 }, { pause: {} }], true));
      const paused = await api.until(id, (v) => v.phase === 'Paused');
      expect(paused.status?.replicas).toEqual({ total: 4, stable: 2, canary: 2 });
      expect(paused.status?.weight).toBe(50);
      await watch.until(() => watch.ready(name) === 2 && watch.ready(`${name}-canary`) === 2);

      if (ending === 'abort') {
        expect((await api.control(id, 'abort', { actor: 'sre' })).body.accepted).toBe(true);
        expect((await api.finished(id)).phase).toBe('Aborted');
      } else {
        await api.control(id, 'promote');
        expect((await api.finished(id)).phase).toBe('Promoted');
      }
      await watch.until(() => watch.ready(name) === 4 && watch.ready(`${name}-canary`) === 0);
      await watch.stop();
      expect(watch.seen.closed).toBe(false);
      // The watch saw the canary come and go (so it observed the transitions), and the
      // Ready pods of stable + canary never fell below the 4 the workload started with.
      expect(watch.seen.events).toBeGreaterThan(4);
      expect(watch.seen.min, watch.seen.trail.join('\n')).toBeGreaterThanOrEqual(4);
      await removeServing(stack.registry, NS, name);
    },
  );

  it.each([
    {
      dynamicStableScale: false,
      atPause: { total: 4, stable: 4, canary: 1 },
      next: { stable: 8, canary: 4 },
    },
    { dynamicStableScale: true, atPause: { total: 4, stable: 3, canary: 1 }, next: { stable: 4, canary: 4 } },
  ])(
    'follows a scale made during a pause (dynamicStableScale $dynamicStableScale): the next step and promotion keep 8',
    async ({ dynamicStableScale, atPause, next }) => {
      const name = dynamicStableScale ? 'scaled-dynamic' : 'scaled';
      await deployServing(stack.registry, { namespace: NS, name, replicas: 4 });
      const id = `local/${NS}/${name}`;
      const steps = [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }];
      await api.start(canarySpec(name, steps, dynamicStableScale));
      const first = await api.until(id, (v) => v.phase === 'Paused' && v.status?.currentStep === 1);
      expect(first.status?.replicas).toEqual(atPause);

      // An HPA or `kubectl scale` grows the workload by 4 while the canary pauses.
      await scaleWorkload(stack.registry, deployment(name), { replicas: atPause.stable + 4 });
      await api.control(id, 'promote');
      const second = await api.until(id, (v) => v.phase === 'Paused' && v.status?.currentStep === 3);
      expect(second.status?.replicas).toEqual({ total: 8, ...next });
      expect(second.status?.steps[2]?.message).toContain('outside the rollout');
      expect(await specReplicas(name)).toBe(next.stable);
      expect(await specReplicas(`${name}-canary`)).toBe(next.canary);

      await api.control(id, 'promote');
      expect((await api.finished(id)).phase).toBe('Promoted');
      expect(await specReplicas(name)).toBe(8);
      await eventually(
        () => servingPods(stack.registry, NS, name),
        (pods) => pods.stable === 8 && pods.canary === 0,
        30_000,
      );
      await removeServing(stack.registry, NS, name);
    },
  );
});
