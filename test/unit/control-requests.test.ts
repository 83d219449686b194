import { describe, expect, it } from 'vitest';
import { ControlRequestSchema } from '../../domain/plan-messages.ts';
import { RolloutControlRequestSchema } from '../../domain/rollout-messages.ts';

// Control bodies (pause, resume, abort, promote) reach the database through the workflow's
// bookkeeping: an actor or reason PostgreSQL refuses once failed a rollout's bookkeeping
// until its retries ran out, leaving its canary behind. They are refused at the boundary.
describe.each([
  ['plan', ControlRequestSchema],
  ['rollout', RolloutControlRequestSchema],
] as const)('%s control requests', (_kind, schema) => {
  it.each([
    ['actor', { actor: 'qa\u0000actor' }, 'must not contain the NUL character (U+0000)'],
    ['reason', { reason: 'bad \ud800' }, 'must not contain a lone UTF-16 surrogate (not valid Unicode)'],
  ])('refuses an unstorable %s, naming it', (field, body, message) => {
    const result = schema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([[field, message]]);
  });

  it('accepts a named operator and a reason', () => {
    expect(schema.parse({ actor: 'alice@example.com', reason: 'canary error rate' })).toEqual({
      actor: 'alice@example.com',
      reason: 'canary error rate',
    });
  });
});
