import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners, type Producer, type TopicMessages } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Database } from '../store/database.ts';
import {
  claimOutboxBatch,
  deleteSentEvents,
  markOutboxSent,
  outboxLag,
  recordOutboxFailure,
  type OutboxRow,
} from '../store/outbox.ts';
import { CLOUDEVENTS_JSON, DEFAULT_EVENTS_TOPIC } from './cloudevent.ts';

/** Options for {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  db: Database;
  /** Kafka bootstrap servers, `host:port`. */
  brokers: readonly string[];
  /** Kafka topic for the `sentinel.events` stream. @default 'sentinel.events' */
  topic?: string;
  /** @default 'sentinel-outbox-relay' */
  clientId?: string;
  /** Names this relay in outbox claims. @default `<hostname>/<pid>/<random>` */
  relayId?: string;
  /** Events per Kafka request. @default 100 */
  batchSize?: number;
  /** How often an idle relay looks for new events. @default 250 */
  pollIntervalMs?: number;
  /** First delay after a failed publication; doubles up to `maxBackoffMs`. @default 250 */
  minBackoffMs?: number;
  /** @default 10_000 */
  maxBackoffMs?: number;
  /** How long a claim on the head of the outbox lasts without renewal. @default 30_000 */
  leaseMs?: number;
  /** Sent events older than this are deleted (0 keeps them). @default 7 days */
  retentionMs?: number;
  /** Registers the outbox lag gauges and publication counters here. */
  registry?: Registry;
  /** Operational messages (failures, recovery); silent when absent. */
  log?: (message: string) => void;
}

type OutboxRelayOptionsWithDefaults = Required<Omit<OutboxRelayOptions, 'registry' | 'log'>> &
  Pick<OutboxRelayOptions, 'registry' | 'log'>;

function withDefaults(options: OutboxRelayOptions): OutboxRelayOptionsWithDefaults {
  return {
    topic: DEFAULT_EVENTS_TOPIC,
    clientId: 'sentinel-outbox-relay',
    relayId: `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`,
    batchSize: 100,
    pollIntervalMs: 250,
    minBackoffMs: 250,
    maxBackoffMs: 10_000,
    leaseMs: 30_000,
    retentionMs: 7 * 24 * 3600 * 1000,
    ...options,
  };
}

const RETENTION_SWEEP_MS = 3600 * 1000;

/** Broker errors that mean the producer's id, epoch or sequence numbers are no longer usable. */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/** True when the broker rejected the producer's identity or sequence, so a new producer is needed. */
function needsNewProducer(err: unknown): boolean {
  let e: unknown = err;
  // kafkajs wraps the broker's error (retries exceeded, non-retriable) in `cause`.
  for (let depth = 0; e && depth < 5; depth++) {
    const { name, type, cause } = e as { name?: string; type?: string; cause?: unknown };
    if (name === 'KafkaJSProtocolError' && type && PRODUCER_STATE_ERRORS.has(type)) return true;
    e = cause;
  }
  return false;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Publishes the outbox to Kafka. Events go out in `seq` order, keyed by workload (so one
 * workload's events share a partition and keep their order), through an idempotent producer
 * with `acks: -1`; a row is marked sent only after the broker acknowledged it. While Kafka is
 * down the relay keeps the failed batch, backs off and retries that same batch, so nothing
 * is dropped or reordered. Delivery is at least once: consumers dedupe by event id.
 */
export class OutboxRelay implements AsyncDisposable {
  private readonly options: OutboxRelayOptionsWithDefaults;
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private connected = false;
  private loop: Promise<void> | undefined;
  private wake = new AbortController();
  private stopping = false;
  /** The batch that failed last; retried as it is so the broker can dedupe a lost ack. */
  private pending: OutboxRow[] | undefined;
  /** Ids the broker acknowledged but the database has not yet recorded as sent. */
  private acknowledged: string[] = [];
  private failures = 0;
  private lastSweep = 0;
  private readonly published?: Counter;
  private readonly failed?: Counter;

  constructor(options: OutboxRelayOptions) {
    this.options = withDefaults(options);
    this.kafka = new Kafka({
      clientId: this.options.clientId,
      brokers: [...this.options.brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3_000,
      requestTimeout: 15_000,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    const registry = this.options.registry;
    if (registry) {
      const db = this.options.db;
      let last: Promise<{ unsent: number; oldestUnsentSeconds: number }> | undefined;
      // Both gauges read one query per scrape.
      const read = () => (last ??= outboxLag(db).finally(() => setImmediate(() => (last = undefined))));
      new Gauge({
        name: 'sentinel_outbox_lag_events',
        help: 'Events in the outbox that have not been published to Kafka yet',
        registers: [registry],
        async collect() {
          this.set((await read()).unsent);
        },
      });
      new Gauge({
        name: 'sentinel_outbox_oldest_unsent_seconds',
        help: 'Age of the oldest event not yet published to Kafka (0 when none waits)',
        registers: [registry],
        async collect() {
          this.set((await read()).oldestUnsentSeconds);
        },
      });
      this.published = new Counter({
        name: 'sentinel_outbox_published_total',
        help: 'Events published to Kafka and acknowledged by the broker',
        registers: [registry],
      });
      this.failed = new Counter({
        name: 'sentinel_outbox_publish_failures_total',
        help: 'Failed attempts to publish a batch of outbox events',
        registers: [registry],
      });
    }
  }

  /** Starts publishing in the background; a no-op when already started. */
  start(): this {
    if (this.loop) return this;
    this.stopping = false;
    this.wake = new AbortController();
    this.loop = this.run();
    return this;
  }

  /** Stops after the batch in flight and disconnects from Kafka. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake.abort();
    await this.loop;
    this.loop = undefined;
    const producer = this.producer;
    this.producer = undefined;
    this.connected = false;
    await producer?.disconnect().catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Publishes until the outbox is empty or `stop()` is called. */
  private async run(): Promise<void> {
    while (!this.stopping) {
      const delay = await this.step().catch((err: unknown) => {
        // A database error: nothing was marked, the next round starts from the outbox again.
        this.noteFailure(err);
        return this.backoff();
      });
      if (delay > 0 && !this.stopping) await this.pause(delay);
    }
  }

  /** One round; returns how long to wait before the next. */
  private async step(): Promise<number> {
    if (this.acknowledged.length > 0) {
      await markOutboxSent(this.options.db, this.acknowledged);
      this.acknowledged = [];
    }
    this.sweep();
    const claimed = await claimOutboxBatch(this.options.db, {
      relayId: this.options.relayId,
      limit: this.options.batchSize,
      leaseMs: this.options.leaseMs,
    });
    const batch = this.retryable(claimed);
    if (batch.length === 0) return this.options.pollIntervalMs;
    try {
      await this.publish(batch);
    } catch (err) {
      this.pending = batch;
      this.noteFailure(err);
      this.failed?.inc();
      await recordOutboxFailure(
        this.options.db,
        batch.map((r) => r.id),
        describe(err),
      ).catch(() => undefined);
      if (needsNewProducer(err)) await this.resetProducer();
      return this.backoff();
    }
    this.pending = undefined;
    this.acknowledged = batch.map((r) => r.id);
    this.published?.inc(batch.length);
    if (this.failures > 0)
      this.options.log?.(`outbox relay: Kafka reachable again after ${this.failures} failed attempts`);
    this.failures = 0;
    await markOutboxSent(this.options.db, this.acknowledged);
    this.acknowledged = [];
    return 0;
  }

  /**
   * The failed batch again while it still heads the claimed rows (so the producer resends the
   * same records with the same sequence numbers), else the freshly claimed rows.
   */
  private retryable(claimed: OutboxRow[]): OutboxRow[] {
    const pending = this.pending;
    if (pending && pending.length <= claimed.length && pending.every((r, i) => claimed[i]!.id === r.id))
      return pending;
    this.pending = undefined;
    return claimed;
  }

  private async publish(rows: readonly OutboxRow[]): Promise<void> {
    const producer = await this.connectedProducer();
    const byTopic = new Map<string, TopicMessages>();
    for (const row of rows) {
      const topic = row.topic === DEFAULT_EVENTS_TOPIC ? this.options.topic : row.topic;
      let entry = byTopic.get(topic);
      if (!entry) byTopic.set(topic, (entry = { topic, messages: [] }));
      entry.messages.push({
        key: row.key,
        value: JSON.stringify(row.event),
        headers: { 'content-type': CLOUDEVENTS_JSON },
      });
    }
    await producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1 });
  }

  private async connectedProducer(): Promise<Producer> {
    this.producer ??= this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Few retries inside kafkajs: the relay retries the same batch itself, with backoff,
      // for as long as Kafka stays down.
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
    return this.producer;
  }

  private async resetProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.connected = false;
    this.pending = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private noteFailure(err: unknown): void {
    this.failures += 1;
    if (this.failures === 1 || this.failures % 20 === 0)
      this.options.log?.(`outbox relay: attempt ${this.failures} failed, retrying: ${describe(err)}`);
  }

  private backoff(): number {
    const exp = Math.min(this.failures, 16);
    return Math.min(this.options.maxBackoffMs, this.options.minBackoffMs * 2 ** Math.max(0, exp - 1));
  }

  private sweep(): void {
    if (this.options.retentionMs <= 0 || Date.now() - this.lastSweep < RETENTION_SWEEP_MS) return;
    this.lastSweep = Date.now();
    void deleteSentEvents(this.options.db, this.options.retentionMs).catch(() => undefined);
  }

  /** Sleeps, returning early when `stop()` is called. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.wake.signal }).catch(() => undefined);
  }
}
