import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporalCliPath } from '../../temporal/cli.ts';

export const HISTORY_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'histories');

/**
 * With SENTINEL_RECORD_HISTORIES=1 (`npm run record:histories`), saves the history of a
 * finished workflow as a replay fixture, in the Temporal CLI's JSON history format. The
 * workflow layer replays every fixture, so a change that would break running workflows
 * fails CI.
 */
export function recordHistory(temporalAddress: string, workflowId: string, name: string): void {
  if (process.env.SENTINEL_RECORD_HISTORIES !== '1') return;
  const json = execFileSync(
    temporalCliPath(),
    ['workflow', 'show', '--address', temporalAddress, '--workflow-id', workflowId, '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  mkdirSync(HISTORY_FIXTURES, { recursive: true });
  const history = JSON.parse(json) as unknown;
  writeFileSync(
    join(HISTORY_FIXTURES, `${name}.json`),
    JSON.stringify({ workflowId, history }, null, 1) + '\n',
  );
}
