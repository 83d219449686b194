import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLOUDEVENTS_JSON, SentinelEventType, cloudEvent } from '../../events/cloudevent.ts';
import { OutboxRelay } from '../../events/relay.ts';
import { openDatabase, type DatabaseHandle } from '../../store/database.ts';
import { enqueueEvent, listOutbox, outboxLag } from '../../store/outbox.ts';
import { startTestbed, type Testbed } from '../../testbed/index.ts';
import { readEvents } from '../support/kafka-events.ts';
import { eventually } from '../support/stack.ts';

// The acceptance test of the event relay, on a real Kafka broker and a real PostgreSQL:
// events written while Kafka is down wait in the outbox, and once it is back every event
// arrives exactly once, in order per workload.

const TOPIC = 'sentinel.events';
const workloads = ['alpha', 'beta', 'gamma', 'delta'].map((name) => `local/ml/Deployment/${name}`);

let testbed: Testbed;
let database: DatabaseHandle;
let relay: OutboxRelay;
const registry = new Registry();

beforeAll(async () => {
  testbed = await startTestbed({ postgres: true, kafka: true });
  database = await openDatabase({ kind: 'postgres', url: testbed.postgres!.url });
  relay = new OutboxRelay({
    db: database.db,
    brokers: testbed.kafka!.brokers,
    topic: TOPIC,
    registry,
    pollIntervalMs: 100,
    minBackoffMs: 100,
    maxBackoffMs: 1_000,
  }).start();
});
afterAll(async () => {
  await relay?.stop();
  await database?.close();
  await testbed?.stop();
});

/** `count` events for every workload, interleaved, each in its own transaction as a state change would be. */
async function enqueueRound(round: string, count: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    for (const workload of workloads) {
      await database.db.transaction(async (tx) => {
        await enqueueEvent(
          tx,
          cloudEvent({
            name: `test/${workload}/${round}/${n}`,
            type: SentinelEventType.StepApplied,
            subject: workload,
            time: new Date().toISOString(),
            data: { round, n },
          }),
        );
      });
    }
  }
}

const metric = async (name: string): Promise<number> =>
  (await registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);

const drained = () =>
  eventually(
    () => outboxLag(database.db),
    (lag) => lag.unsent === 0,
    90_000,
  );

it('delivers every event exactly once and in order per workload across a Kafka outage', async () => {
  const kafka = testbed.kafka!;
  await enqueueRound('before', 10);
  await drained();

  await kafka.stop();
  await enqueueRound('during', 15);
  // The relay keeps trying while the broker is down, and the lag shows what waits.
  await eventually(
    () => metric('sentinel_outbox_publish_failures_total'),
    (failures) => failures >= 2,
    30_000,
  );
  expect(await metric('sentinel_outbox_lag_events')).toBe(60);
  expect(await metric('sentinel_outbox_oldest_unsent_seconds')).toBeGreaterThan(0);
  expect((await listOutbox(database.db, { unsentOnly: true }))[0]!.attempts).toBeGreaterThan(0);

  // Events keep coming while the broker starts again.
  await Promise.all([kafka.start(), enqueueRound('after', 5)]);
  await drained();
  expect(await metric('sentinel_outbox_lag_events')).toBe(0);

  const rows = await listOutbox(database.db);
  expect(rows).toHaveLength(120);
  expect(rows.every((r) => r.sentAt !== null)).toBe(true);
  const seqOf = new Map(rows.map((r) => [r.id, r.seq]));

  const received = await readEvents({
    brokers: kafka.brokers,
    topic: TOPIC,
    done: (events) => new Set(events.map((e) => e.event.id)).size >= rows.length,
    settleMs: 2_000,
  });
  // Exactly once per id.
  expect(received).toHaveLength(rows.length);
  expect(new Set(received.map((e) => e.event.id))).toEqual(new Set(seqOf.keys()));
  for (const workload of workloads) {
    const mine = received.filter((e) => e.key === workload);
    expect(mine).toHaveLength(30);
    // One partition per workload, and its offsets follow the outbox order.
    expect(new Set(mine.map((e) => e.partition)).size).toBe(1);
    const seqs = mine.sort((a, b) => a.offset - b.offset).map((e) => seqOf.get(e.event.id)!);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(mine.every((e) => e.event.subject === workload && e.contentType === CLOUDEVENTS_JSON)).toBe(true);
  }
  expect(await metric('sentinel_outbox_published_total')).toBe(120);
});

it('lets two relays share one outbox without duplicating or reordering events', async () => {
  // A second worker's relay, running beside the first until the end of this test.
  await using _secondRelay = new OutboxRelay({
    db: database.db,
    brokers: testbed.kafka!.brokers,
    topic: TOPIC,
    pollIntervalMs: 50,
    batchSize: 7,
  }).start();
  await enqueueRound('shared', 25);
  await drained();
  const rows = (await listOutbox(database.db)).filter(
    (r) => (r.event as { data: { round?: string } }).data.round === 'shared',
  );
  expect(rows).toHaveLength(100);
  const seqOf = new Map(rows.map((r) => [r.id, r.seq]));
  const received = (
    await readEvents({
      brokers: testbed.kafka!.brokers,
      topic: TOPIC,
      done: (events) => events.filter((e) => seqOf.has(e.event.id)).length >= rows.length,
      settleMs: 1_000,
    })
  ).filter((e) => seqOf.has(e.event.id));
  expect(received).toHaveLength(rows.length);
  for (const workload of workloads) {
    const seqs = received
      .filter((e) => e.key === workload)
      .sort((a, b) => a.offset - b.offset)
      .map((e) => seqOf.get(e.event.id)!);
    expect(seqs).toHaveLength(25);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  }
});
