import { SentinelError } from '../domain/errors.ts';

/** How long the API waits for a running workflow's `status` query before falling back. */
export const LIVE_STATUS_TIMEOUT_MS = 2_000;

/** Rejects when `promise` has not settled within `ms` (a query to a workflow no worker serves). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A failed Temporal call as a 503 problem, keeping the original error as its cause. */
export function temporalUnavailable(err: unknown): SentinelError {
  if (err instanceof SentinelError) return err;
  return new SentinelError('SENTINEL_ERR_UNAVAILABLE', `Temporal request failed: ${(err as Error).message}`, {
    cause: err,
  });
}
