import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../stack/local-stack.ts';
import { runSchemathesis, schemathesisBinary } from '../support/schemathesis.ts';
import { startTestStack } from '../support/stack.ts';

// The API against its own contract: schemathesis generates valid and invalid requests for
// every operation of /openapi.json (with auth configured) and runs every check it has (no
// 5xx, documented statuses and content types, valid data accepted, invalid data rejected,
// auth not ignored, nothing served after a DELETE, ...).
const TOKEN = 'schemathesis-admin-token';

describe('OpenAPI contract (schemathesis)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    schemathesisBinary(); // installed before the stack starts, not inside the test's time
    stack = await startTestStack({ SENTINEL_API_TOKENS: `${TOKEN}:admin` });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('passes every check for every operation', async () => {
    const result = await runSchemathesis(
      [
        `${stack.apiUrl}/openapi.json`,
        '--url',
        stack.apiUrl,
        '--checks',
        'all',
        '--header',
        `Authorization: Bearer ${TOKEN}`,
        // Bounded and reproducible: at most 10 cases per operation and phase, generated the
        // same way every run (deterministic mode needs no seed). About 90 s on 2 cores.
        '--max-examples',
        '10',
        '--generation-deterministic',
        '--workers',
        '1',
        '--request-timeout',
        '20',
        '--no-shrink',
      ],
      170_000,
    );
    if (result.code !== 0) console.error(result.output);
    expect(result.code, 'schemathesis found failures (its report is printed above)').toBe(0);
  });
});
