import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryableKubeError } from './errors.ts';

/** How the driver retries a retryable failure (409 conflict, 429, 5xx, connection reset). */
export interface RetryOptions {
  /**
   * Attempts in all, the first included; `maxElapsedMs` is usually the bound that bites.
   * @default 30
   */
  maxAttempts?: number;
  /**
   * Stop retrying once this much time has passed since the first attempt; the last error is thrown.
   * @default 60_000
   */
  maxElapsedMs?: number;
  /**
   * Delay before the first retry; each later one doubles, up to `maxDelayMs`.
   * @default 200
   */
  initialDelayMs?: number;
  /** @default 5_000 */
  maxDelayMs?: number;
  /** Called before each wait, e.g. to log or heartbeat. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Aborts the waits between attempts. */
  signal?: AbortSignal;
}

export type RetryOptionsWithDefaults = Required<Omit<RetryOptions, 'onRetry' | 'signal'>> &
  Pick<RetryOptions, 'onRetry' | 'signal'>;

export function retryOptionsWithDefaults(options: RetryOptions = {}): RetryOptionsWithDefaults {
  return {
    maxAttempts: options.maxAttempts ?? 30,
    maxElapsedMs: options.maxElapsedMs ?? 60_000,
    initialDelayMs: options.initialDelayMs ?? 200,
    maxDelayMs: options.maxDelayMs ?? 5_000,
    onRetry: options.onRetry,
    signal: options.signal,
  };
}

/**
 * Exponential backoff with full jitter: a random delay between half of and the whole of
 * `initial * 2^(attempt-1)`, capped, so that many clients retrying one apiserver spread out.
 */
export function backoffDelay(
  attempt: number,
  initialDelayMs: number,
  maxDelayMs: number,
  random = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Runs `operation` until it succeeds, throws a non-retryable error, or the attempt or time
 * budget is spent. `operation` must be safe to repeat: the driver's operations read the live
 * object first and write with a resourceVersion precondition, so a repeat after a lost
 * answer finds the change already made.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const o = retryOptionsWithDefaults(options);
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      if (!isRetryableKubeError(err) || attempt >= o.maxAttempts) throw err;
      const retryAfter = (err as { retryAfterMs?: number }).retryAfterMs ?? 0;
      const delay = Math.max(retryAfter, backoffDelay(attempt, o.initialDelayMs, o.maxDelayMs));
      if (Date.now() - started + delay > o.maxElapsedMs) throw err;
      o.onRetry?.(err, attempt, delay);
      await sleep(delay, undefined, { signal: o.signal });
    }
  }
}
