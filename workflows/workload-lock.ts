import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  acquireLockSignal,
  lockGrantedSignal,
  lockStateQuery,
  releaseLockSignal,
  type LockRequest,
  type LockState,
} from '../domain/lock-messages.ts';

/** The lock's state as a small class: a holder and a queue ordered by priority, then arrival. */
class WorkloadLock {
  holder: LockRequest | null;
  readonly queue: LockRequest[];
  private arrivals = 0;
  private readonly arrivalOf = new Map<string, number>();

  constructor(
    readonly workload: string,
    carried?: LockState,
  ) {
    this.holder = carried?.holder ?? null;
    this.queue = [];
    for (const request of carried?.queue ?? []) this.enqueue(request);
  }

  enqueue(request: LockRequest): void {
    // A retried acquire (the activity that sends it may run twice) must not queue twice.
    if (this.holder?.requesterId === request.requesterId) return;
    if (this.queue.some((r) => r.requesterId === request.requesterId)) return;
    this.arrivalOf.set(request.requesterId, this.arrivals++);
    this.queue.push(request);
    this.queue.sort(
      (a, b) =>
        b.priority - a.priority || this.arrivalOf.get(a.requesterId)! - this.arrivalOf.get(b.requesterId)!,
    );
  }

  release(requesterId: string): void {
    if (this.holder?.requesterId === requesterId) this.holder = null;
    const index = this.queue.findIndex((r) => r.requesterId === requesterId);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /** The next request to grant, if the lock is free. */
  next(): LockRequest | undefined {
    if (this.holder !== null || this.queue.length === 0) return undefined;
    this.holder = this.queue.shift()!;
    return this.holder;
  }

  get idle(): boolean {
    return this.holder === null && this.queue.length === 0;
  }

  state(): LockState {
    return { workload: this.workload, holder: this.holder, queue: [...this.queue] };
  }
}

/** Hands that many grants before continuing as new, to keep the history short. */
const GRANTS_PER_RUN = 500;

/**
 * One per workload (`lock/<workload>`): grants the workload to one plan at a time, highest
 * priority first. Started with signal-with-start by the first plan that asks; ends itself
 * when nobody has held or wanted it for a while (a later signal-with-start starts a new run).
 */
export async function workloadLockWorkflow(workload: string, carried?: LockState): Promise<void> {
  const lock = new WorkloadLock(workload, carried);
  setHandler(acquireLockSignal, (request) => lock.enqueue(request));
  setHandler(releaseLockSignal, ({ requesterId }) => lock.release(requesterId));
  setHandler(lockStateQuery, () => lock.state());

  let grants = 0;
  for (;;) {
    const request = lock.next();
    if (request) {
      grants++;
      try {
        await getExternalWorkflowHandle(request.requesterId).signal(lockGrantedSignal, {
          lockId: workflowInfo().workflowId,
          workload,
        });
      } catch {
        // The requester is gone (finished or terminated): its turn passes to the next.
        lock.release(request.requesterId);
      }
      continue;
    }
    if (grants >= GRANTS_PER_RUN && lock.holder === null) {
      await continueAsNew<typeof workloadLockWorkflow>(workload, lock.state());
    }
    const woke = await condition(
      () => (lock.holder === null && lock.queue.length > 0) || false,
      lock.idle ? '10 minutes' : undefined,
    );
    if (!woke && lock.idle) return;
  }
}
