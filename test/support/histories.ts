import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

export const HISTORY_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'histories');

/**
 * With SENTINEL_RECORD_HISTORIES=1 (`npm run record:histories`), saves the history of a
 * finished workflow as a replay fixture. The workflow layer replays every fixture, so a code
 * change that would break running workflows fails CI.
 */
export async function recordHistory(client: Client, workflowId: string, name: string): Promise<void> {
  if (process.env.SENTINEL_RECORD_HISTORIES !== '1') return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  mkdirSync(HISTORY_FIXTURES, { recursive: true });
  const file = join(HISTORY_FIXTURES, `${name}.json`);
  writeFileSync(file, JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) as unknown }, null, 1));
}
