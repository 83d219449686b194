import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, SentinelError, ValidationError, toSentinelError } from '../domain/errors.ts';

/** RFC 9457 problem details, with Sentinel's stable code and field issues. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  issues?: { path: string; message: string }[];
  [extra: string]: unknown;
}

/** A Sentinel error as RFC 9457 problem details. */
export function toProblem(err: SentinelError, instance?: string): Problem {
  return {
    type: `https://sentinel.dev/errors/${err.code}`,
    title: ErrorCodes[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    ...(instance ? { instance } : {}),
    ...err.details,
  };
}

/** Fastify's own errors (bad JSON, wrong content type, body too large) mapped to the registry. */
function fromFastifyError(err: FastifyError): SentinelError {
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new SentinelError('SENTINEL_ERR_UNSUPPORTED_MEDIA_TYPE', err.message);
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new ValidationError('request body', [{ path: '', message: err.message }]);
  }
  return toSentinelError(err);
}

/**
 * A stack overflow while handling a request comes from the request's shape (recursion over a
 * deeply nested body): the client's error, reported as such rather than as a 500.
 */
function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

/**
 * The one place where anything a route throws becomes a problem+json answer: Sentinel errors
 * keep their code, Fastify's request errors (bad JSON, wrong media type, body too large) and
 * stack overflows on the request's shape are 400/415, and anything else is a 500.
 */
export function problemErrorHandler(
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const sentinelError =
    err instanceof SentinelError
      ? err
      : isStackOverflow(err)
        ? new ValidationError('request', [
            { path: '', message: 'too deeply nested to process; send a flatter document' },
          ])
        : typeof (err as FastifyError).code === 'string'
          ? fromFastifyError(err as FastifyError)
          : toSentinelError(err);
  if (sentinelError.status >= 500) request.log.error({ err }, 'request failed');
  return reply
    .code(sentinelError.status)
    .type('application/problem+json')
    .send(toProblem(sentinelError, request.url));
}
