import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionPlanInputSchema } from '../../domain/plan.ts';
import { appendAudit, auditHash, GENESIS_HASH, listAudit } from '../../store/audit.ts';
import { openDatabase, type DatabaseHandle } from '../../store/database.ts';
import { getPlan, insertPlan, markPlanFinished, updatePlanStatus } from '../../store/plans.ts';
import { startPostgres, type PostgresServer } from '../../testbed/postgres.ts';
import { sql } from 'drizzle-orm';

const plan = ActionPlanInputSchema.parse({
  id: 'store-plan',
  verb: 'scale',
  target: { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'inference' },
  params: { replicas: 3 },
  requestedBy: 'test',
  reason: 'store test',
});

const status = (phase: 'Running' | 'Succeeded') => ({
  planId: plan.id,
  phase,
  mode: 'execute' as const,
  currentStep: null,
  steps: [],
  decisions: [],
  waitingFor: null,
  message: null,
  updatedAt: new Date().toISOString(),
});

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres({
    dataDir: `${process.env.TMPDIR ?? '/tmp'}/sentinel-store-test-${process.pid}`,
  });
});
afterAll(async () => postgres?.stop());

// The same store tests run on embedded PGlite and on a real PostgreSQL server.
describe.each([
  ['PGlite', () => openDatabase({ kind: 'pglite', dataDir: 'memory://' })],
  [
    'PostgreSQL',
    async () => openDatabase({ kind: 'postgres', url: await postgres.createDatabase(`store_${Date.now()}`) }),
  ],
])('store on %s', (_name, open) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await open();
  });
  afterAll(async () => handle?.close());

  it('inserts a plan once and keeps the first row on a second insert', async () => {
    await insertPlan(handle.db, plan, { workflowId: 'plan/store-plan', digest: 'd1', phase: 'Pending' });
    await insertPlan(handle.db, plan, { workflowId: 'plan/store-plan', digest: 'd2', phase: 'Pending' });
    const row = await getPlan(handle.db, plan.id);
    expect(row).toMatchObject({ id: plan.id, digest: 'd1', phase: 'Pending', priority: 100 });
  });

  it('moves into a terminal phase exactly once and never out of it', async () => {
    await updatePlanStatus(handle.db, status('Running'));
    expect(await markPlanFinished(handle.db, status('Succeeded'))).toMatchObject({ verbs: 'scale' });
    expect(await markPlanFinished(handle.db, status('Succeeded'))).toBeUndefined();
    await updatePlanStatus(handle.db, status('Running'));
    expect((await getPlan(handle.db, plan.id))?.phase).toBe('Succeeded');
  });

  it('chains audit records by hash, appends each key once, and refuses updates', async () => {
    const entry = (key: string) => ({
      recordKey: key,
      planId: plan.id,
      stepIndex: 0,
      kind: 'step.applied',
      workload: 'local/ml/Deployment/inference',
      actor: 'test',
      at: '2026-11-26T00:00:00.000Z',
      body: { change: { replicas: { from: 2, to: 3 } } },
    });
    const first = await appendAudit(handle.db, entry('k1'));
    const again = await appendAudit(handle.db, entry('k1'));
    const second = await appendAudit(handle.db, entry('k2'));
    expect(again.seq).toBe(first.seq);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(first.hash).toBe(auditHash(GENESIS_HASH, entry('k1')));
    expect(second.prevHash).toBe(first.hash);
    expect(await listAudit(handle.db, { planId: plan.id })).toHaveLength(2);
    // drizzle wraps the database error; the trigger's message is in its cause.
    const appendOnly = { cause: { message: expect.stringMatching(/append-only/) as unknown } };
    await expect(handle.db.execute(sql`UPDATE audit_records SET actor = 'mallory'`)).rejects.toMatchObject(
      appendOnly,
    );
    await expect(handle.db.execute(sql`DELETE FROM audit_records`)).rejects.toMatchObject(appendOnly);
  });
});

describe('migrations on PostgreSQL', () => {
  it('lets several processes open an empty database at once', async () => {
    const url = await postgres.createDatabase(`race_${Date.now()}`);
    const opened = await Promise.allSettled([1, 2, 3, 4].map(() => openDatabase({ kind: 'postgres', url })));
    for (const result of opened) if (result.status === 'fulfilled') await result.value.close();
    expect(opened.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
  });
});
