/**
 * What an action does to a workload. The first four are ActionPlan verbs; `promote`,
 * `setWeight` and `switch` are canary and blue/green steps, which policies guard too.
 */
export const PolicyVerb = {
  scale: 'scale',
  update: 'update',
  rollback: 'rollback',
  reschedule: 'reschedule',
  promote: 'promote',
  setWeight: 'setWeight',
  switch: 'switch',
} as const;
export type PolicyVerb = (typeof PolicyVerb)[keyof typeof PolicyVerb];

/** All verbs, for `z.enum`. */
export const POLICY_VERBS = Object.values(PolicyVerb) as [PolicyVerb, ...PolicyVerb[]];
