import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRolloutActivities,
  type ChangeAudit,
  type RolloutChange,
  type RolloutRef,
} from '../../activities/rollout-activities.ts';
import {
  ClusterRegistry,
  getWorkload,
  scaleWorkload,
  SentinelMetadata,
  waitForRollout,
  type WorkloadObject,
  type WorkloadTarget,
} from '../../k8s/index.ts';
import { resourcePath } from '../../k8s/resources.ts';
import { listAudit } from '../../store/audit.ts';
import { openDatabase, type Database, type DatabaseHandle } from '../../store/database.ts';
import { startTestbed, type Testbed } from '../../testbed/index.ts';
import { deployServing } from '../support/rollout-stack.ts';

// "Exactly once" under worker kills: a change and what records it must not be split across
// two writes that a kill can separate. A scale is one write carrying its provenance; a
// rollout change whose audit append was lost records, on retry, the change it made.
let testbed: Testbed;
let database: DatabaseHandle;
let clusters: ClusterRegistry;
const NS = 'exactly-once';

beforeAll(async () => {
  testbed = await startTestbed({ postgres: true, clusters: ['local'] });
  database = await openDatabase({ kind: 'postgres', url: testbed.postgres!.url });
  clusters = ClusterRegistry.fromSources(testbed.clusterSpec);
});
afterAll(async () => {
  clusters?.close();
  await database?.close();
  await testbed?.stop();
});

const target = (name: string): WorkloadTarget => ({
  cluster: 'local',
  namespace: NS,
  kind: 'Deployment',
  name,
});
const DEPLOYMENTS = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true };

/**
 * Every version of a Deployment stored after `resourceVersion`, up to the first for which
 * `until` holds (from a watch that replays history, so no version is missed).
 */
async function versionsAfter(
  workload: WorkloadTarget,
  resourceVersion: string,
  until: (d: WorkloadObject) => boolean,
): Promise<WorkloadObject[]> {
  const seen: WorkloadObject[] = [];
  await clusters
    .client('local')
    .watch<WorkloadObject>(
      resourcePath(DEPLOYMENTS, workload.namespace),
      { fieldSelector: `metadata.name=${workload.name}`, resourceVersion, timeoutSeconds: 30 },
      (event) => {
        if (event.type !== 'MODIFIED') return false;
        seen.push(event.object);
        return until(event.object);
      },
    );
  return seen;
}

const provenanceOf = (d: WorkloadObject) => ({
  plan: d.metadata.annotations?.[SentinelMetadata.planAnnotation],
  operation: d.metadata.annotations?.[SentinelMetadata.operationAnnotation],
});

describe('a scale carries its provenance in the same write', () => {
  it('stores the new count and the plan/operation annotations as one version, one generation', async () => {
    await deployServing(clusters, { namespace: NS, name: 'one-write', replicas: 2 });
    const before = await getWorkload(clusters, target('one-write'));

    const result = await scaleWorkload(
      clusters,
      target('one-write'),
      { replicas: 3 },
      { planId: 'plan-a', operationId: 'plan/plan-a/step/0' },
    );
    expect(result).toMatchObject({ changed: true, previous: { replicas: 2 }, applied: { replicas: 3 } });

    const versions = await versionsAfter(
      target('one-write'),
      before.metadata.resourceVersion!,
      (d) => d.spec.replicas === 3,
    );
    const first = versions.at(-1)!;
    // The first stored version with 3 replicas is the scale's own write, and it already names
    // the operation: there is no moment at which the count changed and the annotations did not.
    // One generation: a Deployment's generation counts annotation changes, so two writes made two.
    expect(first.metadata.resourceVersion).toBe(result.resourceVersion);
    expect(provenanceOf(first)).toEqual({ plan: 'plan-a', operation: 'plan/plan-a/step/0' });
    expect(first.metadata.generation).toBe(before.metadata.generation! + 1);
  });

  it('a retried scale that finds its count set without its provenance (killed between two writes) writes the provenance', async () => {
    await deployServing(clusters, { namespace: NS, name: 'resumed', replicas: 2 });
    await scaleWorkload(
      clusters,
      target('resumed'),
      { replicas: 3 },
      { planId: 'plan-old', operationId: 'plan/plan-old/step/0' },
    );
    // What a two-write scale by plan-new left when killed after its first write: the count
    // through the scale subresource, the annotations still naming plan-old.
    // No resourceVersion precondition: the controllers write the status at any moment, and this
    // stand-in for the killed attempt's first write must not race them.
    await clusters.client('local').request({
      method: 'PUT',
      path: resourcePath(DEPLOYMENTS, NS, 'resumed', 'scale'),
      body: {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: 'resumed', namespace: NS },
        spec: { replicas: 4 },
      },
    });
    await waitForRollout(clusters, target('resumed'), { timeoutMs: 60_000 });
    const killed = await getWorkload(clusters, target('resumed'));
    expect(provenanceOf(killed)).toEqual({ plan: 'plan-old', operation: 'plan/plan-old/step/0' });
    const options = { planId: 'plan-new', operationId: 'plan/plan-new/step/1' };

    // A first attempt that finds the count right claims nothing and writes nothing.
    const first = await scaleWorkload(clusters, target('resumed'), { replicas: 4 }, options);
    expect(first.changed).toBe(false);
    // Generation, not resourceVersion: the controllers' status writes move the resourceVersion
    // at any moment, while only a write of spec or annotations moves the generation.
    const untouched = await getWorkload(clusters, target('resumed'));
    expect(untouched.metadata.generation).toBe(killed.metadata.generation);
    expect(provenanceOf(untouched)).toEqual(provenanceOf(killed));

    // The retry of plan-new's operation finishes what its attempt began.
    const retry = await scaleWorkload(
      clusters,
      target('resumed'),
      { replicas: 4 },
      { ...options, resumed: true },
    );
    expect(retry).toMatchObject({ changed: false, applied: { replicas: 4 } });
    const after = await getWorkload(clusters, target('resumed'));
    expect(provenanceOf(after)).toEqual({ plan: 'plan-new', operation: 'plan/plan-new/step/1' });
    expect(after.spec.replicas).toBe(4);
    // One metadata write (a Deployment's generation counts annotation changes too).
    expect(after.metadata.generation).toBe(killed.metadata.generation! + 1);

    // Once the provenance is there, another retry writes nothing.
    await scaleWorkload(clusters, target('resumed'), { replicas: 4 }, { ...options, resumed: true });
    expect((await getWorkload(clusters, target('resumed'))).metadata.generation).toBe(
      after.metadata.generation,
    );
  });
});

/** A database as a killed worker sees it: the audit append never happens. */
const unreachable = new Proxy(
  {},
  {
    get() {
      throw new Error('worker killed before the audit append');
    },
  },
) as Database;

describe('a rollout change killed before its audit append', () => {
  const cases: { name: string; change: (name: string) => RolloutChange; field: string }[] = [
    { name: 'scale', change: (name) => ({ op: 'scale', name, replicas: 3 }), field: 'replicas' },
    {
      name: 'patchTemplate',
      change: (name) => ({
        op: 'patchTemplate',
        name,
        state: { containers: [{ name: 'server', image: 'registry.local/inference:v9' }] },
      }),
      field: 'template',
    },
  ];

  it.each(cases)('records the change it made ($name) when the retry finds it already made', async (c) => {
    const name = `audited-${c.name.toLowerCase()}`;
    await deployServing(clusters, { namespace: NS, name, replicas: 2 });
    const rollout: RolloutRef = {
      workflowId: `rollout/local/${NS}/${name}`,
      runId: 'run-1',
      rolloutId: `local/${NS}/${name}`,
      kind: 'canary',
      target: { cluster: 'local', namespace: NS, name },
      requestedBy: 'integration-test',
      reason: 'retry after a kill',
    };
    const change = c.change(name);
    const audit: ChangeAudit = { seq: 0, kind: 'rollout.promoteStable', stepIndex: 0 };
    const activities = createRolloutActivities({ db: database.db, clusters });

    // The workflow records the intended change (a dry run) before the change runs.
    const intended = await activities.applyRolloutChange({ rollout, change, audit, dryRun: true });
    expect(intended.changed).toBe(true);
    const key = `${name}.${c.field}`;
    expect(Object.keys(intended.change)).toEqual([key]);

    // Attempt 1 changes the cluster, then its worker dies before the audit append.
    const dying = createRolloutActivities({ db: unreachable, clusters });
    await expect(dying.applyRolloutChange({ rollout, change, audit, intended })).rejects.toThrow(
      /worker killed/,
    );
    expect(await listAudit(database.db, { planId: rollout.workflowId })).toEqual([]);

    // Attempt 2 finds the cluster changed and records what attempt 1 did.
    const retried = await activities.applyRolloutChange({ rollout, change, audit, intended });
    expect(retried).toMatchObject({
      changed: true,
      dryRun: false,
      change: intended.change,
      inverse: intended.inverse,
    });
    const records = await listAudit(database.db, { planId: rollout.workflowId });
    expect(records).toHaveLength(1);
    expect(records[0]!.body).toMatchObject({
      request: change,
      outcome: { changed: true, dryRun: false, change: intended.change },
    });
    expect(
      (records[0]!.body as { outcome: { change: Record<string, unknown> } }).outcome.change[key],
    ).toEqual(intended.change[key]);
  });
});
