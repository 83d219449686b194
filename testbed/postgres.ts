import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './process.ts';
import { toolBinary } from './tools.ts';

const execFileAsync = promisify(execFile);

/** A real PostgreSQL server (the Debian package) in a throwaway data directory. */
export interface PostgresServer extends AsyncDisposable {
  /** postgres://… URL of the `sentinel` database. */
  url: string;
  port: number;
  process: ManagedProcess;
  /** Creates another empty database and returns its URL (one per test file keeps them apart). */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * initdb + postgres on a free loopback port, trust auth, no fsync (test data is
 * disposable). Runs as the current user; as root it runs through `runuser` as `postgres`
 * because the server refuses to run as root.
 */
export async function startPostgres(options: { dataDir: string }): Promise<PostgresServer> {
  // The cache entry is a symlink into the Debian package; resolve it so that the `postgres`
  // user can run the binary without traversing the invoking user's home directory.
  const initdb = realpathSync(toolBinary('postgres', 'initdb'));
  const postgres = realpathSync(toolBinary('postgres', 'postgres'));
  const asRoot = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  mkdirSync(options.dataDir, { recursive: true });
  // As root, the server runs as `postgres`, which may not traverse the caller's private
  // folders (mkdtemp makes them 0700): its data then lives in a world-traversable folder of
  // its own, removed on stop.
  const serverDir = asRoot ? mkdtempSync(join(tmpdir(), 'sentinel-pg-')) : options.dataDir;
  if (asRoot) {
    chmodSync(serverDir, 0o755);
    await execFileAsync('chown', ['-R', 'postgres', serverDir]);
  }
  const pgdata = join(serverDir, 'pgdata');
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    const [cmd, args] = wrap(initdb, [
      '-D',
      pgdata,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await execFileAsync(cmd, args);
  }
  const port = await freePort();
  const [cmd, args] = wrap(postgres, [
    '-D',
    pgdata,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-k',
    serverDir,
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
  ]);
  const proc = startProcess({
    name: 'postgres',
    command: cmd,
    args,
    logFile: join(options.dataDir, 'postgres.log'),
  });
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitUntilReady(proc, async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.end();
    return true;
  });
  const createDatabase = async (name: string): Promise<string> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
    } catch (err) {
      if ((err as { code?: string }).code !== '42P04') throw err; // 42P04: already exists
    } finally {
      await client.end();
    }
    return `postgres://postgres@127.0.0.1:${port}/${name}`;
  };
  const url = await createDatabase('sentinel');
  const stop = async () => {
    await proc.stop();
    if (serverDir !== options.dataDir) rmSync(serverDir, { recursive: true, force: true });
  };
  return {
    url,
    port,
    process: proc,
    createDatabase,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
