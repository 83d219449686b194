import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Options for {@link startProcess}. */
export interface ManagedProcessOptions {
  /** Short name used in logs and errors, e.g. `kube-apiserver`. */
  name: string;
  command: string;
  args: readonly string[];
  /** File that receives stdout and stderr. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * A child process started in its own process group so that stopping it also stops
 * whatever it forked, and registered for cleanup when the test process exits.
 */
export class ManagedProcess implements AsyncDisposable {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    mkdirSync(dirname(options.logFile), { recursive: true });
    const log = createWriteStream(options.logFile, { flags: 'a' });
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.pipe(log);
    this.child.stderr?.pipe(log);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        liveProcesses.delete(this);
        resolve(this.exitCode);
      });
      this.child.once('error', (err) => {
        log.write(`spawn error: ${err.message}\n`);
        this.exitCode = -1;
        liveProcesses.delete(this);
        resolve(-1);
      });
    });
    liveProcesses.add(this);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines of the log, for error messages. */
  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Sends a signal to the whole process group. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Stops the process group: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!stopped) {
      this.signal('SIGKILL');
      await this.exited;
    }
  }

  /** Resolves with the exit code once the process has exited. */
  waitForExit(): Promise<number | null> {
    return this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

const liveProcesses = new Set<ManagedProcess>();

// A failed or interrupted test run must not leave servers behind: kill every process
// group still alive when this process goes away.
function killAllSync(): void {
  for (const proc of liveProcesses) proc.signal('SIGKILL');
}
process.once('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    // A program with its own handler (`sentinel dev` drains its worker and closes the
    // database first) stops its processes itself; the 'exit' hook above is the backstop.
    if (process.listenerCount(sig) > 0) return;
    killAllSync();
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
  });
}

export function startProcess(options: ManagedProcessOptions): ManagedProcess {
  return new ManagedProcess(options);
}

/** Thrown when a service does not become ready in time; carries its log tail. */
export class ServiceStartError extends Error {
  readonly code = 'SENTINEL_ERR_TESTBED_START';
  constructor(
    readonly service: string,
    reason: string,
    readonly logTail: string,
  ) {
    super(`${service} did not start: ${reason}\n--- last log lines ---\n${logTail}`);
    this.name = 'ServiceStartError';
  }
}

/**
 * Polls `probe` until it returns true, failing early if the process exits and with the
 * log tail once `timeoutMs` passes.
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.running) throw new ServiceStartError(proc.name, 'the process exited', proc.logTail());
    try {
      if (await probe()) return;
    } catch {
      // not ready yet
    }
    await sleep(intervalMs);
  }
  throw new ServiceStartError(proc.name, `not ready after ${timeoutMs} ms`, proc.logTail());
}
