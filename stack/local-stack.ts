import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApiServer } from '../api/server.ts';
import type { Config } from '../config/index.ts';
import { OutboxRelay } from '../events/relay.ts';
import { ClusterRegistry } from '../k8s/index.ts';
import { createMetrics } from '../metrics/registry.ts';
import { databaseTargetFromEnv, openDatabase, type DatabaseHandle } from '../store/database.ts';
import { startTestbed, type Testbed } from '../testbed/index.ts';
import type { WorkloadSimulatorOptions } from '../testbed/workload-simulator.ts';
import { createPlanWorker } from '../workers/plan-worker.ts';
import { installWorkerRuntime } from '../workers/runtime.ts';
import { connectTemporalClient } from './temporal-connection.ts';

/** What {@link startLocalStack} started, with the addresses a user needs. */
export interface LocalStack extends AsyncDisposable {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | null;
  clusters: { name: string; kubeconfigPath: string }[];
  database: DatabaseHandle;
  client: Client;
  testbed: Testbed;
  /** Publishes the event outbox to Kafka; running only when `KAFKA_BROKERS` is set. */
  relay?: OutboxRelay;
  stop(): Promise<void>;
}

/**
 * Sentinel in one process: the API and a plan worker, over the embedded services that the
 * configuration does not point elsewhere (Temporal dev server unless TEMPORAL_ADDRESS is
 * set, a local cluster unless KUBECONFIG / SENTINEL_CLUSTERS is set, PGlite unless
 * DATABASE_URL is set).
 *
 * When `options.signal` aborts during start-up (Ctrl-C on `sentinel dev`), start-up ends at
 * the next step: what has started is stopped in reverse order and the promise rejects with
 * the signal's reason, so nothing is left behind.
 */
export async function startLocalStack(
  config: Config,
  options: {
    externalTemporal: boolean;
    log: (message: string) => void;
    temporalPorts?: { port: number; uiPort: number };
    /**
     * Also start a Prometheus server and the workload simulator test fixture (scraped by it),
     * for rollout analyses; the worker queries that Prometheus unless `PROMETHEUS_URL` is set.
     */
    observability?: { workloadSimulator?: WorkloadSimulatorOptions };
    /** Aborts start-up: the services started so far are stopped and the start rejects. */
    signal?: AbortSignal;
  },
): Promise<LocalStack> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const useLocalCluster = !config.SENTINEL_CLUSTERS && !config.KUBECONFIG;
  const testbed = await startTestbed({
    temporal: !options.externalTemporal,
    clusters: useLocalCluster ? ['local'] : [],
    dataDir: join(config.SENTINEL_DATA_DIR, 'dev'),
    log: options.log,
    ...(options.temporalPorts ? { temporalPorts: options.temporalPorts } : {}),
    ...(options.observability && {
      prometheus: true,
      workloadSimulator: options.observability.workloadSimulator ?? true,
    }),
    ...(signal ? { signal } : {}),
  });
  // Stopped in reverse order of start: HTTP first (no new requests), then the worker
  // (drained), then the Temporal connections, the database, and the services last.
  const cleanups: (() => Promise<unknown>)[] = [() => testbed.stop()];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
    })());
  try {
    signal?.throwIfAborted();
    const temporalAddress = testbed.temporal?.address ?? config.TEMPORAL_ADDRESS;
    const clusterSpec = useLocalCluster ? testbed.clusterSpec : (config.SENTINEL_CLUSTERS ?? []);
    const clusters =
      useLocalCluster || config.SENTINEL_CLUSTERS
        ? ClusterRegistry.fromSources(clusterSpec)
        : ClusterRegistry.fromKubeconfigs(config.KUBECONFIG!);
    const database = await openDatabase(databaseTargetFromEnv(config.SENTINEL_DATA_DIR, config));
    cleanups.push(() => database.close());
    signal?.throwIfAborted();

    const temporalClient = await connectTemporalClient(temporalAddress);
    cleanups.push(() => temporalClient.close());
    signal?.throwIfAborted();
    const connection = temporalClient.connection;
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });

    const workerMetrics = createMetrics('worker');
    const prometheusUrl = config.PROMETHEUS_URL ?? testbed.prometheus?.url;
    // This process stops the worker itself, in order (see stop); the SDK must not race it.
    installWorkerRuntime(undefined, []);
    const { worker, connection: workerConnection } = await createPlanWorker({
      temporalAddress,
      namespace: config.TEMPORAL_NAMESPACE,
      deps: { db: database.db, clusters, metrics: workerMetrics, temporal: client },
      ...(prometheusUrl && { prometheusUrl }),
    });
    const running: Promise<void> = worker.run();
    cleanups.push(async () => {
      shutdownWorker(worker);
      await running;
      await workerConnection.close();
    });

    // Events always land in the outbox; they leave it only when there is a Kafka to go to.
    const relay = config.KAFKA_BROKERS
      ? new OutboxRelay({
          db: database.db,
          brokers: config.KAFKA_BROKERS,
          topic: config.KAFKA_TOPIC,
          registry: workerMetrics.registry,
          log: options.log,
        }).start()
      : undefined;
    if (relay) cleanups.push(() => relay.stop());

    const api: FastifyInstance = buildApiServer({
      client,
      db: database.db,
      metrics: createMetrics('api'),
      clusters,
      ...(config.SENTINEL_API_TOKENS ? { tokens: config.SENTINEL_API_TOKENS } : {}),
    });
    signal?.throwIfAborted();
    const apiUrl = await api.listen({ host: config.SENTINEL_API_HOST, port: config.SENTINEL_API_PORT });
    cleanups.push(() => api.close());
    signal?.throwIfAborted();
    return {
      apiUrl,
      temporalAddress,
      temporalUiUrl: testbed.temporal?.uiUrl ?? null,
      clusters: clusterSpec.map((c) => ({ name: c.name, kubeconfigPath: c.kubeconfigPath })),
      database,
      client,
      testbed,
      ...(relay ? { relay } : {}),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function shutdownWorker(worker: Worker): void {
  if (worker.getState() === 'RUNNING') worker.shutdown();
}
