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

export function problemErrorHandler(
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const sentinelError =
    err instanceof SentinelError
      ? err
      : typeof (err as FastifyError).code === 'string'
        ? fromFastifyError(err as FastifyError)
        : toSentinelError(err);
  if (sentinelError.status >= 500) request.log.error({ err }, 'request failed');
  return reply
    .code(sentinelError.status)
    .type('application/problem+json')
    .send(toProblem(sentinelError, request.url));
}
