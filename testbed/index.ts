import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTemporalDevServer, type TemporalDevServer } from '../temporal/dev-server.ts';
import { startKafka, type KafkaBroker, type KafkaTopicSpec } from './kafka.ts';
import { startKubeCluster, type KubeCluster } from './kube.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';
import { startPrometheus, type PrometheusScrapeJob, type PrometheusServer } from './prometheus.ts';
import {
  startWorkloadSimulator,
  type WorkloadSimulator,
  type WorkloadSimulatorOptions,
} from './workload-simulator.ts';

/** Which real services to start; each is off unless asked for. */
export interface TestbedOptions {
  temporal?: boolean;
  /** Fixed Temporal frontend / Web UI ports (free ports when absent). */
  temporalPorts?: { port: number; uiPort: number };
  /** Kubernetes clusters to start, by name (e.g. `['alpha']`, or two for multi-cluster tests). */
  clusters?: readonly string[];
  postgres?: boolean;
  /**
   * A real Prometheus server (1 s scrape interval). It scrapes `scrapeTargets` and, when
   * {@link TestbedOptions.workloadSimulator} is on, the simulator as job `workload-simulator`.
   */
  prometheus?: boolean | { scrapeTargets?: readonly PrometheusScrapeJob[]; scrapeIntervalMs?: number };
  /** The workload simulator test fixture (synthetic per-version HTTP metrics), in this process. */
  workloadSimulator?: boolean | WorkloadSimulatorOptions;
  /** A Kafka broker (KRaft, from the Maven Central jars) with {@link TestbedOptions.kafkaTopics} created. */
  kafka?: boolean;
  /** Topics to create on the broker. @default [{ name: 'sentinel.events', partitions: 3 }] */
  kafkaTopics?: readonly KafkaTopicSpec[];
  /** Where data and logs go; a fresh temp folder when absent (removed on dispose unless `keep`). */
  dataDir?: string;
  keep?: boolean;
  log?: (message: string) => void;
  /**
   * Aborts start-up: no further service is started, the ones starting are waited for, then
   * everything started is stopped and {@link startTestbed} rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** Running services. Dispose it (`await using`) to stop every process it started. */
export interface Testbed extends AsyncDisposable {
  dataDir: string;
  temporal?: TemporalDevServer;
  clusters: Map<string, KubeCluster>;
  postgres?: PostgresServer;
  prometheus?: PrometheusServer;
  workloadSimulator?: WorkloadSimulator;
  kafka?: KafkaBroker;
  /** `name=kubeconfig` pairs, the SENTINEL_CLUSTERS format. */
  clusterSpec: { name: string; kubeconfigPath: string }[];
  stop(): Promise<void>;
}

/**
 * Starts the requested real services in parallel. If any fails to start, the ones already
 * running are stopped before the error propagates, so nothing is left behind; the same
 * happens when {@link TestbedOptions.signal} aborts during start-up.
 */
export async function startTestbed(options: TestbedOptions): Promise<Testbed> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sentinel-testbed-'));
  const log = options.log ?? (() => undefined);
  const stack: AsyncDisposable[] = [];
  const started = Date.now();
  const timed = async <T extends AsyncDisposable>(name: string, start: () => Promise<T>): Promise<T> => {
    options.signal?.throwIfAborted();
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
    // Started alongside the others; settled (never left rejected) so a failure elsewhere
    // still waits for it and stops it.
    const observability = startObservability(options, dataDir, timed).then(
      (value) => ({ status: 'fulfilled' as const, value }),
      (reason: unknown) => ({ status: 'rejected' as const, reason }),
    );
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
    const observed = await observability;
    // A stop requested while the services were starting wins over any start failure it caused.
    options.signal?.throwIfAborted();
    if (observed.status === 'rejected') throw observed.reason;
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
      ...observed.value,
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

type Timed = <T extends AsyncDisposable>(name: string, start: () => Promise<T>) => Promise<T>;

/** The workload simulator, then Prometheus scraping it (and any other targets asked for). */
async function startObservability(
  options: TestbedOptions,
  dataDir: string,
  timed: Timed,
): Promise<{ prometheus?: PrometheusServer; workloadSimulator?: WorkloadSimulator }> {
  const simulatorOptions = options.workloadSimulator;
  const workloadSimulator = simulatorOptions
    ? await timed('workload simulator', () =>
        startWorkloadSimulator(simulatorOptions === true ? {} : simulatorOptions),
      )
    : undefined;
  if (!options.prometheus) return workloadSimulator ? { workloadSimulator } : {};
  const config = options.prometheus === true ? {} : options.prometheus;
  const scrapeTargets: PrometheusScrapeJob[] = [
    ...(config.scrapeTargets ?? []),
    ...(workloadSimulator ? [{ job: 'workload-simulator', targets: [workloadSimulator.metricsTarget] }] : []),
  ];
  const prometheus = await timed('prometheus', () =>
    startPrometheus({
      dataDir: join(dataDir, 'prometheus'),
      scrapeTargets,
      ...(config.scrapeIntervalMs === undefined ? {} : { scrapeIntervalMs: config.scrapeIntervalMs }),
    }),
  );
  return workloadSimulator ? { prometheus, workloadSimulator } : { prometheus };
}
