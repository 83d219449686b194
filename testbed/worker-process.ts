import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, waitUntilReady, type ManagedProcess } from './process.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Starts `workers/main.ts` as its own OS process (as it runs in production), for tests that
 * kill and restart workers. Resolves once the worker has bundled its workflows and polls.
 */
export async function startWorkerProcess(options: {
  name: string;
  logFile: string;
  env: Record<string, string>;
}): Promise<ManagedProcess> {
  const proc = startProcess({
    name: options.name,
    command: process.execPath,
    args: ['--import', 'tsx', join(repoRoot, 'workers', 'main.ts')],
    cwd: repoRoot,
    logFile: options.logFile,
    env: { ...process.env, ...options.env },
  });
  await waitUntilReady(
    proc,
    () => Promise.resolve(readFileSync(options.logFile, 'utf8').includes('sentinel worker ready')),
    120_000,
    250,
  );
  return proc;
}
