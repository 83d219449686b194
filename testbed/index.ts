import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTemporalDevServer, type TemporalDevServer } from '../temporal/dev-server.ts';
import { startKafka, type KafkaBroker, type KafkaTopicSpec } from './kafka.ts';
import { startKubeCluster, type KubeCluster } from './kube.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';

/** Which real services to start; each is off unless asked for. */
export interface TestbedOptions {
  temporal?: boolean;
  /** Fixed Temporal frontend / Web UI ports (free ports when absent). */
  temporalPorts?: { port: number; uiPort: number };
  /** Kubernetes clusters to start, by name (e.g. `['alpha']`, or two for multi-cluster tests). */
  clusters?: readonly string[];
  postgres?: boolean;
  /** A Kafka broker (KRaft, from the Maven Central jars) with {@link TestbedOptions.kafkaTopics} created. */
  kafka?: boolean;
  /** Topics to create on the broker. @default [{ name: 'sentinel.events', partitions: 3 }] */
  kafkaTopics?: readonly KafkaTopicSpec[];
  /** Where data and logs go; a fresh temp folder when absent (removed on dispose unless `keep`). */
  dataDir?: string;
  keep?: boolean;
  log?: (message: string) => void;
}

/** Running services. Dispose it (`await using`) to stop every process it started. */
export interface Testbed extends AsyncDisposable {
  dataDir: string;
  temporal?: TemporalDevServer;
  clusters: Map<string, KubeCluster>;
  postgres?: PostgresServer;
  kafka?: KafkaBroker;
  /** `name=kubeconfig` pairs, the SENTINEL_CLUSTERS format. */
  clusterSpec: { name: string; kubeconfigPath: string }[];
  stop(): Promise<void>;
}

/**
 * Starts the requested real services in parallel. If any fails to start, the ones already
 * running are stopped before the error propagates, so nothing is left behind.
 */
export async function startTestbed(options: TestbedOptions): Promise<Testbed> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sentinel-testbed-'));
  const log = options.log ?? (() => undefined);
  const stack: AsyncDisposable[] = [];
  const started = Date.now();
  const timed = async <T extends AsyncDisposable>(name: string, start: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const service = await start();
    stack.push(service);
    log(`${name} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return service;
  };
  const stopAll = async () => {
    for (const service of stack.reverse())
      await Promise.resolve(service[Symbol.asyncDispose]()).catch(() => undefined);
    stack.length = 0;
    if (!options.dataDir && !options.keep) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // allSettled, not all: a failure must wait for the others to finish starting so that
    // every started process is known and stopped.
    const results = await Promise.allSettled([
      options.temporal
        ? timed('temporal', () =>
            startTemporalDevServer({ dataDir: join(dataDir, 'temporal'), ...options.temporalPorts }),
          )
        : undefined,
      options.postgres
        ? timed('postgres', () => startPostgres({ dataDir: join(dataDir, 'postgres') }))
        : undefined,
      options.kafka
        ? timed('kafka', () =>
            startKafka({
              dataDir: join(dataDir, 'kafka'),
              topics: options.kafkaTopics ?? [{ name: 'sentinel.events', partitions: 3 }],
            }),
          )
        : undefined,
      ...(options.clusters ?? []).map((name) =>
        timed(`kubernetes cluster ${name}`, () =>
          startKubeCluster({ name, dataDir: join(dataDir, 'kube', name) }),
        ),
      ),
    ]);
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    const [temporal, postgres, kafka, ...clusters] = results.map((r) =>
      r.status === 'fulfilled' ? r.value : undefined,
    ) as [
      TemporalDevServer | undefined,
      PostgresServer | undefined,
      KafkaBroker | undefined,
      ...KubeCluster[],
    ];
    log(`testbed ready in ${((Date.now() - started) / 1000).toFixed(1)}s (data in ${dataDir})`);
    const clusterMap = new Map(clusters.map((c) => [c.name, c]));
    return {
      dataDir,
      ...(temporal ? { temporal } : {}),
      ...(postgres ? { postgres } : {}),
      ...(kafka ? { kafka } : {}),
      clusters: clusterMap,
      clusterSpec: [...clusterMap.values()].map((c) => ({ name: c.name, kubeconfigPath: c.kubeconfigPath })),
      stop: stopAll,
      [Symbol.asyncDispose]: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
