import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { bundlePlanWorkflows } from '../../workers/plan-worker.ts';
import { HISTORY_FIXTURES } from '../support/histories.ts';

// Histories recorded from real runs (see test/support/histories.ts). Replaying them against
// today's workflow code proves the code still makes the same decisions for workflows that
// are already running.
const fixtures = readdirSync(HISTORY_FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('recorded workflow histories replay against the current code', () => {
  it('has fixtures to replay', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(2);
  });

  it('replays every fixture without nondeterminism', async () => {
    const workflowBundle = await bundlePlanWorkflows();
    const histories = fixtures.map((file) => {
      const { workflowId, history } = JSON.parse(readFileSync(join(HISTORY_FIXTURES, file), 'utf8')) as {
        workflowId: string;
        history: unknown;
      };
      return { workflowId, history: historyFromJSON(history) };
    });
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle, replayName: 'fixtures' },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
