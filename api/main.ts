// Process entrypoint of the HTTP API (the `sentinel-api` container).
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/index.ts';
import { ClusterRegistry } from '../k8s/index.ts';
import { createMetrics } from '../metrics/registry.ts';
import { databaseTargetFromEnv, openDatabase } from '../store/database.ts';
import { buildApiServer } from './server.ts';

const config = loadConfig();
// Built as the worker builds it: the API reads live workloads to dry-run plans against policy.
const clusters = config.SENTINEL_CLUSTERS
  ? ClusterRegistry.fromSources(config.SENTINEL_CLUSTERS)
  : ClusterRegistry.fromKubeconfigs(config.KUBECONFIG ?? '');
const database = await openDatabase(databaseTargetFromEnv(config.SENTINEL_DATA_DIR, config));
const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
const app = buildApiServer({
  client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
  db: database.db,
  metrics: createMetrics('api'),
  logger: true,
  clusters,
  ...(config.SENTINEL_API_TOKENS ? { tokens: config.SENTINEL_API_TOKENS } : {}),
});
await app.listen({ host: config.SENTINEL_API_HOST, port: config.SENTINEL_API_PORT });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => connection.close())
      .then(() => database.close())
      .finally(() => clusters[Symbol.dispose]());
  });
}
