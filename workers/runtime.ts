import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

/**
 * Installs the Temporal worker runtime once per process, with a log level that keeps routine
 * worker state changes out of the terminal. Later calls are no-ops (the SDK allows one
 * install, before the first worker).
 */
export function installWorkerRuntime(
  level: LogLevel = (process.env.SENTINEL_WORKER_LOG_LEVEL as LogLevel | undefined) ?? 'WARN',
  /**
   * Signals on which the SDK shuts every worker down by itself. A process that stops its
   * parts in its own order (`sentinel dev`: HTTP first, then the worker) passes `[]`.
   * @default the SDK's (SIGINT, SIGTERM, SIGQUIT, SIGUSR2)
   */
  shutdownSignals?: NodeJS.Signals[],
): void {
  if (installed) return;
  installed = true;
  Runtime.install({ logger: new DefaultLogger(level), ...(shutdownSignals && { shutdownSignals }) });
}
