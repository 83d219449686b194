import type { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { startLocalStack, type LocalStack } from '../stack/local-stack.ts';
import { runDemo } from './demo.ts';

/** `sentinel dev`: the whole stack on this machine until Ctrl-C. */
export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description(
      'run Sentinel locally: Temporal dev server, a local Kubernetes cluster with simulated GPU nodes, ' +
        'the database, a worker and the API, until Ctrl-C',
    )
    .option('--demo', 'after start-up, create a demo GPU workload and submit scale plans against it')
    .option('--exit-after-demo', 'stop everything once the demo has run (for scripts)')
    .option('--temporal-port <port>', 'Temporal frontend port', '7233')
    .option('--ui-port <port>', 'Temporal Web UI port', '8233')
    .action(
      async (opts: { demo?: boolean; exitAfterDemo?: boolean; temporalPort: string; uiPort: string }) => {
        const config = loadConfig();
        const log = (message: string) => process.stderr.write(`[sentinel dev] ${message}\n`);
        // The handler is in place before anything starts: a Ctrl-C during start-up (which the
        // terminal also sends to the tools start-up runs in this process group) aborts it,
        // stops what has started and exits 0, like one after start-up.
        const abort = new AbortController();
        let starting: Promise<LocalStack> | undefined = undefined;
        const stopped = stopOnSignals(async (signal) => {
          abort.abort(new Error(`${signal} during start-up`));
          // An aborted start-up stops what it started itself before it rejects.
          const started = await starting?.catch(() => undefined);
          await started?.stop();
        }, log);
        log(
          'starting the local stack (first run builds tools into the machine-wide cache; this takes a while)',
        );
        starting = startLocalStack(config, {
          externalTemporal: process.env.TEMPORAL_ADDRESS !== undefined,
          log,
          temporalPorts: { port: Number(opts.temporalPort), uiPort: Number(opts.uiPort) },
          signal: abort.signal,
        });
        let stack: LocalStack;
        try {
          stack = await starting;
        } catch (err) {
          // A child killed by the same Ctrl-C can fail start-up before the signal's handler has
          // run; let a signal already delivered be handled (the poll phase) before deciding.
          await new Promise((resolve) => setImmediate(resolve));
          if (!abort.signal.aborted) throw err;
          // The stop was requested: the failure is its consequence, not an error.
          await stopped;
          process.exit(0);
        }
        if (abort.signal.aborted) {
          await stopped;
          process.exit(0);
        }
        console.log(`
Sentinel is running.
  API              ${stack.apiUrl}   (OpenAPI: ${stack.apiUrl}/openapi.json)
  Temporal         ${stack.temporalAddress}
  Temporal Web UI  ${stack.temporalUiUrl ?? '(external Temporal)'}
${stack.clusters.map((c) => `  cluster ${c.name.padEnd(8)} kubeconfig: ${c.kubeconfigPath}`).join('\n')}
  database         ${config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.SENTINEL_DATA_DIR}`}
  auth             ${config.SENTINEL_API_TOKENS ? 'bearer tokens (SENTINEL_API_TOKENS)' : 'open: no SENTINEL_API_TOKENS set, every caller is admin'}
Try: node bin/sentinel.mjs plan submit examples/plans/scale-inference.yaml --wait   (or run npm link once for a sentinel command)
Press Ctrl-C to stop.
`);
        if (opts.demo) {
          await runDemo(stack, log);
          if (opts.exitAfterDemo) {
            await stack.stop();
            return;
          }
        }
        await stopped;
        // Everything this process started has stopped; nothing may keep it alive or change its code.
        process.exit(0);
      },
    );
}

const SIGNAL_NUMBER = { SIGINT: 2, SIGTERM: 15 } as const;

/**
 * Installs the SIGINT / SIGTERM handlers and resolves once a first signal has run `stop`
 * (start-up aborted, then the stack stopped in order: HTTP, worker, Temporal connections,
 * database, services: {@link LocalStack.stop}). A second signal while that runs forces the
 * exit (128 + signal number, 130 for Ctrl-C); the exit hook of testbed/process.ts then kills
 * every service still running.
 */
function stopOnSignals(
  stop: (signal: keyof typeof SIGNAL_NUMBER) => Promise<void>,
  log: (message: string) => void,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: keyof typeof SIGNAL_NUMBER) => {
      if (stopping) {
        log(`${signal} again: not waiting for an orderly stop; killing the services`);
        process.exit(128 + SIGNAL_NUMBER[signal]);
      }
      stopping = true;
      log(`${signal}: stopping everything (again to force)`);
      void stop(signal).then(() => {
        log('stopped');
        resolve();
      });
    };
    // `on`, not `once`: the second signal must find this handler, not Node's default.
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
}
