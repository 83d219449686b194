import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { KubeClient } from '../k8s/client.ts';
import { KubeNotFoundError } from '../k8s/errors.ts';
import { kwokStagesYaml } from './kube-stages.ts';
import { freePorts } from './ports.ts';
import { ServiceStartError, startProcess, waitUntilReady, type ManagedProcess } from './process.ts';
import { toolBinary } from './tools.ts';

/** Options for {@link startKubeCluster}. */
export interface KubeClusterOptions {
  /** Cluster name: the kubeconfig's cluster and context name, and the name plans use. */
  name: string;
  /**
   * Folder for etcd data, certificates, kubeconfigs and logs (`logs/<component>.log`). Every
   * start is an empty cluster: etcd data and certificates left by an earlier run are discarded.
   */
  dataDir: string;
  /**
   * Simulated GPU nodes; the first half is in pool `pool-a`, the rest in `pool-b`.
   * @default 4
   */
  nodes?: number;
  /** @default 8 */
  gpusPerNode?: number;
  /**
   * Delete `dataDir` once the cluster has stopped (etcd preallocates 64 MB of WAL per cluster).
   * @default false
   */
  removeDataDirOnStop?: boolean;
}

/** A local Kubernetes control plane with kwok-simulated GPU nodes. */
export interface KubeCluster extends AsyncDisposable {
  readonly name: string;
  /** Admin kubeconfig (group `system:masters`); its cluster and context are named {@link name}. */
  readonly kubeconfigPath: string;
  /** Kubeconfig of a read-only user (the built-in `view` ClusterRole): every write is forbidden. */
  readonly viewerKubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly dataDir: string;
  /** The simulated nodes, with the GPU pool each is in. */
  readonly nodes: readonly { name: string; pool: string }[];
  /** Milliseconds from start to the first pod Ready. */
  readonly startupMs: number;
  /** Stops the kube-apiserver only (etcd and controllers keep running), for outage tests. */
  stopApiServer(): Promise<void>;
  /**
   * Starts the kube-apiserver again with the same port, certificates and data. The
   * controller-manager and scheduler restart with it (as after a control-plane reboot):
   * otherwise each object whose sync failed during the outage sits out client-go's
   * exponential requeue backoff (up to 1000 s) before its rollout moves on. kwok keeps
   * running, so the simulated nodes keep their leases.
   */
  startApiServer(): Promise<void>;
  /** Stops every process of the cluster; the data folder stays for inspection unless `removeDataDirOnStop`. */
  stop(): Promise<void>;
}

/** Labels and annotations of the simulated nodes. */
export const SimulatedNode = {
  poolLabel: 'sentinel.dev/gpu-pool',
  productLabel: 'nvidia.com/gpu.product',
  gpuResource: 'nvidia.com/gpu',
  kwokAnnotation: 'kwok.x-k8s.io/node',
  pools: { 'pool-a': 'NVIDIA-H100-80GB-HBM3', 'pool-b': 'NVIDIA-A100-SXM4-80GB' },
} as const;

const ADMIN_GROUP = 'system:masters';

function log(message: string): void {
  process.stderr.write(`[testbed/kube] ${message}\n`);
}

function kubeconfigYaml(name: string, server: string, caPem: string, user: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } },
    ],
    users: [{ name: `${name}-${user}`, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-${user}` } }],
    'current-context': name,
  });
}

async function httpOk(url: string, token?: string): Promise<boolean> {
  // The serving certificate does not exist before the apiserver writes it, so readiness
  // probes skip verification; every real client verifies against the kubeconfig's CA.
  const { request } = await import('node:https');
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        rejectUnauthorized: false,
        timeout: 2_000,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function httpPlainOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return res.ok;
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a kwok
 * controller as child processes on free loopback ports, registers simulated GPU nodes and
 * resolves once a Deployment's pods are scheduled and Ready. Every process runs in its own
 * process group and is killed when the test process exits, even after a crash.
 */
export async function startKubeCluster(options: KubeClusterOptions): Promise<KubeCluster> {
  const started = Date.now();
  const { name, dataDir } = options;
  const nodeCount = options.nodes ?? 4;
  const gpusPerNode = options.gpusPerNode ?? 8;
  const bin = {
    etcd: toolBinary('etcd', 'etcd'),
    apiserver: toolBinary('kubernetes', 'kube-apiserver'),
    controllerManager: toolBinary('kubernetes', 'kube-controller-manager'),
    scheduler: toolBinary('kubernetes', 'kube-scheduler'),
    kwok: toolBinary('kwok', 'kwok'),
  };
  const logs = join(dataDir, 'logs');
  const pki = join(dataDir, 'pki');
  for (const stale of ['etcd', 'pki', 'kcm-pki', 'scheduler-pki'])
    rmSync(join(dataDir, stale), { recursive: true, force: true });
  for (const dir of [dataDir, logs, pki]) mkdirSync(dir, { recursive: true });

  const [etcdClientPort, etcdPeerPort, apiPort, kcmPort, schedulerPort] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const server = `https://127.0.0.1:${apiPort}`;
  const adminToken = randomBytes(24).toString('hex');
  const viewerToken = randomBytes(24).toString('hex');
  writeFileSync(
    join(dataDir, 'tokens.csv'),
    `${adminToken},sentinel-admin,sentinel-admin,"${ADMIN_GROUP}"\n${viewerToken},sentinel-viewer,sentinel-viewer,"sentinel:viewers"\n`,
    { mode: 0o600 },
  );
  const serviceAccountKey = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeFileSync(join(dataDir, 'sa.key'), serviceAccountKey.privateKey, { mode: 0o600 });
  writeFileSync(join(dataDir, 'sa.pub'), serviceAccountKey.publicKey);
  writeFileSync(join(dataDir, 'kwok.yaml'), kwokStagesYaml());

  const processes: ManagedProcess[] = [];
  const spawn = (component: string, command: string, args: string[]): ManagedProcess => {
    const proc = startProcess({
      name: `${name}/${component}`,
      command,
      args,
      logFile: join(logs, `${component}.log`),
    });
    processes.push(proc);
    return proc;
  };
  const stopAll = async (): Promise<void> => {
    // Controllers first, then the apiserver, then its storage.
    const byName = (c: string): ManagedProcess[] =>
      processes.filter((p) => p.name === `${name}/${c}` && p.running);
    await Promise.all(
      ['kwok', 'kube-scheduler', 'kube-controller-manager'].flatMap(byName).map((p) => p.stop(3_000)),
    );
    await Promise.all(byName('kube-apiserver').map((p) => p.stop(3_000)));
    await Promise.all(processes.map((p) => p.stop(3_000)));
    if (options.removeDataDirOnStop) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const etcd = spawn('etcd', bin.etcd, [
      `--name=${name}`,
      `--data-dir=${join(dataDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=${name}=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync', // test data is disposable
      '--log-level=warn',
    ]);
    await waitUntilReady(etcd, () => httpPlainOk(`http://127.0.0.1:${etcdClientPort}/health`), 30_000, 100);
    const etcdMs = Date.now() - started;

    const apiserverArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${pki}`,
      `--token-auth-file=${join(dataDir, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=https://kubernetes.default.svc`,
      `--service-account-key-file=${join(dataDir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dataDir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      // No kubelets mint service-account tokens here, and simulated nodes start untainted.
      '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
      '--enable-priority-and-fairness=false',
      '--allow-privileged=true',
      '--profiling=false',
      '--endpoint-reconciler-type=none',
      '--shutdown-delay-duration=0s',
      '--shutdown-send-retry-after=false',
    ];
    const startApiServerProcess = async (): Promise<void> => {
      const proc = spawn('kube-apiserver', bin.apiserver, apiserverArgs);
      await waitUntilReady(proc, () => httpOk(`${server}/readyz`, adminToken), 90_000, 200);
    };
    await startApiServerProcess();
    const apiserverMs = Date.now() - started;

    // The apiserver writes a self-signed serving certificate (with its CA) into --cert-dir;
    // kubeconfigs trust exactly that bundle.
    const caPem = readFileSync(join(pki, 'apiserver.crt'), 'utf8');
    const kubeconfigPath = join(dataDir, 'kubeconfig');
    const viewerKubeconfigPath = join(dataDir, 'viewer.kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(name, server, caPem, 'admin', adminToken), { mode: 0o600 });
    writeFileSync(viewerKubeconfigPath, kubeconfigYaml(name, server, caPem, 'viewer', viewerToken), {
      mode: 0o600,
    });

    const startControllers = (): void => {
      spawn('kube-controller-manager', bin.controllerManager, [
        `--kubeconfig=${kubeconfigPath}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(dataDir, 'kcm-pki')}`,
        '--use-service-account-credentials=false',
        // Outage tests stop the apiserver for ~30 s; nodes must not turn NotReady meanwhile.
        '--node-monitor-grace-period=120s',
        '--concurrent-deployment-syncs=10',
        '--concurrent-replicaset-syncs=10',
        '--concurrent-statefulset-syncs=10',
        '--concurrent-job-syncs=10',
        // The default client rate limit (20 QPS) throttles pod churn under benchmark load.
        '--kube-api-qps=200',
        '--kube-api-burst=400',
      ]);
      spawn('kube-scheduler', bin.scheduler, [
        `--kubeconfig=${kubeconfigPath}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${schedulerPort}`,
        `--cert-dir=${join(dataDir, 'scheduler-pki')}`,
        '--kube-api-qps=200',
        '--kube-api-burst=400',
      ]);
    };
    startControllers();
    spawn('kwok', bin.kwok, [
      `--kubeconfig=${kubeconfigPath}`,
      `--config=${join(dataDir, 'kwok.yaml')}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${SimulatedNode.kwokAnnotation}=fake`,
      // Without a KwokConfiguration document the lease duration defaults to 0 (no leases),
      // and the node lifecycle controller would mark every node NotReady after 50 s.
      '--node-lease-duration-seconds=40',
      '--cidr=10.244.0.0/16',
      '--node-ip=10.240.0.1',
    ]);

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const client = new KubeClient(name, kubeConfig);
    const nodes = Array.from({ length: nodeCount }, (_, i) => ({
      name: `gpu-node-${i}`,
      pool: i < Math.ceil(nodeCount / 2) ? 'pool-a' : 'pool-b',
    }));
    try {
      await Promise.all([
        ...nodes.map((node) =>
          createNode(client, node.name, node.pool as keyof typeof SimulatedNode.pools, gpusPerNode),
        ),
        grantViewer(client),
      ]);
      await provePodsRun(client, processes);
    } finally {
      client.close();
    }
    const startupMs = Date.now() - started;
    log(
      `cluster ${name} ready in ${startupMs} ms (etcd ${etcdMs} ms, apiserver ${apiserverMs} ms, ` +
        `${nodeCount} nodes x ${gpusPerNode} GPUs, first pod Ready at ${startupMs} ms) — ${server}`,
    );

    return {
      name,
      kubeconfigPath,
      viewerKubeconfigPath,
      server,
      dataDir,
      nodes,
      startupMs,
      async stopApiServer() {
        const running = processes.filter((p) => p.name === `${name}/kube-apiserver` && p.running);
        await Promise.all(running.map((p) => p.stop(3_000)));
      },
      async startApiServer() {
        if (processes.some((p) => p.name === `${name}/kube-apiserver` && p.running)) return;
        await startApiServerProcess();
        const controllers = processes.filter(
          (p) =>
            p.running &&
            (p.name === `${name}/kube-controller-manager` || p.name === `${name}/kube-scheduler`),
        );
        await Promise.all(controllers.map((p) => p.stop(3_000)));
        startControllers();
      },
      stop: stopAll,
      [Symbol.asyncDispose]: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function createNode(
  client: KubeClient,
  name: string,
  pool: keyof typeof SimulatedNode.pools,
  gpus: number,
): Promise<void> {
  const capacity = {
    cpu: '64',
    memory: '512Gi',
    pods: '110',
    'ephemeral-storage': '1Ti',
    [SimulatedNode.gpuResource]: String(gpus),
  };
  await client.request({
    method: 'POST',
    path: '/api/v1/nodes',
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { [SimulatedNode.kwokAnnotation]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node.kubernetes.io/instance-type': pool === 'pool-a' ? 'gpu-h100x8' : 'gpu-a100x8',
          type: 'kwok',
          [SimulatedNode.poolLabel]: pool,
          [SimulatedNode.productLabel]: SimulatedNode.pools[pool],
          'nvidia.com/gpu.count': String(gpus),
        },
      },
      spec: {},
      status: { capacity, allocatable: capacity },
    },
    subject: { kind: 'Node', name },
  });
}

/** Lets the `sentinel:viewers` group read everything and change nothing. */
async function grantViewer(client: KubeClient): Promise<void> {
  await client.request({
    method: 'POST',
    path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'sentinel-viewers' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'sentinel:viewers' }],
    },
  });
}

/**
 * The cluster is ready when the whole chain works: the controller-manager creates pods for
 * a Deployment, the scheduler binds them to simulated nodes, and kwok marks them Ready.
 */
async function provePodsRun(client: KubeClient, processes: readonly ManagedProcess[]): Promise<void> {
  const path = '/apis/apps/v1/namespaces/default/deployments';
  const probeName = 'sentinel-readiness-probe';
  const labels = { app: probeName };
  // The default namespace and the controllers' caches appear a moment after the apiserver is ready.
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await client.request({
        method: 'POST',
        path,
        body: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: probeName, labels },
          spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: {
                containers: [
                  {
                    name: 'probe',
                    image: 'registry.k8s.io/pause:3.10',
                    resources: { limits: { 'nvidia.com/gpu': '1' } },
                  },
                ],
              },
            },
          },
        },
      });
      break;
    } catch (err) {
      if (!(err instanceof KubeNotFoundError) || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
  for (;;) {
    const failed = processes.find((p) => !p.running);
    if (failed) throw new ServiceStartError(failed.name, 'the process exited', failed.logTail());
    const deployment = await client.request<{ status?: { availableReplicas?: number } }>({
      method: 'GET',
      path: `${path}/${probeName}`,
    });
    if ((deployment.status?.availableReplicas ?? 0) >= 1) break;
    if (Date.now() > deadline) {
      const tails = processes.map((p) => `--- ${p.name}\n${p.logTail(8)}`).join('\n');
      throw new ServiceStartError('kube cluster', 'the readiness Deployment got no Ready pod in 90 s', tails);
    }
    await sleep(100);
  }
  await client.request({
    method: 'DELETE',
    path: `${path}/${probeName}`,
    body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
  });
}
