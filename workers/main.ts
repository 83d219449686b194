// Process entrypoint of a plan worker (the `sentinel-worker` container): hosts the plan
// workflows and activities, serves /metrics, and drains on SIGTERM.
import { createServer } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/index.ts';
import { OutboxRelay } from '../events/relay.ts';
import { ClusterRegistry } from '../k8s/index.ts';
import { createMetrics } from '../metrics/registry.ts';
import { databaseTargetFromEnv, openDatabase } from '../store/database.ts';
import { createPlanWorker } from './plan-worker.ts';

const config = loadConfig();
const clusters = config.SENTINEL_CLUSTERS
  ? ClusterRegistry.fromSources(config.SENTINEL_CLUSTERS)
  : ClusterRegistry.fromKubeconfigs(config.KUBECONFIG ?? '');
const database = await openDatabase(databaseTargetFromEnv(config.SENTINEL_DATA_DIR, config));
const metrics = createMetrics('worker');
const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
const temporal = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
const { worker, connection } = await createPlanWorker({
  temporalAddress: config.TEMPORAL_ADDRESS,
  namespace: config.TEMPORAL_NAMESPACE,
  deps: { db: database.db, clusters, metrics, temporal },
  ...(config.PROMETHEUS_URL && { prometheusUrl: config.PROMETHEUS_URL }),
});

// Events always land in the outbox; the relay publishes them when Kafka is configured.
const relay = config.KAFKA_BROKERS
  ? new OutboxRelay({
      db: database.db,
      brokers: config.KAFKA_BROKERS,
      topic: config.KAFKA_TOPIC,
      registry: metrics.registry,
      log: (message) => console.log(JSON.stringify({ msg: message })),
    }).start()
  : undefined;

const metricsServer = createServer((req, res) => {
  if (req.url !== '/metrics') {
    res.writeHead(404).end();
    return;
  }
  void metrics.registry
    .metrics()
    .then((body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body));
});
metricsServer.listen(config.SENTINEL_WORKER_METRICS_PORT, '0.0.0.0', () => {
  const address = metricsServer.address();
  const port = typeof address === 'object' && address ? address.port : config.SENTINEL_WORKER_METRICS_PORT;
  console.log(
    JSON.stringify({ msg: 'sentinel worker ready', taskQueue: worker.options.taskQueue, metricsPort: port }),
  );
});

// worker.run() resolves once SIGINT/SIGTERM (handled by the SDK) has drained the worker.
await worker.run();
metricsServer.close();
await relay?.stop();
await connection.close();
await clientConnection.close();
await database.close();
