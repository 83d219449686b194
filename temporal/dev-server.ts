import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_TYPES } from '../domain/search-attributes.ts';
import { freePorts } from '../testbed/ports.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from '../testbed/process.ts';
import { temporalCliPath } from './cli.ts';

const execFileAsync = promisify(execFile);

/** Options for {@link startTemporalDevServer}. */
export interface TemporalDevServerOptions {
  /** Folder for the SQLite file and the log. */
  dataDir: string;
  /** @default 'default' */
  namespace?: string;
  /** Fixed frontend port; a free port when absent. */
  port?: number;
  /** Fixed Web UI port; a free port when absent. */
  uiPort?: number;
}

/** A running Temporal CLI dev server (real server, SQLite-backed, Web UI on). */
export interface TemporalDevServer extends AsyncDisposable {
  /** host:port of the frontend gRPC service. */
  address: string;
  namespace: string;
  uiUrl: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with a file-backed database and registers Sentinel's
 * search attributes, so a restart keeps every workflow history.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const namespace = options.namespace ?? 'default';
  const cli = temporalCliPath();
  mkdirSync(options.dataDir, { recursive: true });
  const [port, uiPort, metricsPort] = await pickPorts(options);
  const address = `127.0.0.1:${port}`;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--metrics-port',
    String(metricsPort),
    '--db-filename',
    join(options.dataDir, 'temporal.sqlite'),
    // WAL with synchronous=NORMAL survives a crash of the server process (not of the
    // machine) and avoids an fsync per history write, which otherwise caps a local server
    // at a few dozen workflows per second.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...Object.entries(SEARCH_ATTRIBUTE_TYPES).flatMap(([name, type]) => [
      '--search-attribute',
      `${name}=${type}`,
    ]),
  ];
  const proc = startProcess({
    name: 'temporal',
    command: cli,
    args,
    logFile: join(options.dataDir, 'temporal.log'),
  });
  await waitUntilReady(
    proc,
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return true;
      } finally {
        await connection.close();
      }
    },
    60_000,
    300,
  );
  await ensureSearchAttributes(cli, address, namespace);
  return {
    address,
    namespace,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    process: proc,
    stop: () => proc.stop(),
    [Symbol.asyncDispose]: () => proc.stop(),
  };
}

async function pickPorts(options: TemporalDevServerOptions): Promise<[number, number, number]> {
  const [a, b, c] = await freePorts(3);
  // 0 means "any free port", as for the API.
  return [options.port || a!, options.uiPort || b!, c!];
}

/**
 * `start-dev --search-attribute` registers attributes on the first start only; a restart on
 * an existing database needs them checked again, which `search-attribute create` does
 * idempotently.
 */
export async function ensureSearchAttributes(cli: string, address: string, namespace: string): Promise<void> {
  const names = Object.keys(SEARCH_ATTRIBUTE_TYPES);
  const args = ['operator', 'search-attribute', 'create', '--address', address, '--namespace', namespace];
  for (const name of names) args.push('--name', name, '--type', SEARCH_ATTRIBUTE_TYPES[name]!);
  try {
    await execFileAsync(cli, args, { timeout: 30_000 });
  } catch (err) {
    const message = (err as { stderr?: string }).stderr ?? String(err);
    if (!/already exists/i.test(message)) throw new Error(`registering search attributes failed: ${message}`);
  }
}
