import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Result of one `sentinel` invocation. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `sentinel` CLI (bin/sentinel.mjs) as a child process. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'sentinel.mjs'), ...args],
      { cwd: repoRoot, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A `sentinel` process still running, whose output a test can wait on. */
export interface RunningCli {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /**
   * Resolves with the output once `pattern` matches stdout (or stderr); rejects when the
   * process exits first or `timeoutMs` passes, with the output so far.
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves once the process has exited, with its exit code (128 + n when killed by signal n). */
  exited: Promise<CliResult>;
}

/**
 * Starts the real `sentinel` CLI without waiting for it, so a test can wait for a state it
 * prints (a frame of `--watch`, the ready banner of `sentinel dev`) and then act.
 */
export function spawnCli(
  args: string[],
  options: {
    env?: Record<string, string>;
    /** In its own process group (pid = group id), as a terminal runs it: `process.kill(-pid, sig)` is Ctrl-C. */
    detached?: boolean;
  } = {},
): RunningCli {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'sentinel.mjs'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.detached ? { detached: true } : {}),
  });
  let stdout = '';
  let stderr = '';
  const changed = new EventEmitter();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    changed.emit('output');
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    changed.emit('output');
  });
  let done = false;
  const exited = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), stdout, stderr });
      changed.emit('output');
    });
  });
  const waitForOutput = (pattern: RegExp, timeoutMs = 120_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (pattern.test(stdout) || pattern.test(stderr)) {
          finish();
          resolve(stdout);
        } else if (done) {
          finish();
          reject(new Error(`exited before printing ${String(pattern)}\n${stdout}\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms\n${stdout}\n${stderr}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        changed.off('output', check);
      };
      changed.on('output', check);
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, waitForOutput, exited };
}
