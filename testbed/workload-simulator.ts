// TEST FIXTURE. The workload simulator stands in for the application a canary or blue/green
// rollout ships: it is not part of Sentinel and never runs in production. It makes up HTTP
// traffic for each version (stable, canary, blue, green, …) and exposes the metrics a real
// service would, so that a real Prometheus scrapes them and analyses have something to judge.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { z } from 'zod';

/** Latency given by two percentiles of a log-normal distribution, in milliseconds. */
export const LatencyPercentilesSchema = z
  .strictObject({ p50: z.number().positive(), p99: z.number().positive() })
  .refine((l) => l.p99 >= l.p50, { message: 'p99 must be ≥ p50' });
/** Latency given by the mean and standard deviation of a log-normal distribution, in milliseconds. */
export const LatencyMomentsSchema = z.strictObject({
  mean: z.number().positive(),
  stddev: z.number().min(0),
});

/** A version's synthetic traffic. */
export const WorkloadProfileSchema = z.strictObject({
  /** Fraction of requests answered 500, in [0, 1]. @default 0 */
  errorRate: z.number().min(0).max(1).default(0),
  /** @default { p50: 50, p99: 200 } */
  latencyMs: z.union([LatencyPercentilesSchema, LatencyMomentsSchema]).default({ p50: 50, p99: 200 }),
  /** Requests per second. @default 50 */
  rps: z.number().min(0).max(10_000).default(50),
});
/** A version's synthetic traffic, defaults filled. */
export type WorkloadProfile = z.infer<typeof WorkloadProfileSchema>;
/** A profile as a test writes it: every field optional. */
export type WorkloadProfileInput = z.input<typeof WorkloadProfileSchema>;

/** Version names are label values: letters, digits, `-`, `_`, `.`. */
export const VERSION_PATTERN = /^[A-Za-z0-9][-_.A-Za-z0-9]{0,62}$/;

/** Options for {@link startWorkloadSimulator}. */
export interface WorkloadSimulatorOptions {
  /** Fixed port; a free loopback port when absent. */
  port?: number;
  /** Seed of the per-version random streams: the same seed gives the same requests. @default 1 */
  seed?: number;
  /** Profiles to start with, by version. @default {} (no traffic until a profile is set) */
  profiles?: Readonly<Record<string, WorkloadProfileInput>>;
  /**
   * Generate traffic on a timer, at each profile's rate. With `false` nothing happens until
   * {@link WorkloadSimulator.generate} is called, for tests that want exact counts.
   * @default true
   */
  autoTraffic?: boolean;
  /** Timer period of the traffic generator. @default 100 */
  tickMs?: number;
}

/** A running workload simulator (a test fixture). Dispose it to stop its server and timer. */
export interface WorkloadSimulator extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: `/metrics`, `/profiles`, `/healthz`. */
  url: string;
  port: number;
  /** `127.0.0.1:<port>`, the form a Prometheus scrape target takes. */
  metricsTarget: string;
  /** Its own prom-client registry (never the global one). */
  registry: Registry;
  /** Sets (replaces) a version's profile, filling defaults; traffic for it starts at once. */
  setProfile(version: string, profile: WorkloadProfileInput): WorkloadProfile;
  /** Stops a version's traffic; its series stay, as a real scale-down would leave them. */
  removeProfile(version: string): void;
  /** The profiles in force, by version. */
  profiles(): Record<string, WorkloadProfile>;
  /** Makes up `durationMs` worth of traffic for every version at once. */
  generate(durationMs: number): void;
  stop(): Promise<void>;
}

/** Buckets of `http_request_duration_seconds`, fine enough for histogram_quantile between 5 ms and 5 s. */
export const LATENCY_BUCKETS_SECONDS = [
  0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5,
  2.5, 5,
];

// z of the 99th percentile of the standard normal: p99 = p50 · e^(σ·z₀.₉₉) for a log-normal.
const Z_99 = 2.3263478740408408;

/** A small, fast 32-bit generator: a Weyl sequence run through a murmur3-style finaliser. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a, so each version's stream depends on the seed and its name only. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function logNormalParameters(latency: WorkloadProfile['latencyMs']): { mu: number; sigma: number } {
  if ('p50' in latency)
    return { mu: Math.log(latency.p50), sigma: Math.log(latency.p99 / latency.p50) / Z_99 };
  const variance = Math.log(1 + (latency.stddev / latency.mean) ** 2);
  return { mu: Math.log(latency.mean) - variance / 2, sigma: Math.sqrt(variance) };
}

interface VersionState {
  profile: WorkloadProfile;
  random: () => number;
  /** Requests owed but not yet made (fractions carry over between ticks). */
  owed: number;
}

function checkVersion(version: string): void {
  if (!VERSION_PATTERN.test(version))
    throw new RangeError(`version "${version}" must be 1-63 letters, digits, "-", "_" or "."`);
}

/**
 * Starts the workload simulator, a TEST FIXTURE: an HTTP server on a loopback port that
 * makes up traffic per version from a seeded generator and serves, in Prometheus text format,
 *
 * - `http_requests_total{version, status}`: counter, status `200` or `500`;
 * - `http_request_duration_seconds{version}`: histogram ({@link LATENCY_BUCKETS_SECONDS}).
 *
 * Tests steer it with `setProfile` (a healthy, failing or slow canary); another process
 * steers it over HTTP: `PUT /profiles/<version>` with a JSON profile, `DELETE
 * /profiles/<version>`, `GET /profiles` (see {@link putWorkloadProfile}).
 */
export async function startWorkloadSimulator(
  options: WorkloadSimulatorOptions = {},
): Promise<WorkloadSimulator> {
  const seed = options.seed ?? 1;
  const tickMs = options.tickMs ?? 100;
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests served by the simulated workload, by version and status',
    labelNames: ['version', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Latency of requests served by the simulated workload, by version',
    labelNames: ['version'],
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const versions = new Map<string, VersionState>();

  const setProfile = (version: string, input: WorkloadProfileInput): WorkloadProfile => {
    checkVersion(version);
    const profile = WorkloadProfileSchema.parse(input);
    const existing = versions.get(version);
    if (existing) existing.profile = profile;
    else {
      versions.set(version, { profile, random: seededRandom(hashString(`${seed}:${version}`)), owed: 0 });
      // Series exist from the start at 0, so rate() and error ratios are defined at once.
      requests.inc({ version, status: '200' }, 0);
      requests.inc({ version, status: '500' }, 0);
      duration.zero({ version });
    }
    return profile;
  };

  const serve = (version: string, state: VersionState): void => {
    const { random, profile } = state;
    const status = random() < profile.errorRate ? '500' : '200';
    const { mu, sigma } = logNormalParameters(profile.latencyMs);
    // Box-Muller; 1 − u keeps the logarithm's argument in (0, 1].
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    requests.inc({ version, status });
    duration.observe({ version }, Math.exp(mu + sigma * normal) / 1000);
  };

  const generate = (durationMs: number): void => {
    for (const [version, state] of versions) {
      state.owed += (state.profile.rps * durationMs) / 1000;
      const count = Math.floor(state.owed);
      state.owed -= count;
      for (let i = 0; i < count; i += 1) serve(version, state);
    }
  };

  for (const [version, profile] of Object.entries(options.profiles ?? {})) setProfile(version, profile);

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  const handleRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/metrics' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
      return;
    }
    if (path === '/healthz') return send(res, 200, { ok: true });
    if (path === '/profiles' && req.method === 'GET')
      return send(res, 200, Object.fromEntries(profileEntries()));
    const match = /^\/profiles\/([^/]+)$/.exec(path);
    if (match) {
      const version = decodeURIComponent(match[1]!);
      if (!VERSION_PATTERN.test(version)) return send(res, 400, { error: `invalid version "${version}"` });
      if (req.method === 'PUT') {
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req));
        } catch {
          return send(res, 400, { error: 'the body must be a JSON profile' });
        }
        const parsed = WorkloadProfileSchema.safeParse(body);
        if (!parsed.success)
          return send(res, 400, {
            error: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
          });
        return send(res, 200, setProfile(version, parsed.data));
      }
      if (req.method === 'DELETE') {
        versions.delete(version);
        return send(res, 204);
      }
    }
    send(res, 404, { error: `no route ${req.method} ${path}` });
  };
  const profileEntries = () => [...versions].map(([version, state]) => [version, state.profile] as const);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  let last = performance.now();
  const timer =
    options.autoTraffic === false
      ? undefined
      : setInterval(() => {
          const now = performance.now();
          // After a stalled event loop, catch up at most two seconds rather than bursting.
          generate(Math.min(now - last, 2_000));
          last = now;
        }, tickMs);
  timer?.unref();

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return stopped;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    metricsTarget: `127.0.0.1:${port}`,
    registry,
    setProfile,
    removeProfile: (version) => void versions.delete(version),
    profiles: () => Object.fromEntries(profileEntries()),
    generate,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error(`body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Sets a version's profile on a simulator running anywhere (e.g. in another process) through
 * its control endpoint, `PUT /profiles/<version>`; resolves with the profile in force.
 */
export async function putWorkloadProfile(
  simulatorUrl: string,
  version: string,
  profile: WorkloadProfileInput,
): Promise<WorkloadProfile> {
  const response = await fetch(`${simulatorUrl}/profiles/${encodeURIComponent(version)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(profile),
  });
  const body = (await response.json()) as WorkloadProfile | { error: string };
  if (!response.ok)
    throw new Error(`PUT /profiles/${version}: ${'error' in body ? body.error : response.status}`);
  return body as WorkloadProfile;
}
