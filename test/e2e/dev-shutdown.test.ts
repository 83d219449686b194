import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnCli, type RunningCli } from '../support/cli.ts';
import { eventually } from '../support/stack.ts';

// Ctrl-C on `sentinel dev`: an ordered stop (HTTP, worker, Temporal connections, database,
// services) that exits 0 and leaves no process behind; a second Ctrl-C forces it (130).

/** Every process below `pid`, children first found by their parent id (the services are detached but still its children). */
function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    let out = '';
    try {
      out = execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' });
    } catch {
      // pgrep exits 1 when there is none
    }
    for (const child of out.split('\n').filter(Boolean).map(Number)) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Running: present and not a zombie (an orphan's exit status waits for init to reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Live processes `pgrep` finds: `['-g', pgid]` those of a process group, `['-f', dir]` those whose
 * command line names `dir` (every service keeps its data there), orphans included.
 */
function processesUsing(pgrepArgs: string[]): number[] {
  try {
    return execFileSync('pgrep', pgrepArgs, { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter(alive);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

/** Starts `sentinel dev` and waits for the state "ready": its API answers. */
async function startDev(
  dataDir: string,
  options: { demo?: boolean } = {},
): Promise<{ dev: RunningCli; apiUrl: string; children: number[] }> {
  const dev = spawnCli(
    ['dev', '--temporal-port', '0', '--ui-port', '0', ...(options.demo ? ['--demo'] : [])],
    {
      env: { SENTINEL_DATA_DIR: dataDir, SENTINEL_API_PORT: '0' },
    },
  );
  const banner = await dev.waitForOutput(options.demo ? /Look for yourself:/ : /API\s+http:\/\/\S+/, 240_000);
  const apiUrl = /API\s+(http:\/\/\S+)/.exec(banner)![1]!;
  await eventually(
    () =>
      fetch(`${apiUrl}/v1/plans`)
        .then((r) => r.status)
        .catch(() => 0),
    (status) => status === 200,
    60_000,
  );
  const children = descendants(dev.child.pid!);
  return { dev, apiUrl, children };
}

describe('sentinel dev stops on Ctrl-C', () => {
  let dataDir: string;
  let running: RunningCli | undefined;
  afterEach(() => {
    // A failed assertion must not leave the stack behind.
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
    running = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops everything in order and exits 0 after the demo (npm run demo, then Ctrl-C)', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sentinel-dev-stop-'));
    const { dev, apiUrl, children } = await startDev(dataDir, { demo: true });
    running = dev;
    expect(children.length).toBeGreaterThanOrEqual(4); // Temporal, etcd, kube-apiserver, kwok, ...

    dev.child.kill('SIGINT');
    const result = await dev.exited;
    expect(result.stderr).not.toMatch(/Channel has been shut down/);
    expect(result.stderr).not.toMatch(/uncaught|unhandled|^error:/im);
    expect(result.stderr).toMatch(/SIGINT: stopping everything/);
    expect(result.stderr).toMatch(/\] stopped$/m);
    expect(result.code).toBe(0);
    // Stopped by the program itself, not by the exit hook that kills what is left.
    expect(children.filter(alive)).toEqual([]);
    await expect(fetch(`${apiUrl}/healthz`)).rejects.toThrow();
  });

  it('exits 130 at once on a second Ctrl-C and still leaves no process behind', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sentinel-dev-force-'));
    const { dev, children } = await startDev(dataDir);
    running = dev;

    dev.child.kill('SIGINT');
    await dev.waitForOutput(/SIGINT: stopping everything/);
    dev.child.kill('SIGINT');
    const result = await dev.exited;
    expect(result.stderr).toMatch(/SIGINT again: not waiting/);
    expect(result.stderr).not.toMatch(/Channel has been shut down/);
    expect(result.code).toBe(130);
    // The exit hook sent SIGKILL to every service's process group; wait for them to be gone.
    await eventually(
      () => Promise.resolve(children.filter(alive)),
      (left) => left.length === 0,
      30_000,
    );
  });

  it('exits 0 on a first Ctrl-C to its process group during start-up and leaves no process behind', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sentinel-dev-early-'));
    // Its own process group, as a terminal runs it: Ctrl-C reaches it and every tool it runs.
    const dev = spawnCli(['dev', '--temporal-port', '0', '--ui-port', '0'], {
      env: { SENTINEL_DATA_DIR: dataDir, SENTINEL_API_PORT: '0' },
      detached: true,
    });
    running = dev;
    // The state "start-up has begun": the first line of `sentinel dev`, before any service is up.
    await dev.waitForOutput(/\[sentinel dev\] starting the local stack/, 60_000);
    const pid = dev.child.pid!;
    process.kill(-pid, 'SIGINT');
    const result = await dev.exited;
    expect(result.stderr).toMatch(/SIGINT: stopping everything/);
    expect(result.stderr).toMatch(/\] stopped$/m);
    expect(result.stderr).not.toMatch(/SIGINT again/);
    expect(result.stderr).not.toMatch(/uncaught|unhandled|^error:/im);
    expect(result.code).toBe(0);
    // Stopped by the program itself: nothing of its group or of its services is left.
    expect(processesUsing(['-g', String(pid)])).toEqual([]);
    expect(processesUsing(['-f', dataDir])).toEqual([]);
  });
});
