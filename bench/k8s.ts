/**
 * Latency of the Kubernetes driver's scale and update verbs against a local testbed cluster
 * (etcd + kube-apiserver + controllers + kwok GPU nodes).
 *
 *   npm run bench:k8s                      # 200 API calls per verb, 20 full rollouts
 *   npm run bench:k8s -- --iterations 500 --rollouts 50
 *
 * "api" rows time the verb alone (read, compare, conditional write); "rollout" rows include
 * waiting, by watch, until the pods of the new state are Ready.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ClusterRegistry,
  applyObject,
  applyWorkload,
  scaleWorkload,
  updateWorkload,
  waitForRollout,
  type WorkloadTarget,
} from '../k8s/index.ts';
import { startKubeCluster } from '../testbed/kube.ts';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '200' },
    rollouts: { type: 'string', default: '20' },
  },
});
const iterations = Number(values.iterations);
const rollouts = Number(values.rollouts);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

interface Row {
  name: string;
  samples: number[];
}

async function measure(
  name: string,
  count: number,
  operation: (i: number) => Promise<unknown>,
): Promise<Row> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await operation(i);
    samples.push(performance.now() - started);
  }
  return { name, samples };
}

function report(rows: readonly Row[]): void {
  const header = ['operation', 'n', 'median ms', 'p99 ms', 'min ms', 'max ms'];
  const lines = rows.map((row) => {
    const sorted = [...row.samples].sort((a, b) => a - b);
    return [
      row.name,
      String(sorted.length),
      percentile(sorted, 50).toFixed(1),
      percentile(sorted, 99).toFixed(1),
      (sorted[0] ?? NaN).toFixed(1),
      (sorted.at(-1) ?? NaN).toFixed(1),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const format = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-k8s-'));
  try {
    await using cluster = await startKubeCluster({ name: 'bench', dataDir });
    console.log(`cluster started in ${cluster.startupMs} ms`);
    using registry = ClusterRegistry.fromSources([{ name: 'bench', kubeconfigPath: cluster.kubeconfigPath }]);
    const target: WorkloadTarget = {
      cluster: 'bench',
      namespace: 'bench',
      kind: 'Deployment',
      name: 'trainer',
    };
    await applyObject(registry, 'bench', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'bench' },
    });
    await applyWorkload(registry, 'bench', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'trainer', namespace: 'bench' },
      spec: {
        replicas: 1,
        revisionHistoryLimit: 2,
        selector: { matchLabels: { app: 'trainer' } },
        template: {
          metadata: { labels: { app: 'trainer' } },
          spec: {
            containers: [
              {
                name: 'main',
                image: 'registry.example/trainer:0',
                resources: { limits: { 'nvidia.com/gpu': '1' } },
              },
            ],
          },
        },
      },
    });
    await waitForRollout(registry, target, { timeoutMs: 60_000 });
    // Warm up connections and the apiserver's caches.
    for (let i = 0; i < 5; i++) await scaleWorkload(registry, target, 1 + (i % 2));
    await scaleWorkload(registry, target, 1, { wait: true });

    const rows: Row[] = [];
    rows.push(
      await measure('scale (api)', iterations, (i) => scaleWorkload(registry, target, 1 + ((i + 1) % 2))),
    );
    rows.push(
      await measure('scale no-op (api)', iterations, () =>
        scaleWorkload(registry, target, 1 + (iterations % 2)),
      ),
    );
    rows.push(
      await measure('update image (api)', iterations, (i) =>
        updateWorkload(registry, target, { container: 'main', image: `registry.example/trainer:${i + 1}` }),
      ),
    );
    await waitForRollout(registry, target, { timeoutMs: 120_000 });
    await scaleWorkload(registry, target, 1, { wait: true });
    rows.push(
      await measure('scale + rollout', rollouts, (i) =>
        scaleWorkload(registry, target, 1 + ((i + 1) % 2), { wait: { timeoutMs: 60_000 } }),
      ),
    );
    await scaleWorkload(registry, target, 2, { wait: true });
    rows.push(
      await measure('update + rollout', rollouts, (i) =>
        updateWorkload(
          registry,
          target,
          { container: 'main', image: `registry.example/trainer:r${i}` },
          { wait: { timeoutMs: 60_000 } },
        ),
      ),
    );
    console.log('');
    report(rows);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
