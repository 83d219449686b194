import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionPlanInputSchema, type PlanStatus } from '../../domain/plan.ts';
import { CloudEventSchema, SentinelEventType, cloudEvent, eventId } from '../../events/cloudevent.ts';
import { appendAudit, listAudit } from '../../store/audit.ts';
import { openDatabase, type DatabaseHandle } from '../../store/database.ts';
import {
  claimOutboxBatch,
  enqueueEvent,
  listOutbox,
  markOutboxSent,
  outboxLag,
  recordOutboxFailure,
} from '../../store/outbox.ts';
import { getPlan, insertPlan, markPlanFinished, updatePlanStatus } from '../../store/plans.ts';
import { startPostgres, type PostgresServer } from '../../testbed/postgres.ts';

// Events are written in the same transaction as the state they describe: both commit, or
// neither does, on embedded PGlite and on a real PostgreSQL server alike.

const workload = 'local/ml/Deployment/inference';
const plan = ActionPlanInputSchema.parse({
  id: 'outbox-plan',
  verb: 'scale',
  target: { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'inference' },
  params: { replicas: 3 },
  requestedBy: 'test',
  reason: 'outbox test',
});

const status = (phase: PlanStatus['phase'], updatedAt: string): PlanStatus => ({
  planId: plan.id,
  phase,
  mode: 'execute',
  currentStep: null,
  steps: [],
  decisions: [],
  waitingFor: null,
  message: null,
  updatedAt,
});

const auditEntry = (key: string, kind = 'step.applied') => ({
  recordKey: key,
  planId: plan.id,
  stepIndex: 0,
  kind,
  workload,
  actor: 'test',
  at: '2026-11-26T00:00:00.000Z',
  body: { change: { replicas: { from: 2, to: 3 } } },
});

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres({
    dataDir: `${process.env.TMPDIR ?? '/tmp'}/sentinel-outbox-store-test-${process.pid}`,
  });
});
afterAll(async () => postgres?.stop());

describe.each([
  ['PGlite', () => openDatabase({ kind: 'pglite', dataDir: 'memory://' })],
  [
    'PostgreSQL',
    async () =>
      openDatabase({ kind: 'postgres', url: await postgres.createDatabase(`outbox_${Date.now()}`) }),
  ],
])('outbox on %s', (_name, open) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await open();
  });
  afterAll(async () => handle?.close());

  const types = async () => (await listOutbox(handle.db, { key: workload })).map((r) => r.type);

  it('writes plan.submitted with the plan row, once', async () => {
    await insertPlan(handle.db, plan, { workflowId: 'plan/outbox-plan', digest: 'd1', phase: 'Pending' });
    await insertPlan(handle.db, plan, { workflowId: 'plan/outbox-plan', digest: 'd1', phase: 'Pending' });
    const rows = await listOutbox(handle.db);
    expect(rows).toHaveLength(1);
    const event = CloudEventSchema.parse(rows[0]!.event);
    expect(event).toMatchObject({
      specversion: '1.0',
      id: eventId('plan/outbox-plan/submitted'),
      source: 'sentinel',
      type: SentinelEventType.PlanSubmitted,
      subject: workload,
      datacontenttype: 'application/json',
      planid: plan.id,
      data: { planId: plan.id, workflowId: 'plan/outbox-plan', workloads: [workload] },
    });
    expect(rows[0]).toMatchObject({ key: workload, topic: 'sentinel.events', sentAt: null, attempts: 0 });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('emits phase.changed only when the phase changes, and once per retried write', async () => {
    const running = status('Running', '2026-11-26T00:00:01.000Z');
    await updatePlanStatus(handle.db, running);
    await updatePlanStatus(handle.db, running); // a retried activity
    await updatePlanStatus(handle.db, { ...running, currentStep: 0, updatedAt: '2026-11-26T00:00:02.000Z' });
    await updatePlanStatus(handle.db, status('Paused', '2026-11-26T00:00:03.000Z'));
    await updatePlanStatus(handle.db, status('Running', '2026-11-26T00:00:04.000Z'));
    const phases = (await listOutbox(handle.db, { type: SentinelEventType.PlanPhaseChanged })).map(
      (r) => CloudEventSchema.parse(r.event).data,
    );
    expect(phases.map((d) => `${String(d.from)}->${String(d.phase)}`)).toEqual([
      'Pending->Running',
      'Running->Paused',
      'Paused->Running',
    ]);
  });

  it('writes step events with their audit record, keyed by the record key', async () => {
    const first = await appendAudit(handle.db, auditEntry('plan/outbox-plan/step/0/step.applied'));
    await appendAudit(handle.db, auditEntry('plan/outbox-plan/step/0/step.applied'));
    const rows = await listOutbox(handle.db, { type: SentinelEventType.StepApplied });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(eventId('audit/plan/outbox-plan/step/0/step.applied'));
    expect(CloudEventSchema.parse(rows[0]!.event).data).toMatchObject({
      planId: plan.id,
      stepIndex: 0,
      audit: { seq: first.seq, hash: first.hash },
      change: { replicas: { from: 2, to: 3 } },
    });
    // Kinds that are not plan step events go to the audit trail only.
    await appendAudit(handle.db, auditEntry('plan/outbox-plan/note', 'note'));
    expect(await listOutbox(handle.db, { key: workload })).toHaveLength(5);
  });

  it('writes plan.finished with the terminal transition, once', async () => {
    const done = status('Succeeded', '2026-11-26T00:00:05.000Z');
    expect(await markPlanFinished(handle.db, done)).toMatchObject({ verbs: 'scale' });
    expect(await markPlanFinished(handle.db, done)).toBeUndefined();
    await updatePlanStatus(handle.db, status('Running', '2026-11-26T00:00:06.000Z'));
    expect(await types()).toEqual([
      SentinelEventType.PlanSubmitted,
      SentinelEventType.PlanPhaseChanged,
      SentinelEventType.PlanPhaseChanged,
      SentinelEventType.PlanPhaseChanged,
      SentinelEventType.StepApplied,
      SentinelEventType.PlanFinished,
    ]);
    const finished = (await listOutbox(handle.db, { type: SentinelEventType.PlanFinished }))[0]!;
    expect(CloudEventSchema.parse(finished.event).data).toMatchObject({
      from: 'Running',
      phase: 'Succeeded',
    });
  });

  it('rolls the state change back when its event cannot be written, and the reverse', async () => {
    await handle.db.execute(sql`
      CREATE FUNCTION outbox_test_refuse() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'outbox refused'; END; $$ LANGUAGE plpgsql`);
    await handle.db.execute(
      sql`CREATE TRIGGER outbox_test_refuse BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION outbox_test_refuse()`,
    );
    const other = { ...plan, id: 'outbox-plan-2' };
    try {
      await expect(
        insertPlan(handle.db, other, { workflowId: 'plan/outbox-plan-2', digest: 'd', phase: 'Pending' }),
      ).rejects.toThrow();
      expect(await getPlan(handle.db, other.id)).toBeUndefined();
      await expect(
        appendAudit(handle.db, auditEntry('plan/outbox-plan/step/1/step.applied')),
      ).rejects.toThrow();
      expect(await listAudit(handle.db, { planId: plan.id })).toHaveLength(2);
    } finally {
      await handle.db.execute(sql`DROP TRIGGER outbox_test_refuse ON outbox_events`);
      await handle.db.execute(sql`DROP FUNCTION outbox_test_refuse()`);
    }
    // The other way round: an event enqueued in a transaction that fails is gone with it.
    const event = cloudEvent({
      name: 'test/rolled-back',
      type: SentinelEventType.PlanSubmitted,
      subject: workload,
      time: '2026-11-26T00:00:00.000Z',
      data: {},
    });
    await expect(
      handle.db.transaction(async (tx) => {
        await enqueueEvent(tx, event);
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    expect((await listOutbox(handle.db)).map((r) => r.id)).not.toContain(event.id);
  });

  it('hands the head of the queue to one relay at a time, in seq order', async () => {
    const all = await listOutbox(handle.db);
    const lag = await outboxLag(handle.db);
    expect(lag.unsent).toBe(all.length);
    expect(lag.oldestUnsentSeconds).toBeGreaterThanOrEqual(0);

    const a = await claimOutboxBatch(handle.db, { relayId: 'a', limit: 4 });
    expect(a.map((r) => r.seq)).toEqual(all.slice(0, 4).map((r) => r.seq));
    expect(await claimOutboxBatch(handle.db, { relayId: 'b' })).toEqual([]);
    await recordOutboxFailure(
      handle.db,
      a.map((r) => r.id),
      'broker down',
    );
    // Renewing returns the same head.
    expect((await claimOutboxBatch(handle.db, { relayId: 'a', limit: 4 })).map((r) => r.id)).toEqual(
      a.map((r) => r.id),
    );
    await markOutboxSent(
      handle.db,
      a.map((r) => r.id),
    );
    const b = await claimOutboxBatch(handle.db, { relayId: 'b' });
    expect(b.map((r) => r.seq)).toEqual(all.slice(4).map((r) => r.seq));
    expect(
      (await listOutbox(handle.db)).slice(0, 4).every((r) => r.sentAt !== null && r.attempts === 1),
    ).toBe(true);
    // An expired claim passes to the next relay.
    await claimOutboxBatch(handle.db, { relayId: 'b', leaseMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(await claimOutboxBatch(handle.db, { relayId: 'c' })).toHaveLength(b.length);
    await markOutboxSent(
      handle.db,
      b.map((r) => r.id),
    );
    expect(await outboxLag(handle.db)).toEqual({ unsent: 0, oldestUnsentSeconds: 0 });
  });
});
