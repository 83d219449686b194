import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { startLocalStack, type LocalStack } from '../../stack/local-stack.ts';

export { inferenceDeployment } from '../../testbed/workloads.ts';

/**
 * The whole local stack (real Temporal dev server, real kube-apiserver with kwok nodes,
 * PGlite or PostgreSQL, an in-process worker and the HTTP API on a free port) in a temp
 * folder that is removed on dispose.
 */
export async function startTestStack(env: Record<string, string> = {}): Promise<LocalStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-stack-'));
  const config = loadConfig({ SENTINEL_DATA_DIR: dataDir, SENTINEL_API_PORT: '0', ...env });
  const stack = await startLocalStack(config, { externalTemporal: false, log: () => undefined });
  const stop = async () => {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { ...stack, stop, [Symbol.asyncDispose]: stop };
}

/** Polls `read` until `done` holds or `timeoutMs` passes; returns the last value read. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 250));
    value = await read();
  }
  return value;
}
