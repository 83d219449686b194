// npm run bench:rollouts — three figures of progressive delivery on the real services:
//   1. abort → only stable pods serve (a canary at 50% paused; target < 2 s);
//   2. the simulated canary turns bad → the rollout starts rolling back (target ≤ one analysis
//      interval after Prometheus can see it);
//   3. the memory of one worker process holding N concurrent paused rollouts (default 200).
// Prints figures only. Knobs: BENCH_ABORT_RUNS (5), BENCH_DETECT_RUNS (3), BENCH_ROLLOUTS (200);
// 0 skips a part.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { queryPrometheus } from '../activities/prometheus.ts';
import { RolloutService } from '../api/rollout-service.ts';
import { RolloutSpecSchema, type RolloutSpecInput, type RolloutStatus } from '../domain/rollout.ts';
import { abortRolloutSignal, rolloutStatusQuery } from '../domain/rollout-messages.ts';
import { applyObject, applyWorkload, ClusterRegistry } from '../k8s/index.ts';
import { listOutbox } from '../store/outbox.ts';
import { startTestbed } from '../testbed/index.ts';
import { startWorkerProcess } from '../testbed/worker-process.ts';
import {
  deployServing,
  FAILING,
  HEALTHY,
  removeServing,
  servingPods,
  startRolloutStack,
} from '../test/support/rollout-stack.ts';
import { eventually } from '../test/support/stack.ts';

const ABORT_RUNS = Number(process.env.BENCH_ABORT_RUNS ?? 5);
const DETECT_RUNS = Number(process.env.BENCH_DETECT_RUNS ?? 3);
const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 200);
const INTERVAL_S = 1;
const THRESHOLD = 0.1;

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return `median ${median.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (n=${sorted.length})`;
};
const spec = (name: string, extra: Partial<RolloutSpecInput>): RolloutSpecInput => ({
  target: { cluster: 'local', namespace: 'bench', name },
  template: { containers: [{ name: 'server', image: 'registry.local/inference:v2' }] },
  strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
  progressDeadlineSeconds: 120,
  requestedBy: 'bench',
  reason: 'benchmark',
  ...extra,
});
const fastErrorRatio = (version: string) =>
  `sum(rate(http_requests_total{version="${version}",status="500"}[3s])) / sum(rate(http_requests_total{version="${version}"}[3s]))`;

// ---------------------------------------------------------------------------------------------
// 1 and 2: on the local stack (in-process worker), with Prometheus and the simulator.
if (ABORT_RUNS + DETECT_RUNS > 0) {
  await using stack = await startRolloutStack();
  const rollouts = new RolloutService(stack.client);

  const abortMs: number[] = [];
  const abortDoneMs: number[] = [];
  for (let run = 0; run < ABORT_RUNS; run++) {
    const name = `abort-${run}`;
    await deployServing(stack.registry, { namespace: 'bench', name, replicas: 4 });
    await rollouts.start(RolloutSpecSchema.parse(spec(name, {})));
    const handle = stack.client.workflow.getHandle(`rollout/local/bench/${name}`);
    await eventually(
      () => handle.query(rolloutStatusQuery),
      (s: RolloutStatus) => s.phase === 'Paused',
      60_000,
    );
    await eventually(
      () => servingPods(stack.registry, 'bench', name),
      (p) => p.canary === 2 && p.stable === 4,
      60_000,
    );
    const t0 = performance.now();
    await handle.signal(abortRolloutSignal, { actor: 'bench', reason: 'benchmark abort' });
    for (;;) {
      const pods = await servingPods(stack.registry, 'bench', name);
      if (pods.canary === 0 && pods.stable === 4) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    abortMs.push(performance.now() - t0);
    await handle.result();
    abortDoneMs.push(performance.now() - t0);
    await removeServing(stack.registry, 'bench', name);
  }
  if (ABORT_RUNS > 0) {
    console.log('abort signal → only stable pods serve (canary 50% of 4, paused; no Ready canary pod left):');
    console.log(`  ${stats(abortMs)}   target < 2000 ms`);
    console.log(`  abort signal → rollout ended (Aborted, canary Deployment deleted): ${stats(abortDoneMs)}`);
  }

  const visibleMs: number[] = [];
  const rollbackMs: number[] = [];
  const afterVisibleMs: number[] = [];
  for (let run = 0; run < DETECT_RUNS; run++) {
    const name = `detect-${run}`;
    const version = `detect-${run}`;
    stack.testbed.workloadSimulator!.setProfile(version, HEALTHY);
    await eventually(
      () => queryPrometheus(stack.testbed.prometheus!.url, fastErrorRatio(version)),
      (v) => v.length === 1 && v[0]! < 0.05,
      30_000,
    );
    await deployServing(stack.registry, { namespace: 'bench', name, replicas: 2 });
    await rollouts.start(
      RolloutSpecSchema.parse(
        spec(name, {
          strategy: {
            canary: {
              steps: [{ setWeight: 50 }, { pause: {} }],
              analysis: {
                templates: [{ templateName: 'guard' }],
                args: [{ name: 'version', value: version }],
              },
            },
          },
          analysisTemplates: [
            {
              name: 'guard',
              args: [{ name: 'version' }],
              metrics: [
                {
                  name: 'error-rate',
                  provider: { prometheus: { query: fastErrorRatio('{{args.version}}') } },
                  failureCondition: `result[0] >= ${THRESHOLD}`,
                  interval: `${INTERVAL_S}s`,
                },
              ],
            },
          ],
        }),
      ),
    );
    const handle = stack.client.workflow.getHandle(`rollout/local/bench/${name}`);
    await eventually(
      () => handle.query(rolloutStatusQuery),
      (s: RolloutStatus) => s.phase === 'Paused' && (s.analyses[0]?.metrics[0]?.counts.measured ?? 0) >= 2,
      60_000,
    );
    const bad = Date.now();
    stack.testbed.workloadSimulator!.setProfile(version, FAILING);
    const visible = await eventually(
      async () => ({
        values: await queryPrometheus(stack.testbed.prometheus!.url, fastErrorRatio(version)),
        at: Date.now(),
      }),
      ({ values }) => values.length === 1 && values[0]! >= THRESHOLD,
      30_000,
    );
    await handle.result();
    const events = await listOutbox(stack.database.db, { key: `local/bench/Deployment/${name}` });
    const rollingBack = events.find(
      (e) => (e.event as { data: { phase?: string } }).data.phase === 'RollingBack',
    )!;
    const started = Date.parse((rollingBack.event as { time: string }).time);
    visibleMs.push(visible.at - bad);
    rollbackMs.push(started - bad);
    afterVisibleMs.push(started - visible.at);
    await removeServing(stack.registry, 'bench', name);
  }
  if (DETECT_RUNS > 0) {
    console.log(
      `\nsimulator turns bad (50% errors) → rollback starts (background analysis every ${INTERVAL_S}s, error ratio over 3s ≥ ${THRESHOLD}, 1s scrape):`,
    );
    console.log(`  bad → rollback starts:                 ${stats(rollbackMs)}`);
    console.log(`  bad → Prometheus shows the ratio:      ${stats(visibleMs)}`);
    console.log(
      `  Prometheus shows it → rollback starts: ${stats(afterVisibleMs)}   target ≤ ${INTERVAL_S * 1000} ms`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// 3: a worker process of its own (workers/main.ts), holding N paused rollouts.
if (ROLLOUTS > 0) {
  await using testbed = await startTestbed({ temporal: true, clusters: ['local'] });
  const clusters = ClusterRegistry.fromSources(testbed.clusterSpec);
  await applyObject(clusters, 'local', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  const logFile = join(testbed.dataDir, 'bench-worker.log');
  const worker = await startWorkerProcess({
    name: 'bench-worker',
    logFile,
    env: {
      TEMPORAL_ADDRESS: testbed.temporal!.address,
      SENTINEL_DATA_DIR: join(testbed.dataDir, 'worker'),
      SENTINEL_CLUSTERS: testbed.clusterSpec.map((c) => `${c.name}=${c.kubeconfigPath}`).join(','),
    },
  });
  try {
    const ready = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('sentinel worker ready'))!;
    const { metricsPort } = JSON.parse(ready) as { metricsPort: number };
    const memory = async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const value = (name: string) =>
        Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1]);
      return {
        rss: value('sentinel_process_resident_memory_bytes') / 2 ** 20,
        heap: value('sentinel_nodejs_heap_size_used_bytes') / 2 ** 20,
      };
    };
    const connection = await Connection.connect({ address: testbed.temporal!.address });
    const rollouts = new RolloutService(new Client({ connection }));
    for (let i = 0; i < ROLLOUTS; i++) {
      await applyWorkload(clusters, 'local', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `m${i}`, namespace: 'bench' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: `m${i}` } },
          template: {
            metadata: { labels: { app: `m${i}` } },
            spec: {
              containers: [
                {
                  name: 'server',
                  image: 'registry.local/inference:v1',
                  resources: { requests: { cpu: '10m' } },
                },
              ],
            },
          },
        },
      });
    }
    const idle = await memory();
    const t0 = performance.now();
    for (let i = 0; i < ROLLOUTS; i++) {
      await rollouts.start(
        RolloutSpecSchema.parse(
          spec(`m${i}`, {
            strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }], dynamicStableScale: true } },
          }),
        ),
      );
    }
    await eventually(
      async () =>
        (await rollouts.list({ phase: 'Paused', namespace: 'bench', running: true, limit: ROLLOUTS })).length,
      (n) => n === ROLLOUTS,
      600_000,
    );
    const seconds = (performance.now() - t0) / 1000;
    // Let the cache and the garbage collector settle before reading.
    await new Promise((r) => setTimeout(r, 5_000));
    const held = await memory();
    console.log(
      `\nworker memory (one workers/main.ts process, its /metrics), ${ROLLOUTS} concurrent paused canaries:`,
    );
    console.log(
      `  idle (worker started, no rollout):   RSS ${idle.rss.toFixed(0)} MiB, heap used ${idle.heap.toFixed(0)} MiB`,
    );
    console.log(
      `  ${ROLLOUTS} paused (each at 50%, 1 canary pod): RSS ${held.rss.toFixed(0)} MiB, heap used ${held.heap.toFixed(0)} MiB`,
    );
    console.log(
      `  per paused rollout: ${(((held.rss - idle.rss) * 1024) / ROLLOUTS).toFixed(0)} KiB RSS, ${(((held.heap - idle.heap) * 1024) / ROLLOUTS).toFixed(0)} KiB heap` +
        `   (all ${ROLLOUTS} started and paused in ${seconds.toFixed(0)} s)`,
    );
    await connection.close();
  } finally {
    await worker.stop();
  }
}
