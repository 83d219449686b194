// npm run bench:plans — plan apply latency (HTTP submit → workflow done, with policy gate,
// dry-run baseline, Kubernetes scale, rollout wait and audit) at fixed arrival rates, next
// to the throughput of an empty workflow on the same Temporal server. Prints figures only.
import { randomUUID } from 'node:crypto';
import { applyObject, applyWorkload, ClusterRegistry } from '../k8s/index.ts';
import { PLAN_TASK_QUEUE } from '../domain/plan-messages.ts';
import { startTestStack } from '../test/support/stack.ts';

const RATES = (process.env.BENCH_RATES ?? '5,10,20').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WORKLOADS = 40;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

await using stack = await startTestStack();
const clusters = ClusterRegistry.fromSources(stack.clusters);
await applyObject(clusters, 'local', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
for (let i = 0; i < WORKLOADS; i++) {
  await applyWorkload(clusters, 'local', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `w${i}`, namespace: 'bench' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: `w${i}` } },
      template: {
        metadata: { labels: { app: `w${i}` } },
        spec: {
          containers: [
            { name: 'c', image: 'bench:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } },
          ],
        },
      },
    },
  });
}

console.log(
  `plan apply latency, submit → Succeeded (${SECONDS}s per rate, ${WORKLOADS} workloads, local kwok cluster)`,
);
console.log('rate/s  plans   p50 ms   p99 ms   max ms   failed');
let flip = 0;
for (const rate of RATES) {
  const latencies: number[] = [];
  let failed = 0;
  const pending: Promise<void>[] = [];
  const total = rate * SECONDS;
  const started = Date.now();
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / rate;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    const id = `bench-${rate}-${n}-${randomUUID().slice(0, 8)}`;
    const replicas = 1 + (flip++ % 2 === 0 ? 1 : 0) + (Math.floor(n / WORKLOADS) % 2);
    const t0 = performance.now();
    pending.push(
      (async () => {
        const response = await fetch(new URL('/v1/plans', stack.apiUrl), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            id,
            verb: 'scale',
            target: { cluster: 'local', namespace: 'bench', kind: 'Deployment', name: `w${n % WORKLOADS}` },
            params: { replicas },
            requestedBy: 'bench',
            reason: 'benchmark',
          }),
        });
        if (response.status !== 202) throw new Error(`submit answered ${response.status}`);
        const result = (await stack.client.workflow.getHandle(`plan/${id}`).result()) as { phase: string };
        if (result.phase !== 'Succeeded') failed++;
        latencies.push(performance.now() - t0);
      })().catch(() => {
        failed++;
      }),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  console.log(
    `${String(rate).padStart(6)}  ${String(total).padStart(5)}  ${percentile(latencies, 50).toFixed(0).padStart(7)}  ${percentile(latencies, 99).toFixed(0).padStart(7)}  ${(latencies.at(-1) ?? NaN).toFixed(0).padStart(7)}  ${String(failed).padStart(7)}`,
  );
}

const NOOPS = 200;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: NOOPS }, (_, i) =>
    stack.client.workflow.execute('noopWorkflow', {
      taskQueue: PLAN_TASK_QUEUE,
      workflowId: `noop-${i}-${randomUUID()}`,
    }),
  ),
);
const seconds = (performance.now() - t0) / 1000;
console.log(
  `\nempty workflow baseline: ${NOOPS} workflows in ${seconds.toFixed(2)}s = ${(NOOPS / seconds).toFixed(1)} workflows/s (same server and worker)`,
);
