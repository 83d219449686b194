import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { CloudEventSchema, type CloudEvent } from '../../events/cloudevent.ts';

/** One CloudEvent as a consumer saw it on Kafka. */
export interface ReceivedEvent {
  key: string;
  partition: number;
  offset: number;
  contentType: string | undefined;
  event: CloudEvent;
}

/**
 * Reads a topic from the beginning with a fresh consumer group until `done` holds for what
 * arrived, then keeps reading for `settleMs` more so that a late duplicate would show too.
 */
export async function readEvents(options: {
  brokers: string[];
  topic: string;
  done: (events: readonly ReceivedEvent[]) => boolean;
  timeoutMs?: number;
  settleMs?: number;
}): Promise<ReceivedEvent[]> {
  const kafka = new Kafka({
    clientId: 'sentinel-test-reader',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
  const received: ReceivedEvent[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          key: message.key?.toString() ?? '',
          partition,
          offset: Number(message.offset),
          contentType: message.headers?.['content-type']?.toString(),
          event: CloudEventSchema.parse(JSON.parse(message.value?.toString() ?? 'null')),
        });
        await Promise.resolve();
      },
    });
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    while (!options.done(received)) {
      if (Date.now() > deadline)
        throw new Error(
          `events did not arrive within ${options.timeoutMs ?? 60_000} ms (got ${received.length})`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, options.settleMs ?? 1_000));
    return [...received];
  } finally {
    await consumer.disconnect();
  }
}
