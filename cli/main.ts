import { Command } from 'commander';
import { SentinelError } from '../domain/errors.ts';
import { ApiClient } from './api-client.ts';
import { registerAuditCommands } from './audit-commands.ts';
import { registerDevCommand } from './dev-command.ts';
import { registerPlanCommands } from './plan-commands.ts';
import { registerPolicyCommands } from './policy-commands.ts';
import { registerRolloutCommands } from './rollout-commands.ts';

const program = new Command('sentinel')
  .description('Sentinel: every change to a Kubernetes workload as a durable Temporal workflow')
  .option(
    '--api <url>',
    'Sentinel API URL (env SENTINEL_API_URL)',
    process.env.SENTINEL_API_URL ?? 'http://127.0.0.1:8080',
  )
  .option('--token <token>', 'bearer token (env SENTINEL_TOKEN)', process.env.SENTINEL_TOKEN)
  .showHelpAfterError();

const api = () => {
  const opts = program.opts<{ api: string; token?: string }>();
  return new ApiClient({ apiUrl: opts.api, ...(opts.token ? { token: opts.token } : {}) });
};

registerDevCommand(program);
registerPlanCommands(program, api);
registerAuditCommands(program, api);
registerPolicyCommands(program, api);
registerRolloutCommands(program, api);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof SentinelError) {
    console.error(`error: ${err.message}`);
    const issues = (err.details.issues ?? []) as { path: string; message: string }[];
    for (const issue of issues) console.error(`  ${issue.path || '(root)'}: ${issue.message}`);
    console.error(`  (${err.code})`);
  } else {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exitCode = 1;
}
