import { z } from 'zod';

/**
 * Exempts the actions its policy's selector matches from the named policies, like Kyverno's
 * PolicyException. It takes effect only over policies of strictly lower priority, only until
 * `expires` (exclusive) when set, and not in `dryrun` mode (then it is reported, not applied).
 * Exceptions cannot exempt other exceptions.
 */
export const ExceptionRuleSchema = z.strictObject({
  type: z.literal('exception'),
  /** Ids of the policies the selected actions are exempt from. */
  exempts: z.array(z.string().min(1)).min(1),
  /** When the exception stops applying, ISO 8601 with offset. */
  expires: z.iso.datetime({ offset: true }).optional(),
});
export type ExceptionRule = z.infer<typeof ExceptionRuleSchema>;
