import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

/** The longest {@link TemporalClientConnection.close} waits for a retry already scheduled. */
export const CLOSE_GRACE_MS = 10_000;

/** A client {@link Connection} that closes only once no retry of the SDK is still scheduled. */
export interface TemporalClientConnection {
  connection: Connection;
  /**
   * Stops scheduling retries, waits (up to {@link CLOSE_GRACE_MS}) until the retries already
   * scheduled have started, then closes the channel. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Connects a Temporal client whose close cannot crash the process. The SDK retries a failed
 * call (UNAVAILABLE, …) from a `setTimeout`; a timer that fires after `connection.close()`
 * starts a call on the closed channel, and grpc-js throws `Channel has been shut down` from
 * that timer, outside any promise: an uncaught exception (`sentinel dev` exited 1 on every
 * Ctrl-C). Here the retry decider knows when the connection is closing and schedules no new
 * retry; close waits until the last retry scheduled before it has started, so every call is
 * made on an open channel, and one still in flight when the channel closes just fails
 * (without a retry) to its caller.
 */
export async function connectTemporalClient(address: string): Promise<TemporalClientConnection> {
  let closing = false;
  let lastRetryAt = 0;
  const base = defaultGrpcRetryOptions();
  const retry = makeGrpcRetryInterceptor({
    retryableDecider: (attempt, status) => !closing && base.retryableDecider(attempt, status),
    delayFunction: (attempt, status) => {
      const delay = base.delayFunction(attempt, status);
      lastRetryAt = Math.max(lastRetryAt, Date.now() + delay);
      return delay;
    },
  });
  const connection = await Connection.connect({ address, interceptors: [retry] });
  let closed: Promise<void> | undefined;
  const close = async () => {
    closing = true;
    const wait = Math.min(lastRetryAt - Date.now(), CLOSE_GRACE_MS);
    // A few milliseconds past the timer, so its call has been created on the open channel.
    if (wait > -50) await new Promise((resolve) => setTimeout(resolve, Math.max(wait, 0) + 50));
    await connection.close();
  };
  return { connection, close: () => (closed ??= close()) };
}
