import type { ClusterRegistry } from './clusters.ts';
import { rescheduleWorkload } from './reschedule.ts';
import { rollbackWorkload } from './rollback.ts';
import { scaleWorkload } from './scale.ts';
import type {
  InverseAction,
  MutationOptions,
  MutationResult,
  RescheduleParams,
  RollbackParams,
  ScaleParams,
  UpdateParams,
  WorkloadTarget,
} from './types.ts';
import { updateWorkload } from './update.ts';

/** One verb with its parameters: a plan step without its target, or an inverse. */
export type VerbCall =
  | { verb: 'scale'; params: ScaleParams }
  | { verb: 'update'; params: UpdateParams }
  | { verb: 'rollback'; params: RollbackParams }
  | { verb: 'reschedule'; params: RescheduleParams };

/** Runs one verb by name: what a plan step or a compensation calls. */
export async function runVerb(
  registry: ClusterRegistry,
  target: WorkloadTarget,
  call: VerbCall,
  options: MutationOptions = {},
): Promise<MutationResult<unknown>> {
  switch (call.verb) {
    case 'scale':
      return scaleWorkload(registry, target, call.params, options);
    case 'update':
      return updateWorkload(registry, target, call.params, options);
    case 'rollback':
      return rollbackWorkload(registry, target, call.params, options);
    case 'reschedule':
      return rescheduleWorkload(registry, target, call.params, options);
  }
}

/** Undoes a change: runs the inverse a verb returned. Idempotent like every verb. */
export async function undoMutation(
  registry: ClusterRegistry,
  target: WorkloadTarget,
  inverse: InverseAction,
  options: MutationOptions = {},
): Promise<MutationResult<unknown>> {
  return runVerb(registry, target, inverse, options);
}
