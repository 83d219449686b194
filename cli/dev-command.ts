import type { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { startLocalStack } from '../stack/local-stack.ts';
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
        log(
          'starting the local stack (first run builds tools into the machine-wide cache; this takes a while)',
        );
        const stack = await startLocalStack(config, {
          externalTemporal: process.env.TEMPORAL_ADDRESS !== undefined,
          log,
          temporalPorts: { port: Number(opts.temporalPort), uiPort: Number(opts.uiPort) },
        });
        const stopped = new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            log(`${signal}: stopping everything`);
            void stack.stop().then(resolve);
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
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
      },
    );
}
