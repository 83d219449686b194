import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';
import pg from 'pg';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../config/index.ts';
import { SEARCH_ATTRIBUTE_TYPES } from '../../domain/search-attributes.ts';
import {
  ClusterRegistry,
  KubeForbiddenError,
  KubeInvalidError,
  KubeNotFoundError,
  applyObject,
  applyWorkload,
  getClusterCapacity,
  getNamespaceLabels,
  listWorkloadPods,
  scaleWorkload,
  updateWorkload,
  type KubeClient,
  type KubeObject,
  type WorkloadTarget,
} from '../../k8s/index.ts';
import { openDatabase } from '../../store/database.ts';
import { startTestbed, type Testbed } from '../../testbed/index.ts';
import { freePorts } from '../../testbed/ports.ts';
import type { KubeCluster } from '../../testbed/kube.ts';
import { toolBinary } from '../../testbed/tools.ts';
import { inferenceDeployment } from '../../testbed/workloads.ts';

// The packaging DESIGN.md promises (a Helm chart and a docker-compose stack, one image built
// from the Dockerfile), checked with real tools: helm v3 lints and renders the chart, a real
// kube-apiserver from the testbed validates every rendered object as a server-side dry-run
// create, a real `helm install` proves the in-cluster RBAC is enough for the driver, promtool
// checks the compose stack's Prometheus config, and every environment variable any of them
// sets must be one config/index.ts reads. Nothing here runs a container: there is no
// container engine on the test machine (see the compose section for `docker compose config`).

const repoRoot = resolve(import.meta.dirname, '../..');
const chartDir = join(repoRoot, 'charts', 'sentinel');
const allFeaturesValues = join(chartDir, 'ci', 'all-features-values.yaml');

/** The two processes of the one image: what the Dockerfile, the chart and compose run. */
const API_COMMAND = ['node', '--import', 'tsx', 'api/main.ts'] as const;
const WORKER_COMMAND = ['node', '--import', 'tsx', 'workers/main.ts'] as const;

/** Variables that are not Sentinel settings but conventions of the runtime. */
const STANDARD_ENV = new Set(['NODE_ENV', 'NODE_OPTIONS', 'TZ']);
const CONFIG_KEYS = new Set(Object.keys(ConfigSchema.shape));
const isKnownEnv = (name: string): boolean => CONFIG_KEYS.has(name) || STANDARD_ENV.has(name);

/** Stand-ins for what the chart reads from Secrets, in the format ConfigSchema expects. */
const SECRET_SAMPLES: Record<string, string> = {
  DATABASE_URL: 'postgres://sentinel:secret@postgres.db.svc:5432/sentinel',
  SENTINEL_API_TOKENS: 'ci-token:operator,dash-token:viewer',
};

// ---------------------------------------------------------------------------------------
// helm

let helmBin: string;
let helmHome: string;

function helm(args: string[], extraEnv: Record<string, string> = {}): string {
  const result = spawnSync(helmBin, args, {
    encoding: 'utf8',
    env: {
      ...process.env,
      // helm keeps repositories, plugins and caches here; never the user's own.
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_DATA_HOME: join(helmHome, 'data'),
      ...extraEnv,
    },
    timeout: 60_000,
  });
  if (result.status !== 0) {
    throw new Error(`helm ${args.join(' ')} failed (${result.status}):\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

interface Rendered {
  namespace: string;
  objects: KubeObject[];
}

function render(namespace: string, valuesFiles: string[] = [], set: string[] = []): Rendered {
  const out = helm([
    'template',
    'sentinel',
    chartDir,
    '--namespace',
    namespace,
    ...valuesFiles.flatMap((f) => ['--values', f]),
    ...set.flatMap((s) => ['--set', s]),
  ]);
  const objects = parseAllDocuments(out)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
  return { namespace, objects };
}

function renderError(set: string[]): string {
  try {
    render('pkg-invalid', [], set);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`helm template --set ${set.join(' ')} rendered, but the chart should refuse it`);
}

// ---------------------------------------------------------------------------------------
// Views of rendered objects

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}
interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}
interface PodSpecView {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: ContainerSpec[];
  volumes?: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[];
}
interface DeploymentView {
  metadata: { name: string };
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpecView };
  };
}

const ofKind = (r: Rendered, kind: string): KubeObject[] => r.objects.filter((o) => o.kind === kind);
const kindsOf = (r: Rendered): string[] => r.objects.map((o) => o.kind!).sort();
const named = (r: Rendered, kind: string, name: string): KubeObject => {
  const found = r.objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found)
    throw new Error(
      `no ${kind} ${name} rendered (have: ${r.objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')})`,
    );
  return found;
};
const deployments = (r: Rendered): DeploymentView[] => ofKind(r, 'Deployment') as unknown as DeploymentView[];
/** Everything that runs a Sentinel container: the two Deployments and the migration hook Job. */
const podOwners = (r: Rendered): DeploymentView[] =>
  r.objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job') as unknown as DeploymentView[];
const deployment = (r: Rendered, suffix: 'api' | 'worker'): DeploymentView =>
  named(r, 'Deployment', `sentinel-${suffix}`) as unknown as DeploymentView;
const configMapData = (r: Rendered, name: string): Record<string, string> =>
  (named(r, 'ConfigMap', name) as { data?: Record<string, string> }).data ?? {};
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Names a container gets: its env entries and the keys of every ConfigMap it reads whole. */
function envNames(r: Rendered, container: ContainerSpec): string[] {
  const names = (container.env ?? []).map((e) => e.name);
  for (const source of container.envFrom ?? []) {
    if (source.secretRef)
      throw new Error(`${container.name}: envFrom a Secret hides which variables it sets`);
    if (source.configMapRef) names.push(...Object.keys(configMapData(r, source.configMapRef.name)));
  }
  return names;
}

/** The environment a container would see, Secrets replaced by well-formed samples. */
function envValues(r: Rendered, container: ContainerSpec): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, configMapData(r, source.configMapRef.name));
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      const sample = SECRET_SAMPLES[e.name];
      if (sample === undefined) throw new Error(`no sample for secret-backed ${e.name}`);
      env[e.name] = sample;
    } else if (e.valueFrom?.configMapKeyRef) {
      env[e.name] = configMapData(r, e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key] ?? '';
    } else
      throw new Error(`${container.name}: env ${e.name} has neither value nor a Secret/ConfigMap reference`);
  }
  return env;
}

// ---------------------------------------------------------------------------------------
// Dockerfile and .dockerignore

interface DockerInstruction {
  op: string;
  args: string;
}

function dockerfileInstructions(): DockerInstruction[] {
  const lines = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').split('\n');
  const out: DockerInstruction[] = [];
  let current = '';
  for (const raw of lines) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    current += (current ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const [op, ...rest] = current.split(/\s+/);
    out.push({ op: op!.toUpperCase(), args: rest.join(' ') });
    current = '';
  }
  return out;
}

/** `KEY=value KEY2="v 2"` of an ENV instruction, as names. */
function envInstructionNames(args: string): string[] {
  return [...args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]!);
}

/** Patterns of .dockerignore (Docker's matcher, for the subset the file uses: no `!` exceptions). */
function dockerignore(): RegExp[] {
  const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (patterns.some((p) => p.startsWith('!'))) {
    throw new Error('.dockerignore uses ! exceptions, which this test does not model; extend dockerignore()');
  }
  return patterns.map((p) => {
    const source = p
      .replace(/^\/+|\/+$/g, '')
      .split(/(\*\*\/|\*\*|\*|\?)/)
      .map((part) => {
        if (part === '**/') return '(?:.*/)?';
        if (part === '**') return '.*';
        if (part === '*') return '[^/]*';
        if (part === '?') return '[^/]';
        return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    return new RegExp(`^${source}$`);
  });
}

/** Whether Docker leaves a repository path out of the build context (a matched folder drops its contents). */
function ignoredByDocker(path: string, patterns: RegExp[]): boolean {
  const parts = path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (patterns.some((p) => p.test(prefix))) return true;
  }
  return false;
}

/** Runtime imports of one module (type-only imports are erased and do not count). */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS,
  );
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.importClause?.isTypeOnly) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      if (!node.isTypeOnly) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every repository file and package reachable from the entry modules. */
function importGraph(entries: string[]): { files: Set<string>; packages: Map<string, string> } {
  const builtins = new Set(builtinModules);
  const files = new Set<string>();
  const packages = new Map<string, string>(); // package → first importer
  const queue = entries.map((e) => join(repoRoot, e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    const rel = relative(repoRoot, file).split('\\').join('/');
    if (files.has(rel)) continue;
    if (!existsSync(file)) throw new Error(`${rel} is imported but does not exist`);
    files.add(rel);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith('.')) {
        let target = resolve(dirname(file), specifier);
        if (!existsSync(target) && target.endsWith('.js')) target = target.replace(/\.js$/, '.ts');
        queue.push(target);
      } else if (specifier.startsWith('node:') || builtins.has(specifier.split('/')[0]!)) {
        continue;
      } else {
        const parts = specifier.split('/');
        const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
        if (!packages.has(name)) packages.set(name, rel);
      }
    }
  }
  return { files, packages };
}

// ---------------------------------------------------------------------------------------
// docker-compose.yml

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | { type: string; source: string; target: string })[];
  ports?: (string | number)[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test: string[] | string };
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const composePath = join(repoRoot, 'docker-compose.yml');
const loadCompose = (): ComposeFile =>
  parseYaml(readFileSync(composePath, 'utf8'), { merge: true }) as ComposeFile;

/** Compose's interpolation with an empty shell environment: `${X:-default}` → default. */
function interpolate(value: string): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
    (_m, _name, fallback?: string) => fallback ?? '',
  );
}

function composeEnv(service: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  const raw = service.environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map((e) => {
        const at = e.indexOf('=');
        return [at < 0 ? e : e.slice(0, at), at < 0 ? '' : e.slice(at + 1)] as const;
      })
    : Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)] as const);
  for (const [k, v] of entries) env[k] = interpolate(v);
  return env;
}

// =======================================================================================

beforeAll(() => {
  helmBin = toolBinary('helm', 'helm');
  helmHome = mkdtempSync(join(tmpdir(), 'sentinel-helm-'));
});

afterAll(() => {
  if (helmHome) rmSync(helmHome, { recursive: true, force: true });
});

describe('Helm chart (charts/sentinel), rendered by helm', () => {
  let byDefault: Rendered;
  let allFeatures: Rendered;

  beforeAll(() => {
    byDefault = render('pkg-default');
    allFeatures = render('pkg-all', [allFeaturesValues]);
  });

  it('is helm v3 pinned by scripts/ensure-tools.sh, and `helm lint --strict` passes with default values and with every optional feature', () => {
    expect(helm(['version', '--template', '{{ .Version }}'])).toBe('v3.22.0');
    for (const args of [[], ['--values', allFeaturesValues]]) {
      const out = helm(['lint', '--strict', chartDir, ...args]);
      expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('renders the API and the worker by default, and every optional object when asked', () => {
    expect(kindsOf(byDefault)).toEqual([
      'ConfigMap',
      'Deployment',
      'Deployment',
      'Job',
      'Service',
      'Service',
      'ServiceAccount',
    ]);
    expect(kindsOf(allFeatures)).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'Deployment',
      'Job',
      'NetworkPolicy',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'Service',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
    const all = allFeatures;
    expect(deployment(all, 'api').spec.replicas).toBe(3);
    expect(deployment(all, 'worker').spec.replicas).toBe(4);
    for (const d of deployments(all)) {
      expect(d.spec.template.spec.containers[0]!.image).toBe(
        'registry.example.com/platform/sentinel:0.1.0-rc.1',
      );
      expect(d.spec.template.spec.serviceAccountName).toBe('sentinel-controller');
      // The in-cluster cluster authenticates with the pod's ServiceAccount token.
      expect(d.spec.template.spec.automountServiceAccountToken).toBe(true);
    }
    for (const d of deployments(byDefault)) {
      expect(d.spec.template.spec.containers[0]!.image).toBe('sentinel:0.1.0');
      expect(d.spec.template.spec.automountServiceAccountToken).toBe(false);
    }
  });

  it('refuses values that cannot work, naming the value', () => {
    expect(renderError(['clusters.list[0].name=east', 'clusters.list[0].file=east.yaml'])).toMatch(
      /set clusters\.kubeconfigSecret/,
    );
    expect(
      renderError([
        'clusters.kubeconfigSecret=kc',
        'clusters.list[0].name=East_1',
        'clusters.list[0].file=east.yaml',
      ]),
    ).toMatch(/"East_1" is not an RFC 1123 label/);
    expect(renderError(['database.existingSecret='])).toMatch(/database\.existingSecret is required/);
    expect(renderError(['temporal.address='])).toMatch(/temporal\.address is required/);
  });

  it('sets only environment variables config/index.ts reads, and the values parse with ConfigSchema', () => {
    for (const r of [byDefault, allFeatures]) {
      for (const d of podOwners(r)) {
        for (const container of d.spec.template.spec.containers) {
          const names = envNames(r, container);
          expect(
            names.filter((n) => !isKnownEnv(n)),
            `${d.metadata.name}/${container.name}`,
          ).toEqual([]);
          expect(new Set(names).size, `${d.metadata.name}: a variable set twice`).toBe(names.length);
          const parsed = ConfigSchema.safeParse(envValues(r, container));
          expect(parsed.error?.issues ?? [], `${d.metadata.name} in ${r.namespace}`).toEqual([]);
        }
      }
    }
    // What the values promise arrives, parsed, in both processes.
    for (const suffix of ['api', 'worker'] as const) {
      const env = envValues(allFeatures, deployment(allFeatures, suffix).spec.template.spec.containers[0]!);
      const config = ConfigSchema.parse(env);
      expect(config).toMatchObject({
        TEMPORAL_ADDRESS: 'temporal-frontend.temporal.svc.cluster.local:7233',
        TEMPORAL_NAMESPACE: 'sentinel',
        DATABASE_URL: SECRET_SAMPLES.DATABASE_URL,
        KAFKA_BROKERS: ['kafka-0.kafka.svc:9092', 'kafka-1.kafka.svc:9092'],
        KAFKA_TOPIC: 'sentinel.events.prod',
        PROMETHEUS_URL: 'http://prometheus-operated.monitoring.svc:9090',
        LOG_LEVEL: 'debug',
        SENTINEL_API_TOKENS: [
          { token: 'ci-token', role: 'operator' },
          { token: 'dash-token', role: 'viewer' },
        ],
        SENTINEL_CLUSTERS: [
          { name: 'gpu-east', kubeconfigPath: '/etc/sentinel/clusters/fleet.yaml', context: 'east' },
          { name: 'gpu-west', kubeconfigPath: '/etc/sentinel/clusters/fleet.yaml', context: 'west' },
          { name: 'training', kubeconfigPath: '/etc/sentinel/clusters/training.yaml', context: undefined },
          { name: 'local', kubeconfigPath: '/etc/sentinel/in-cluster/kubeconfig', context: undefined },
        ],
      });
      const secrets = deployment(allFeatures, suffix)
        .spec.template.spec.containers[0]!.env!.filter((e) => e.valueFrom?.secretKeyRef)
        .map((e) => [e.name, e.valueFrom!.secretKeyRef!.name, e.valueFrom!.secretKeyRef!.key]);
      expect(secrets).toEqual([
        ['DATABASE_URL', 'sentinel-postgres', 'DATABASE_URL'],
        ['SENTINEL_API_TOKENS', 'sentinel-api-tokens', 'SENTINEL_API_TOKENS'],
      ]);
    }
    const apiEnv = ConfigSchema.parse(
      envValues(allFeatures, deployment(allFeatures, 'api').spec.template.spec.containers[0]!),
    );
    expect(apiEnv).toMatchObject({ SENTINEL_API_HOST: '0.0.0.0', SENTINEL_API_PORT: 8443 });
    const workerEnv = ConfigSchema.parse(
      envValues(allFeatures, deployment(allFeatures, 'worker').spec.template.spec.containers[0]!),
    );
    expect(workerEnv.SENTINEL_WORKER_METRICS_PORT).toBe(9100);
    // Defaults: no Kafka, no Prometheus, no clusters, no tokens: those variables stay unset
    // (an empty value would not parse).
    const defaultEnv = envValues(byDefault, deployment(byDefault, 'api').spec.template.spec.containers[0]!);
    for (const unset of ['KAFKA_BROKERS', 'PROMETHEUS_URL', 'SENTINEL_CLUSTERS', 'SENTINEL_API_TOKENS'])
      expect(defaultEnv).not.toHaveProperty(unset);
  });

  it('wires each pod together: commands, ports, probes, mounts, selectors', () => {
    for (const r of [byDefault, allFeatures]) {
      const api = deployment(r, 'api');
      const worker = deployment(r, 'worker');
      for (const [d, command, portVar, probePath] of [
        [api, API_COMMAND, 'SENTINEL_API_PORT', '/healthz'],
        [worker, WORKER_COMMAND, 'SENTINEL_WORKER_METRICS_PORT', '/metrics'],
      ] as const) {
        const pod = d.spec.template.spec;
        const [container] = pod.containers;
        expect(pod.containers).toHaveLength(1);
        expect(container!.command).toEqual(command);
        expect(existsSync(join(repoRoot, command[3]))).toBe(true);
        expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
        // The port the process listens on is the one the container declares and probes use.
        const env = envValues(r, container!);
        const portNames = new Map((container!.ports ?? []).map((p) => [p.name, p.containerPort]));
        expect([...portNames.values()]).toEqual([Number(env[portVar])]);
        for (const probe of [container!.livenessProbe, container!.readinessProbe]) {
          expect(probe?.httpGet?.path).toBe(probePath);
          expect(portNames.has(String(probe?.httpGet?.port))).toBe(true);
        }
        // Non-root with a read-only root filesystem: the data dir and /tmp (tsx's cache) are volumes.
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        expect(container!.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        });
        const mounts = container!.volumeMounts ?? [];
        expect(mounts.map((m) => m.mountPath)).toEqual(
          expect.arrayContaining([env.SENTINEL_DATA_DIR, '/tmp']),
        );
        // Every kubeconfig SENTINEL_CLUSTERS names is inside a read-only mount of a Secret or ConfigMap.
        for (const source of ConfigSchema.parse(env).SENTINEL_CLUSTERS ?? []) {
          const mount = mounts.find((m) => source.kubeconfigPath.startsWith(`${m.mountPath}/`));
          expect(mount, source.kubeconfigPath).toBeDefined();
          expect(mount!.readOnly).toBe(true);
          const volume = pod.volumes?.find((v) => v.name === mount!.name);
          if (volume?.configMap) {
            expect(Object.keys(configMapData(r, volume.configMap.name))).toContain(
              posix.basename(source.kubeconfigPath),
            );
          } else expect(volume?.secret?.secretName).toBe('sentinel-kubeconfigs');
        }
        // Each Service, PDB and NetworkPolicy of this component selects these pods and names their ports.
        const podLabels = d.spec.template.metadata.labels;
        const component = podLabels['app.kubernetes.io/component']!;
        const service = named(r, 'Service', `sentinel-${component}`) as unknown as {
          metadata: { labels: Record<string, string> };
          spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] };
        };
        expect(matches(service.spec.selector, podLabels)).toBe(true);
        for (const p of service.spec.ports) expect(portNames.has(p.targetPort)).toBe(true);
        for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
          for (const o of ofKind(r, kind).filter((o) => o.metadata?.name === `sentinel-${component}`)) {
            const spec = (
              o as {
                spec: {
                  selector?: { matchLabels: Record<string, string> };
                  podSelector?: { matchLabels: Record<string, string> };
                  ingress?: { ports: { port: string }[] }[];
                };
              }
            ).spec;
            expect(matches((spec.selector ?? spec.podSelector)!.matchLabels, podLabels)).toBe(true);
            for (const rule of spec.ingress ?? [])
              for (const p of rule.ports) expect(portNames.has(p.port)).toBe(true);
          }
        }
      }
    }
    // The migration Job's pods are nobody's endpoints and count in no disruption budget.
    for (const r of [byDefault, allFeatures]) {
      const jobLabels = (named(r, 'Job', 'sentinel-migrate') as unknown as DeploymentView).spec.template
        .metadata.labels;
      for (const o of r.objects.filter((o) =>
        ['Service', 'PodDisruptionBudget', 'NetworkPolicy'].includes(o.kind!),
      )) {
        const spec = (
          o as {
            spec: {
              selector?: Record<string, string> & { matchLabels?: Record<string, string> };
              podSelector?: { matchLabels: Record<string, string> };
            };
          }
        ).spec;
        const selector = spec.podSelector?.matchLabels ?? spec.selector?.matchLabels ?? spec.selector ?? {};
        expect(matches(selector, jobLabels), `${o.kind}/${o.metadata?.name}`).toBe(false);
      }
    }
    // The ServiceMonitor (a CRD the testbed apiserver lacks, so only checked here) selects
    // both Services and scrapes each by a port name the Service has.
    const monitor = ofKind(allFeatures, 'ServiceMonitor')[0] as unknown as {
      metadata: { labels: Record<string, string> };
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
    };
    expect(monitor.metadata.labels.release).toBe('kube-prometheus-stack');
    const services = ofKind(allFeatures, 'Service') as unknown as {
      metadata: { labels: Record<string, string> };
      spec: { ports: { name: string }[] };
    }[];
    const selected = services.filter((s) => matches(monitor.spec.selector.matchLabels, s.metadata.labels));
    expect(selected).toHaveLength(2);
    expect(monitor.spec.endpoints.map((e) => `${e.port}${e.path}`).sort()).toEqual(
      selected.flatMap((s) => s.spec.ports.map((p) => `${p.name}/metrics`)).sort(),
    );
  });

  it('runs the commands the Dockerfile builds for, from files the image contains', () => {
    const patterns = dockerignore();
    for (const command of [API_COMMAND, WORKER_COMMAND])
      expect(ignoredByDocker(command[3], patterns)).toBe(false);
  });
});

describe('the image (Dockerfile, .dockerignore)', () => {
  it('is multi-stage on node:20 slim, installs production dependencies only, runs as a non-root user and starts the API', () => {
    const instructions = dockerfileInstructions();
    const globalArgs = new Map<string, string>();
    for (const i of instructions) {
      if (i.op === 'FROM') break;
      if (i.op === 'ARG') {
        const [name, value] = i.args.split('=');
        globalArgs.set(name!, value ?? '');
      }
    }
    const stages: { base: string; name?: string; instructions: DockerInstruction[] }[] = [];
    for (const i of instructions) {
      if (i.op === 'FROM') {
        const [image, as, name] = i.args.split(/\s+/);
        const base = image!.replace(/\$\{?([A-Za-z_]+)\}?/g, (_m, v: string) => globalArgs.get(v) ?? '');
        stages.push({ base, ...(as?.toUpperCase() === 'AS' && { name }), instructions: [] });
      } else stages.at(-1)?.instructions.push(i);
    }
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.base).toMatch(/^node:20(\.[\d.]+)?-(bookworm-)?slim$/);

    const deps = stages.find((s) => s.instructions.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args)));
    expect(deps, 'a stage runs npm ci').toBeDefined();
    const npmCi = deps!.instructions.find((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args))!;
    expect(npmCi.args).toContain('--omit=dev');

    const final = stages.at(-1)!;
    expect(final.instructions.some((i) => i.op === 'COPY' && i.args.includes(`--from=${deps!.name}`))).toBe(
      true,
    );
    const stageArgs = new Map(
      final.instructions.filter((i) => i.op === 'ARG').map((i) => i.args.split('=') as [string, string]),
    );
    const user = final.instructions.filter((i) => i.op === 'USER').at(-1)?.args ?? 'root';
    const uid = user
      .split(':')[0]!
      .replace(/\$\{?([A-Za-z_]+)\}?/g, (_m, v: string) => stageArgs.get(v) ?? '');
    // Numeric, so that Kubernetes' runAsNonRoot can verify it; the chart runs with the same uid.
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    const chartValues = parseYaml(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as {
      podSecurityContext: { runAsUser: number };
    };
    expect(chartValues.podSecurityContext.runAsUser).toBe(Number(uid));

    const cmd = final.instructions.filter((i) => i.op === 'CMD').at(-1)!;
    expect(JSON.parse(cmd.args)).toEqual(API_COMMAND);

    const envNamesSet = instructions
      .filter((i) => i.op === 'ENV')
      .flatMap((i) => envInstructionNames(i.args));
    expect(envNamesSet.length).toBeGreaterThan(0);
    expect(envNamesSet.filter((n) => !isKnownEnv(n))).toEqual([]);

    // tsx runs the TypeScript at run time, so it must survive --omit=dev.
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies).toHaveProperty('tsx');
  });

  it('contains every module both processes and the CLI load, and each package they import is a production dependency', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const patterns = dockerignore();
    // workflows/index.ts is loaded by the worker's bundler (a path, not an import).
    const graph = importGraph(['api/main.ts', 'workers/main.ts', 'workflows/index.ts', 'bin/sentinel.mjs']);
    expect(graph.files.size).toBeGreaterThan(50);
    expect([...graph.files].filter((f) => ignoredByDocker(f, patterns))).toEqual([]);
    const notProduction = [...graph.packages].filter(([name]) => !(name in pkg.dependencies));
    expect(notProduction.map(([name, importer]) => `${name} (imported by ${importer})`)).toEqual([]);
    // Files read at run time rather than imported: the committed migrations.
    const migrations = readdirSync(join(repoRoot, 'store', 'migrations'));
    expect(migrations.some((f) => f.endsWith('.sql'))).toBe(true);
    expect(ignoredByDocker('store/migrations/0000_initial.sql', patterns)).toBe(false);
    expect(ignoredByDocker('store/migrations/meta/_journal.json', patterns)).toBe(false);
    // ... and what the image leaves out is really left out.
    for (const path of [
      'node_modules/x',
      '.git/HEAD',
      'test/unit/a.test.ts',
      'charts/sentinel/Chart.yaml',
      'a/b.log',
    ])
      expect(ignoredByDocker(path, patterns), path).toBe(true);
  });
});

describe('docker-compose.yml', () => {
  const compose = loadCompose();
  const sentinelServices = ['sentinel-api', 'sentinel-worker'] as const;

  it('parses, and runs the API and the worker from ./Dockerfile with the two image commands', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['grafana', 'kafka', 'postgres', 'prometheus', 'sentinel-api', 'sentinel-worker', 'temporal'].sort(),
    );
    for (const [name, command] of [
      ['sentinel-api', API_COMMAND],
      ['sentinel-worker', WORKER_COMMAND],
    ] as const) {
      const service = compose.services[name]!;
      const build = typeof service.build === 'string' ? { context: service.build } : service.build!;
      const context = resolve(repoRoot, build.context);
      expect(context).toBe(repoRoot);
      expect(existsSync(join(context, build.dockerfile ?? 'Dockerfile'))).toBe(true);
      expect(service.command).toEqual(command);
      expect(existsSync(join(context, command[3]))).toBe(true);
    }
    expect(compose.services.grafana!.profiles).toEqual(['grafana']);
  });

  it('gives the Sentinel services only variables config/index.ts reads, and they parse with ConfigSchema', () => {
    for (const name of sentinelServices) {
      const env = composeEnv(compose.services[name]!);
      expect(
        Object.keys(env).filter((n) => !isKnownEnv(n)),
        name,
      ).toEqual([]);
      const parsed = ConfigSchema.safeParse(env);
      expect(parsed.error?.issues ?? [], name).toEqual([]);
      expect(parsed.data).toMatchObject({
        TEMPORAL_ADDRESS: 'temporal:7233',
        DATABASE_URL: 'postgres://sentinel:sentinel@postgres:5432/sentinel',
        KAFKA_BROKERS: ['kafka:9092'],
        PROMETHEUS_URL: 'http://prometheus:9090',
        KUBECONFIG: '/etc/sentinel/kubeconfig',
      });
      // The kubeconfig is mounted where KUBECONFIG points.
      const mounts = (compose.services[name]!.volumes ?? []).map((v) =>
        typeof v === 'string' ? interpolate(v) : `${v.source}:${v.target}`,
      );
      expect(mounts).toContain('~/.kube/config:/etc/sentinel/kubeconfig:ro');
      expect(mounts.some((m) => m.split(':')[1] === env.KUBECONFIG)).toBe(true);
    }
    const api = ConfigSchema.parse(composeEnv(compose.services['sentinel-api']!));
    expect(api.SENTINEL_API_HOST).toBe('0.0.0.0');
    // An empty SENTINEL_API_TOKENS (the default) means no tokens: the API is open, as documented.
    expect(api.SENTINEL_API_TOKENS).toEqual([]);
  });

  it('connects the services: hosts, ports, health checks, dependencies, mounted files and volumes exist', () => {
    const services = compose.services;
    const api = ConfigSchema.parse(composeEnv(services['sentinel-api']!));
    const worker = ConfigSchema.parse(composeEnv(services['sentinel-worker']!));
    // Every host:port Sentinel dials is a service of this file.
    const hosts = [
      api.TEMPORAL_ADDRESS.split(':')[0],
      new URL(api.DATABASE_URL!).hostname,
      ...api.KAFKA_BROKERS!.map((b) => b.split(':')[0]),
      new URL(api.PROMETHEUS_URL!).hostname,
    ];
    for (const host of hosts) expect(Object.keys(services)).toContain(host);
    // Health checks and published ports use the ports the processes listen on.
    const healthTarget = (s: ComposeService): string =>
      Array.isArray(s.healthcheck?.test) ? s.healthcheck.test.join(' ') : (s.healthcheck?.test ?? '');
    expect(healthTarget(services['sentinel-api']!)).toContain(`127.0.0.1:${api.SENTINEL_API_PORT}/healthz`);
    expect(healthTarget(services['sentinel-worker']!)).toContain(
      `127.0.0.1:${worker.SENTINEL_WORKER_METRICS_PORT}/metrics`,
    );
    // Every dependency exists; the worker starts after the API (which applies the migrations).
    for (const [name, service] of Object.entries(services)) {
      const deps = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
    }
    expect(services['sentinel-worker']!.depends_on).toMatchObject({
      'sentinel-api': { condition: 'service_healthy' },
    });
    for (const dep of ['temporal', 'postgres', 'kafka'])
      expect(services[dep]!.healthcheck, `${dep} has a health check the API waits for`).toBeDefined();
    // Files bind-mounted from the repository exist; named volumes are declared.
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? interpolate(volume).split(':')[0]! : volume.source;
        if (source.startsWith('./'))
          expect(existsSync(join(repoRoot, source)), `${name}: ${source}`).toBe(true);
        else if (!source.startsWith('/') && !source.startsWith('~'))
          expect(Object.keys(compose.volumes ?? {})).toContain(source);
      }
      // Published ports stay on the loopback interface.
      for (const port of service.ports ?? []) expect(String(port), name).toMatch(/^127\.0\.0\.1:/);
    }
    // The Temporal dev server registers every search attribute Sentinel's workflows set.
    const temporalArgs = services.temporal!.command as string[];
    for (const [attribute, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES))
      expect(temporalArgs).toContain(`--search-attribute=${attribute}=${type}`);
  });

  it("Prometheus's config is valid for promtool and scrapes the API and the worker where they listen", () => {
    const prometheusService = compose.services.prometheus!;
    const mount = (prometheusService.volumes as string[]).find((v) => v.includes('prometheus.yml'))!;
    const configPath = join(repoRoot, mount.split(':')[0]!);
    const promtool = join(dirname(realpathSync(toolBinary('prometheus', 'prometheus'))), 'promtool');
    const check = spawnSync(promtool, ['check', 'config', configPath], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const config = parseYaml(readFileSync(configPath, 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = config.scrape_configs.flatMap((job) =>
      job.static_configs.flatMap((s) => s.targets.map((t) => `${t}${job.metrics_path ?? '/metrics'}`)),
    );
    const api = ConfigSchema.parse(composeEnv(compose.services['sentinel-api']!));
    const worker = ConfigSchema.parse(composeEnv(compose.services['sentinel-worker']!));
    expect(targets).toEqual(
      expect.arrayContaining([
        `sentinel-api:${api.SENTINEL_API_PORT}/metrics`,
        `sentinel-worker:${worker.SENTINEL_WORKER_METRICS_PORT}/metrics`,
      ]),
    );
  });

  // `docker compose config` needs only the compose plugin, not an engine; this machine's docker
  // CLI has no compose plugin (and no engine), so the check runs only where the plugin exists.
  const composeCli = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!composeCli)(
    '`docker compose config` accepts the file (skipped: no docker compose plugin here)',
    () => {
      const result = spawnSync(
        'docker',
        ['compose', '-f', composePath, '--profile', 'grafana', 'config', '--quiet'],
        {
          encoding: 'utf8',
          cwd: repoRoot,
        },
      );
      expect(result.status, result.stderr).toBe(0);
    },
  );
});

// ---------------------------------------------------------------------------------------
// Against a real kube-apiserver

/** Server-side dry-run create of any object: the driver for kinds it knows, discovery + POST otherwise. */
async function dryRunCreate(
  registry: ClusterRegistry,
  client: KubeClient,
  object: KubeObject,
): Promise<{ validated: true } | { validated: false; reason: string }> {
  try {
    const result = await applyObject(registry, 'pkg', object, { dryRun: true, retry: false });
    expect(result).toMatchObject({ dryRun: true, created: true });
    return { validated: true };
  } catch (err) {
    if (!(err instanceof KubeInvalidError) || !/not a kind the driver knows/.test(err.message)) throw err;
  }
  const apiVersion = object.apiVersion!;
  let discovery: { resources: { name: string; kind: string; namespaced: boolean }[] };
  try {
    discovery = await client.request({ method: 'GET', path: `/apis/${apiVersion}` });
  } catch (err) {
    if (err instanceof KubeNotFoundError)
      return { validated: false, reason: `${apiVersion} is not served (CRD absent)` };
    throw err;
  }
  const resource = discovery.resources.find((r) => r.kind === object.kind && !r.name.includes('/'));
  if (!resource) return { validated: false, reason: `${apiVersion} serves no ${object.kind}` };
  const ns = resource.namespaced ? `/namespaces/${object.metadata!.namespace}` : '';
  const stored = await client.request<KubeObject>({
    method: 'POST',
    path: `/apis/${apiVersion}${ns}/${resource.name}`,
    query: { dryRun: 'All', fieldManager: 'sentinel-packaging-test' },
    body: object,
  });
  expect(stored.metadata?.uid).toBeDefined();
  return { validated: true };
}

describe('the rendered chart on a real kube-apiserver (testbed cluster "pkg")', () => {
  let testbed: Testbed;
  let cluster: KubeCluster;
  let registry: ClusterRegistry;
  let admin: KubeClient;
  let scratch: string;

  beforeAll(async () => {
    testbed = await startTestbed({ clusters: ['pkg'], postgres: true });
    cluster = testbed.clusters.get('pkg')!;
    registry = ClusterRegistry.fromSources(testbed.clusterSpec);
    admin = registry.client('pkg');
    scratch = mkdtempSync(join(tmpdir(), 'sentinel-pkg-'));
  });

  afterAll(async () => {
    registry?.[Symbol.dispose]();
    await testbed?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('accepts every object of both renderings as a server-side dry-run create, and stores none of them', async () => {
    const skipped: string[] = [];
    for (const rendered of [render('pkg-default'), render('pkg-all', [allFeaturesValues])]) {
      await applyObject(registry, 'pkg', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: rendered.namespace },
      });
      for (const object of rendered.objects) {
        const outcome = await dryRunCreate(registry, admin, object);
        if (!outcome.validated) skipped.push(`${object.kind}/${object.metadata?.name}: ${outcome.reason}`);
      }
      const stored = await admin.request<{ items: unknown[] }>({
        method: 'GET',
        path: `/apis/apps/v1/namespaces/${rendered.namespace}/deployments`,
      });
      expect(stored.items).toEqual([]);
    }
    // ServiceMonitor is prometheus-operator's CRD, which this apiserver does not have: it is
    // checked structurally above (selectors and port names), not by the apiserver.
    expect(skipped).toEqual(['ServiceMonitor/sentinel: monitoring.coreos.com/v1 is not served (CRD absent)']);
  });

  it('the dry run really validates: a broken Deployment from the chart is refused', async () => {
    const broken = structuredClone(deployment(render('pkg-default'), 'api')) as unknown as KubeObject &
      DeploymentView;
    broken.spec.selector.matchLabels = { 'app.kubernetes.io/name': 'something-else' };
    await expect(applyObject(registry, 'pkg', broken, { dryRun: true, retry: false })).rejects.toThrow(
      /selector.*does not match template labels|`selector` does not match/,
    );
  });

  it('`helm install --dry-run=server` validates against the server and prints the NOTES', () => {
    const kube = ['--kubeconfig', cluster.kubeconfigPath];
    const plain = helm([
      'install',
      'sentinel',
      chartDir,
      '--namespace',
      'pkg-default',
      '--dry-run=server',
      ...kube,
    ]);
    expect(plain).toContain('NOTES:');
    expect(plain).toContain('WARNING: apiTokens.existingSecret is empty');
    expect(plain).toContain('no cluster is configured');
    const full = helm([
      'install',
      'sentinel',
      chartDir,
      '--namespace',
      'pkg-all',
      '--values',
      allFeaturesValues,
      '--set',
      'serviceMonitor.enabled=false',
      '--dry-run=server',
      ...kube,
    ]);
    expect(full).toContain('Clusters (SENTINEL_CLUSTERS): gpu-east=/etc/sentinel/clusters/fleet.yaml#east');
    expect(full).not.toContain('WARNING');
  });

  it('the migration hook runs its command against a real PostgreSQL, after which processes starting together change nothing', async () => {
    const rendered = render('pkg-default');
    const job = named(rendered, 'Job', 'sentinel-migrate') as unknown as DeploymentView & {
      metadata: { annotations: Record<string, string> };
    };
    expect(job.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const [container] = job.spec.template.spec.containers;
    const url = await testbed.postgres!.createDatabase('pkg_migrate');
    // The image's working directory holds the repository's files, as this checkout does.
    const [command, ...args] = container!.command!;
    const run = spawnSync(command!, args, {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: scratch,
        ...envValues(rendered, container!),
        DATABASE_URL: url,
        SENTINEL_DATA_DIR: join(scratch, 'data'),
      },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('sentinel database migrated');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const applied = await client.query<{ n: string }>(
        'select count(*) as n from drizzle.__drizzle_migrations',
      );
      const committed = readdirSync(join(repoRoot, 'store', 'migrations')).filter((f) => f.endsWith('.sql'));
      expect(Number(applied.rows[0]!.n)).toBe(committed.length);
    } finally {
      await client.end();
    }
    // Four processes (2 API + 2 worker pods) opening the migrated database at once all succeed.
    const opened = await Promise.allSettled([1, 2, 3, 4].map(() => openDatabase({ kind: 'postgres', url })));
    for (const outcome of opened) if (outcome.status === 'fulfilled') await outcome.value.close();
    expect(opened.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
  });

  it('in-cluster mode: after a real `helm install`, the driver works with the chart kubeconfig and the ServiceAccount token, and RBAC denies the rest', async () => {
    const namespace = 'pkg-rbac';
    const kube = ['--kubeconfig', cluster.kubeconfigPath];
    helm([
      'install',
      'sentinel',
      chartDir,
      '--namespace',
      namespace,
      '--create-namespace',
      '--values',
      allFeaturesValues,
      '--set',
      'serviceMonitor.enabled=false',
      // kwok never completes a Job's pods, so the migration hook would never finish here;
      // the next test runs its command against a real PostgreSQL instead.
      '--no-hooks',
      ...kube,
    ]);
    try {
      // What the pods would get: the stored ConfigMaps, the ServiceAccount's token and the cluster CA.
      const settings = await admin.request<{ data: Record<string, string> }>({
        method: 'GET',
        path: `/api/v1/namespaces/${namespace}/configmaps/sentinel`,
      });
      const inCluster = await admin.request<{ data: { kubeconfig: string } }>({
        method: 'GET',
        path: `/api/v1/namespaces/${namespace}/configmaps/sentinel-in-cluster`,
      });
      const token = await admin.request<{ status: { token: string } }>({
        method: 'POST',
        path: `/api/v1/namespaces/${namespace}/serviceaccounts/sentinel-controller/token`,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 600 },
        },
      });
      const caPem = readFileSync(join(cluster.dataDir, 'pki', 'apiserver.crt'), 'utf8');
      const tokenPath = join(scratch, 'token');
      const caPath = join(scratch, 'ca.crt');
      writeFileSync(tokenPath, token.status.token);
      writeFileSync(caPath, caPem);
      // Only the three pod-local locations change: apiserver address, token file, CA file.
      const kubeconfig = inCluster.data.kubeconfig
        .replace('https://kubernetes.default.svc', cluster.server)
        .replace('/var/run/secrets/kubernetes.io/serviceaccount/token', tokenPath)
        .replace('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', caPath);
      expect(kubeconfig).not.toContain('/var/run/secrets');
      const local = ConfigSchema.parse(settings.data).SENTINEL_CLUSTERS!.find((c) => c.name === 'local')!;
      const kubeconfigPath = join(scratch, posix.basename(local.kubeconfigPath));
      writeFileSync(kubeconfigPath, kubeconfig);
      using sentinel = ClusterRegistry.fromSources([{ ...local, kubeconfigPath }]);
      const [health] = await sentinel.probe();
      expect(health).toMatchObject({ cluster: 'local', reachable: true });
      const whoami = await sentinel.client('local').request<{ status: { userInfo: { username: string } } }>({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
      expect(whoami.status.userInfo.username).toBe(`system:serviceaccount:${namespace}:sentinel-controller`);

      // The driver, as the ServiceAccount: capacity (nodes, pods everywhere), namespace labels,
      // a GPU Deployment applied, scaled (waiting on the rollout by watch) and updated.
      await applyObject(registry, 'pkg', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'ml', labels: { team: 'ml' } },
      });
      const capacity = await getClusterCapacity(sentinel, 'local');
      expect(capacity.nodes.length).toBeGreaterThan(0);
      expect(await getNamespaceLabels(sentinel, 'local', 'ml')).toMatchObject({ team: 'ml' });
      const target: WorkloadTarget = {
        cluster: 'local',
        namespace: 'ml',
        kind: 'Deployment',
        name: 'inference',
      };
      expect((await applyWorkload(sentinel, 'local', inferenceDeployment('inference', 1))).created).toBe(
        true,
      );
      const scaled = await scaleWorkload(sentinel, target, 2, { wait: { timeoutMs: 60_000 } });
      expect(scaled).toMatchObject({ changed: true, applied: { replicas: 2 } });
      expect(await listWorkloadPods(sentinel, target)).toHaveLength(2);
      const updated = await updateWorkload(sentinel, target, {
        container: 'server',
        image: 'registry.local/inference:v2',
      });
      expect(updated.changed).toBe(true);

      // What rollouts do besides (blue/green switches a Service, canaries delete Deployments),
      // asked of the apiserver's authorizer as the ServiceAccount.
      const client = sentinel.client('local');
      const can = async (
        verb: string,
        group: string,
        resource: string,
        subresource?: string,
      ): Promise<boolean> => {
        const review = await client.request<{ status: { allowed: boolean } }>({
          method: 'POST',
          path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                namespace: 'ml',
                verb,
                group,
                resource,
                ...(subresource && { subresource }),
              },
            },
          },
        });
        return review.status.allowed;
      };
      const needed: [string, string, string, string?][] = [
        ['update', '', 'services'],
        ['patch', '', 'services'],
        ['delete', 'apps', 'deployments'],
        ['patch', 'apps', 'statefulsets'],
        ['update', 'apps', 'statefulsets', 'scale'],
        ['list', 'apps', 'controllerrevisions'],
        ['create', 'batch', 'jobs'],
        ['patch', 'batch', 'jobs'],
        ['list', '', 'resourcequotas'],
      ];
      for (const [verb, group, resource, sub] of needed)
        expect(
          await can(verb, group, resource, sub),
          `${verb} ${group}/${resource}${sub ? `/${sub}` : ''}`,
        ).toBe(true);
      const denied: [string, string, string][] = [
        ['get', '', 'secrets'],
        ['create', 'rbac.authorization.k8s.io', 'rolebindings'],
        ['delete', '', 'namespaces'],
        ['create', '', 'pods'],
      ];
      for (const [verb, group, resource] of denied)
        expect(await can(verb, group, resource), `${verb} ${group}/${resource}`).toBe(false);
      await expect(
        client.request({ method: 'GET', path: `/api/v1/namespaces/${namespace}/secrets` }),
      ).rejects.toBeInstanceOf(KubeForbiddenError);
    } finally {
      helm(['uninstall', 'sentinel', '--namespace', namespace, ...kube]);
    }
  });
});

// ---------------------------------------------------------------------------------------
// The image without a container engine

/** Copies the Docker build context: every repository file .dockerignore lets through. */
function copyBuildContext(to: string): number {
  const patterns = dockerignore();
  let copied = 0;
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(repoRoot, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (ignoredByDocker(path, patterns)) continue;
      if (entry.isDirectory()) {
        mkdirSync(join(to, path), { recursive: true });
        walk(path);
      } else if (entry.isFile()) {
        copyFileSync(join(repoRoot, path), join(to, path));
        copied++;
      }
    }
  };
  walk('');
  return copied;
}

async function answers(url: string, timeoutMs: number, exited: () => string | undefined): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failure = exited();
    if (failure) throw new Error(`${url}: the process exited before answering: ${failure}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return await res.text();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await sleep(250);
  }
}

describe('the image, rehearsed without a container engine', () => {
  // What `docker build` would put in /app (the build context through .dockerignore, then
  // `npm ci --omit=dev`), run with the chart's commands and environment as the image's
  // unprivileged uid (when the test runs as root) against real Temporal, PostgreSQL and
  // Kubernetes: both processes start, a plan submitted to the API is executed by the worker.
  let testbed: Testbed;
  let root: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sentinel-image-'));
    testbed = await startTestbed({ temporal: true, postgres: true, clusters: ['img'] });
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await testbed?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('runs the API and the worker from the build context with production dependencies only, as a non-root user, and executes a plan', async () => {
    const app = join(root, 'app');
    mkdirSync(app, { recursive: true });
    expect(copyBuildContext(app)).toBeGreaterThan(100);
    const install = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'production' },
      timeout: 150_000,
    });
    expect(install.status, install.stderr).toBe(0);
    expect(existsSync(join(app, 'node_modules', 'vitest')), 'a devDependency was installed').toBe(false);

    // The image's user, when this test may switch to it: root-owned sources it can only read,
    // a data folder it owns, a kubeconfig it can read (a Secret mounted with fsGroup).
    const uid = (
      parseYaml(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as {
        podSecurityContext: { runAsUser: number };
      }
    ).podSecurityContext.runAsUser;
    const asImageUser = process.getuid?.() === 0;
    const dataDir = join(root, 'data');
    mkdirSync(dataDir);
    const kubeconfig = join(root, 'kubeconfig');
    copyFileSync(testbed.clusters.get('img')!.kubeconfigPath, kubeconfig);
    chmodSync(kubeconfig, 0o644);
    chmodSync(root, 0o755);
    if (asImageUser) chownSync(dataDir, uid, uid);

    const rendered = render('pkg-image');
    const [apiPort, metricsPort] = (await freePorts(2)) as [number, number];
    const start = (suffix: 'api' | 'worker'): { child: ChildProcess; exited: () => string | undefined } => {
      const container = deployment(rendered, suffix).spec.template.spec.containers[0]!;
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: dataDir,
        NODE_ENV: 'production',
        // The chart's environment, its addresses replaced by the testbed's.
        ...envValues(rendered, container),
        TEMPORAL_ADDRESS: testbed.temporal!.address,
        DATABASE_URL: testbed.postgres!.url,
        SENTINEL_CLUSTERS: `img=${kubeconfig}`,
        SENTINEL_DATA_DIR: dataDir,
        ...(suffix === 'api'
          ? { SENTINEL_API_HOST: '127.0.0.1', SENTINEL_API_PORT: String(apiPort) }
          : { SENTINEL_WORKER_METRICS_PORT: String(metricsPort) }),
      };
      const [command, ...args] = container.command!;
      const child = asImageUser
        ? spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', command!, ...args], {
            cwd: app,
            env,
            stdio: ['ignore', 'pipe', 'pipe'],
          })
        : spawn(command!, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let output = '';
      const keep = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-4_000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      return {
        child,
        exited: () => (child.exitCode === null ? undefined : `exit ${child.exitCode}: ${output}`),
      };
    };

    const api = start('api');
    expect(await answers(`http://127.0.0.1:${apiPort}/healthz`, 60_000, api.exited)).toContain('"ok":true');
    const worker = start('worker');
    expect(await answers(`http://127.0.0.1:${metricsPort}/metrics`, 120_000, worker.exited)).toContain(
      '# HELP',
    );

    using registry = ClusterRegistry.fromSources(testbed.clusterSpec);
    await applyObject(registry, 'img', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
    await applyWorkload(registry, 'img', inferenceDeployment('inference', 2));
    const plan = {
      id: 'image-rehearsal',
      verb: 'scale',
      target: { cluster: 'img', namespace: 'ml', kind: 'Deployment', name: 'inference' },
      params: { replicas: 3 },
      requestedBy: 'sre@example.com',
      reason: 'packaging test',
    };
    const submitted = await fetch(`http://127.0.0.1:${apiPort}/v1/plans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(plan),
    });
    expect(submitted.status).toBe(202);
    let phase: string | undefined;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
      const res = await fetch(`http://127.0.0.1:${apiPort}/v1/plans/image-rehearsal`);
      phase = ((await res.json()) as { phase?: string }).phase;
      if (phase && ['Succeeded', 'Denied', 'Expired', 'Failed', 'RolledBack', 'Aborted'].includes(phase))
        break;
    }
    expect(phase).toBe('Succeeded');

    // SIGTERM (what Kubernetes and compose send) drains both and exits 0.
    for (const { child } of [api, worker]) {
      const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    }
  });
});
