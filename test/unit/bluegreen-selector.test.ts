import { describe, expect, it } from 'vitest';
import { restoredSelectorProblem } from '../../activities/rollout-activities.ts';

// A blue/green rollout gives each Service its selector back at the end; that selector must
// select the new template's pods, or the Service ends with no endpoints.
describe('restoredSelectorProblem', () => {
  const labels = { app: 'shop', tier: 'web' };

  it('accepts a selector of labels the new pods carry', () => {
    expect(restoredSelectorProblem({ name: 'shop', selector: { app: 'shop' } }, labels)).toBeNull();
    expect(restoredSelectorProblem({ name: 'shop', selector: labels }, labels)).toBeNull();
  });

  it('refuses a selector that pins a pod-template-hash, naming the Service and the hash', () => {
    expect(
      restoredSelectorProblem(
        { name: 'shop', selector: { app: 'shop', 'pod-template-hash': '7d9f' } },
        labels,
      ),
    ).toMatch(/^Service shop selects pod-template-hash=7d9f.*would select no pods; remove pod-template-hash/);
  });

  it('refuses a selector label the new template changes or removes', () => {
    expect(
      restoredSelectorProblem(
        { name: 'shop', selector: { app: 'shop', tier: 'web' } },
        { app: 'shop', tier: 'api' },
      ),
    ).toBe(
      "Service shop selects tier=web, which the new template's pods do not carry: the Service would end with no endpoints",
    );
  });
});
