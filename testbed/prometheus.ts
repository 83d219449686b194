import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './ports.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './process.ts';
import { toolBinary } from './tools.ts';

/** One scrape job: what Prometheus scrapes, every scrape interval. */
export interface PrometheusScrapeJob {
  /** The `job` label of every series scraped from these targets. */
  job: string;
  /** `host:port` of each target, e.g. a workload simulator's `metricsTarget`. */
  targets: readonly string[];
  /** @default '/metrics' */
  metricsPath?: string;
}

/** Options for {@link startPrometheus}. */
export interface PrometheusOptions {
  /** Folder for the TSDB, the generated configuration and the log. */
  dataDir: string;
  /** @default [] (Prometheus still scrapes itself, as job `prometheus`) */
  scrapeTargets?: readonly PrometheusScrapeJob[];
  /**
   * Scrape and rule-evaluation interval. Short, so that a test sees a change within a couple
   * of seconds; `rate(...[10s])` then has ten samples to work with.
   * @default 1000
   */
  scrapeIntervalMs?: number;
  /** Fixed listen port; a free loopback port when absent. */
  port?: number;
}

/** {@link PrometheusOptions} with every default filled. */
export type PrometheusOptionsWithDefaults = Required<Omit<PrometheusOptions, 'port'>> & { port?: number };

/** The health of one scrape target, as `/api/v1/targets` reports it. */
export interface PrometheusTargetHealth {
  job: string;
  /** `host:port`. */
  instance: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

/** A running Prometheus server. Dispose it (`await using`) to stop it. */
export interface PrometheusServer extends AsyncDisposable {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:40123` (the `PROMETHEUS_URL` form). */
  url: string;
  port: number;
  process: ManagedProcess;
  /** The scrape jobs of the configuration in force. */
  readonly scrapeTargets: readonly PrometheusScrapeJob[];
  /** Replaces the scrape jobs and reloads the configuration (`POST /-/reload`); resolves once it applies. */
  reload(scrapeTargets: readonly PrometheusScrapeJob[]): Promise<void>;
  /** Health of every active target. */
  targets(): Promise<PrometheusTargetHealth[]>;
  /**
   * Resolves once every target of every job has been scraped successfully, so queries see
   * data; rejects with the failing targets' last errors after `timeoutMs`.
   */
  waitForTargetsUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Fills the defaults of {@link PrometheusOptions}. */
export function prometheusOptionsWithDefaults(options: PrometheusOptions): PrometheusOptionsWithDefaults {
  const scrapeIntervalMs = options.scrapeIntervalMs ?? 1000;
  if (!Number.isInteger(scrapeIntervalMs) || scrapeIntervalMs < 100)
    throw new RangeError(`scrapeIntervalMs must be a whole number ≥ 100, got ${scrapeIntervalMs}`);
  const jobs = new Set<string>(['prometheus']);
  for (const job of options.scrapeTargets ?? []) {
    if (jobs.has(job.job))
      throw new RangeError(`scrape job "${job.job}" is listed twice (or is the reserved "prometheus")`);
    jobs.add(job.job);
  }
  return { ...options, scrapeTargets: options.scrapeTargets ?? [], scrapeIntervalMs };
}

function renderConfig(port: number, jobs: readonly PrometheusScrapeJob[], intervalMs: number): string {
  const interval = `${intervalMs}ms`;
  return stringify({
    // scrape_timeout may not exceed scrape_interval, and its default (10s) does.
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: [`127.0.0.1:${port}`] }] },
      ...jobs.map((job) => ({
        job_name: job.job,
        metrics_path: job.metricsPath ?? '/metrics',
        static_configs: [{ targets: [...job.targets] }],
      })),
    ],
  });
}

/**
 * Starts a real Prometheus server (the Debian package, through scripts/ensure-tools.sh) on a
 * free loopback port with a throwaway TSDB, a 1 s scrape and evaluation interval and
 * `--web.enable-lifecycle`, so `reload` can change the scrape targets without a restart.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const opts = prometheusOptionsWithDefaults(options);
  const binary = toolBinary('prometheus', 'prometheus');
  mkdirSync(opts.dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const configFile = join(opts.dataDir, 'prometheus.yml');
  let jobs: readonly PrometheusScrapeJob[] = opts.scrapeTargets;
  writeFileSync(configFile, renderConfig(port, jobs, opts.scrapeIntervalMs));
  const proc = startProcess({
    name: 'prometheus',
    command: binary,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(opts.dataDir, 'tsdb')}`,
      '--storage.tsdb.retention.time=1d',
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ],
    logFile: join(opts.dataDir, 'prometheus.log'),
  });
  const stop = () => proc.stop();
  try {
    await waitUntilReady(proc, async () => (await fetch(`${url}/-/ready`)).ok, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }

  const targets = async (): Promise<PrometheusTargetHealth[]> => {
    const response = await fetch(`${url}/api/v1/targets?state=active`);
    if (!response.ok) throw new Error(`GET /api/v1/targets answered ${response.status}`);
    const body = (await response.json()) as {
      data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] };
    };
    return body.data.activeTargets.map((t) => ({
      job: t.labels.job ?? '',
      instance: t.labels.instance ?? '',
      health: t.health as PrometheusTargetHealth['health'],
      lastError: t.lastError,
    }));
  };

  return {
    url,
    port,
    process: proc,
    get scrapeTargets() {
      return jobs;
    },
    async reload(scrapeTargets) {
      const next = prometheusOptionsWithDefaults({ ...opts, scrapeTargets });
      writeFileSync(configFile, renderConfig(port, next.scrapeTargets, opts.scrapeIntervalMs));
      // The lifecycle endpoint answers only once the new configuration is applied (or failed).
      const response = await fetch(`${url}/-/reload`, { method: 'POST' });
      if (!response.ok)
        throw new Error(
          `Prometheus refused the new configuration (${response.status}): ${await response.text()}`,
        );
      jobs = next.scrapeTargets;
    },
    targets,
    async waitForTargetsUp(timeoutMs = 30_000) {
      const wanted = [
        `prometheus|127.0.0.1:${port}`,
        ...jobs.flatMap((job) => job.targets.map((target) => `${job.job}|${target}`)),
      ];
      const deadline = Date.now() + timeoutMs;
      let last: PrometheusTargetHealth[] = [];
      while (Date.now() < deadline) {
        last = await targets();
        const up = new Set(last.filter((t) => t.health === 'up').map((t) => `${t.job}|${t.instance}`));
        if (wanted.every((key) => up.has(key))) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const down = last
        .filter((t) => t.health !== 'up')
        .map((t) => `${t.job} ${t.instance}: ${t.health} ${t.lastError}`);
      throw new Error(
        `Prometheus targets not up after ${timeoutMs} ms: ${down.length > 0 ? down.join('; ') : 'not discovered yet'}`,
      );
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
