import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PlanView } from '../../api/plan-service.ts';
import { SentinelEventType } from '../../events/cloudevent.ts';
import { applyObject, applyWorkload, ClusterRegistry } from '../../k8s/index.ts';
import type { LocalStack } from '../../stack/local-stack.ts';
import { listOutbox } from '../../store/outbox.ts';
import { startKafka, type KafkaBroker } from '../../testbed/kafka.ts';
import { readEvents, type ReceivedEvent } from '../support/kafka-events.ts';
import { eventually, inferenceDeployment, startTestStack } from '../support/stack.ts';

// Plans submitted over HTTP run through the real pipeline (Temporal workflow, kube-apiserver,
// database) and their lifecycle events reach Kafka through the outbox relay that the stack
// starts because KAFKA_BROKERS is set.

const TOPIC = 'sentinel.plan-events-test';
const target = { cluster: 'local', namespace: 'ml', kind: 'Deployment', name: 'events-demo' } as const;
const workload = 'local/ml/Deployment/events-demo';

let kafkaDir: string;
let kafka: KafkaBroker;
let stack: LocalStack;

beforeAll(async () => {
  kafkaDir = mkdtempSync(join(tmpdir(), 'sentinel-kafka-'));
  kafka = await startKafka({ dataDir: kafkaDir, topics: [{ name: TOPIC, partitions: 3 }] });
  stack = await startTestStack({ KAFKA_BROKERS: kafka.brokers.join(','), KAFKA_TOPIC: TOPIC });
  const clusters = ClusterRegistry.fromSources(stack.clusters);
  await applyObject(clusters, 'local', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
  await applyWorkload(clusters, 'local', inferenceDeployment('events-demo', 2));
});
afterAll(async () => {
  await stack?.stop();
  await kafka?.stop();
  if (kafkaDir) rmSync(kafkaDir, { recursive: true, force: true });
});

async function submit(body: Record<string, unknown>): Promise<void> {
  const response = await fetch(new URL('/v1/plans', stack.apiUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      target,
      verb: 'scale',
      requestedBy: 'integration-test',
      reason: 'events',
      ...body,
    }),
  });
  expect(response.status).toBe(202);
}

const finished = (id: string) =>
  eventually(
    async () => (await (await fetch(new URL(`/v1/plans/${id}`, stack.apiUrl))).json()) as PlanView,
    (view) => ['Succeeded', 'Denied', 'Failed', 'RolledBack', 'Expired', 'Aborted'].includes(view.phase),
  );

it('publishes a plan lifecycle to Kafka, keyed by workload, in outbox order, once per id', async () => {
  expect(stack.relay).toBeDefined();
  await submit({ id: 'events-scale', params: { replicas: 3 } });
  expect((await finished('events-scale')).phase).toBe('Succeeded');
  await submit({ id: 'events-shadow', mode: 'shadow', params: { replicas: 5 } });
  expect((await finished('events-shadow')).phase).toBe('Succeeded');

  const isFinish = (id: string) => (e: ReceivedEvent) =>
    e.event.type === SentinelEventType.PlanFinished && e.event.planid === id;
  const received = await readEvents({
    brokers: kafka.brokers,
    topic: TOPIC,
    done: (events) => events.some(isFinish('events-scale')) && events.some(isFinish('events-shadow')),
    settleMs: 1_500,
  });
  const rows = await listOutbox(stack.database.db);
  expect(rows.every((r) => r.sentAt !== null)).toBe(true);

  // Every outbox event arrived exactly once, all on the workload's key, in outbox order.
  expect(received.map((e) => e.event.id).sort()).toEqual(rows.map((r) => r.id).sort());
  expect(new Set(received.map((e) => e.key))).toEqual(new Set([workload]));
  expect(new Set(received.map((e) => e.partition)).size).toBe(1);
  const inKafkaOrder = [...received].sort((a, b) => a.offset - b.offset).map((e) => e.event.id);
  expect(inKafkaOrder).toEqual(rows.map((r) => r.id));

  const typesOf = (id: string) =>
    [...received]
      .sort((a, b) => a.offset - b.offset)
      .filter((e) => e.event.planid === id)
      .map((e) => e.event);
  const scale = typesOf('events-scale');
  expect(scale[0]!.type).toBe(SentinelEventType.PlanSubmitted);
  expect(scale.at(-1)).toMatchObject({
    type: SentinelEventType.PlanFinished,
    data: { planId: 'events-scale', phase: 'Succeeded' },
  });
  expect(
    scale.filter((e) => e.type === SentinelEventType.PlanPhaseChanged).map((e) => e.data.phase),
  ).toContain('Running');
  const applied = scale.find((e) => e.type === SentinelEventType.StepApplied);
  expect(applied).toMatchObject({
    source: 'sentinel',
    subject: workload,
    data: { stepIndex: 0, outcome: { change: { replicas: { from: 2, to: 3 } } } },
  });
  const shadow = typesOf('events-shadow').map((e) => e.type);
  expect(shadow).toContain(SentinelEventType.StepShadowed);
  expect(shadow).not.toContain(SentinelEventType.StepApplied);
});
