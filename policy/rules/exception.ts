import { z } from 'zod';
import { text } from '../../domain/strings.ts';

/**
 * Exempts the actions its policy's selector matches from the named policies, like Kyverno's
 * PolicyException. It takes effect only over policies of strictly lower priority, only until
 * `expires` (exclusive) when set, and not in `dryrun` mode (then it is reported, not applied).
 * Exceptions cannot exempt other exceptions.
 */
export const ExceptionRuleSchema = z.strictObject({
  type: z.literal('exception'),
  /** Ids of the policies the selected actions are exempt from. */
  exempts: z.array(text({ min: 1, max: 253 })).min(1),
  /** When the exception stops applying, ISO 8601 with offset. */
  expires: z.iso.datetime({ offset: true }).optional(),
});
export type ExceptionRule = z.infer<typeof ExceptionRuleSchema>;
