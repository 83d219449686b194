/**
 * The Kubernetes driver's typed errors. Every failure the driver reports is one of these,
 * with a stable `SENTINEL_ERR_K8S_*` code, the HTTP status an API should answer with, and
 * `retryable`: whether trying the same operation again later can succeed. Activities turn
 * non-retryable errors into non-retryable Temporal failures.
 */

/** Each code with its HTTP status, whether it is worth retrying, and a title. */
export const KubeErrorCodes = {
  SENTINEL_ERR_K8S_NOT_FOUND: { status: 404, retryable: false, title: 'Kubernetes object not found' },
  SENTINEL_ERR_K8S_CONFLICT: { status: 409, retryable: true, title: 'Kubernetes write conflict' },
  SENTINEL_ERR_K8S_FORBIDDEN: { status: 403, retryable: false, title: 'Kubernetes request forbidden' },
  SENTINEL_ERR_K8S_INVALID: { status: 422, retryable: false, title: 'Kubernetes request invalid' },
  SENTINEL_ERR_K8S_QUOTA_EXCEEDED: {
    status: 403,
    retryable: false,
    title: 'Kubernetes resource quota exceeded',
  },
  SENTINEL_ERR_K8S_TIMEOUT: { status: 504, retryable: true, title: 'Kubernetes operation timed out' },
  SENTINEL_ERR_K8S_UNAVAILABLE: { status: 503, retryable: true, title: 'Kubernetes API unavailable' },
  SENTINEL_ERR_K8S_UNKNOWN_CLUSTER: { status: 404, retryable: false, title: 'Unknown cluster' },
  SENTINEL_ERR_K8S_ROLLOUT_FAILED: { status: 409, retryable: false, title: 'Rollout failed' },
  SENTINEL_ERR_K8S_INTERNAL: { status: 500, retryable: false, title: 'Unexpected Kubernetes driver failure' },
} as const;
export type KubeErrorCode = keyof typeof KubeErrorCodes;

/** Where an error happened: which cluster, and which object when there is one. */
export interface KubeErrorContext {
  cluster: string;
  namespace?: string;
  kind?: string;
  name?: string;
  /** The HTTP verb and path of the failing request, when a request failed. */
  request?: string;
}

/** What the apiserver said, when it said anything. */
export interface KubeErrorOptions {
  cause?: unknown;
  /** HTTP status of the apiserver's answer; absent for connection failures. */
  httpStatus?: number;
  /** `reason` of the apiserver's Status object, e.g. `AlreadyExists`, `Conflict`. */
  reason?: string;
  /** Overrides the code's default retryability (e.g. `AlreadyExists` is a 409 that never succeeds on retry). */
  retryable?: boolean;
  /** Milliseconds the apiserver asked us to wait (`Retry-After`). */
  retryAfterMs?: number;
}

function describe(ctx: KubeErrorContext): string {
  const object = ctx.name
    ? ` ${ctx.kind ?? 'object'} ${ctx.namespace ? `${ctx.namespace}/` : ''}${ctx.name}`
    : '';
  return `cluster ${ctx.cluster}${object}`;
}

/** Base of the driver's errors; never thrown itself. */
export abstract class KubeError extends Error {
  abstract readonly code: KubeErrorCode;
  readonly cluster: string;
  readonly namespace: string | undefined;
  readonly kind: string | undefined;
  readonly objectName: string | undefined;
  readonly request: string | undefined;
  readonly httpStatus: number | undefined;
  readonly reason: string | undefined;
  readonly retryAfterMs: number | undefined;
  private readonly retryableOverride: boolean | undefined;

  constructor(message: string, context: KubeErrorContext, options: KubeErrorOptions = {}) {
    super(
      `${describe(context)}: ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.cluster = context.cluster;
    this.namespace = context.namespace;
    this.kind = context.kind;
    this.objectName = context.name;
    this.request = context.request;
    this.httpStatus = options.httpStatus;
    this.reason = options.reason;
    this.retryAfterMs = options.retryAfterMs;
    this.retryableOverride = options.retryable;
  }

  /** Whether the same operation can succeed if tried again later. */
  get retryable(): boolean {
    return this.retryableOverride ?? KubeErrorCodes[this.code].retryable;
  }

  /** The HTTP status an API should answer with (not the apiserver's status; see `httpStatus`). */
  get status(): number {
    return KubeErrorCodes[this.code].status;
  }

  /** Structured fields for logs, problem documents and Temporal failure details. */
  get details(): Record<string, unknown> {
    return {
      code: this.code,
      retryable: this.retryable,
      cluster: this.cluster,
      ...(this.namespace !== undefined && { namespace: this.namespace }),
      ...(this.kind !== undefined && { kind: this.kind }),
      ...(this.objectName !== undefined && { name: this.objectName }),
      ...(this.httpStatus !== undefined && { httpStatus: this.httpStatus }),
      ...(this.reason !== undefined && { reason: this.reason }),
    };
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, ...this.details };
  }
}

/** The object (or a revision, container or resource type it names) does not exist. */
export class KubeNotFoundError extends KubeError {
  readonly code = 'SENTINEL_ERR_K8S_NOT_FOUND';
  override readonly name = 'KubeNotFoundError';
}

/** A write raced another (resourceVersion precondition failed), or the object already exists. */
export class KubeConflictError extends KubeError {
  readonly code = 'SENTINEL_ERR_K8S_CONFLICT';
  override readonly name = 'KubeConflictError';
}

/** Authentication or authorization refused the request. */
export class KubeForbiddenError extends KubeError {
  readonly code = 'SENTINEL_ERR_K8S_FORBIDDEN';
  override readonly name = 'KubeForbiddenError';
}

/** The apiserver rejected the request's content, or the verb does not apply to the workload. */
export class KubeInvalidError extends KubeError {
  readonly code = 'SENTINEL_ERR_K8S_INVALID';
  override readonly name = 'KubeInvalidError';
  /** The apiserver's field causes, e.g. `spec.replicas: must be greater than or equal to 0`. */
  readonly causes: readonly string[];
  constructor(
    message: string,
    context: KubeErrorContext,
    options: KubeErrorOptions & { causes?: string[] } = {},
  ) {
    super(message, context, options);
    this.causes = options.causes ?? [];
  }
}

/** A ResourceQuota refused the request (the apiserver's 403 "exceeded quota"). */
export class KubeQuotaExceededError extends KubeError {
  readonly code = 'SENTINEL_ERR_K8S_QUOTA_EXCEEDED';
  override readonly name = 'KubeQuotaExceededError';
}

/** A request or a wait ran out of time; the change may still complete. */
export class KubeTimeoutError extends KubeError {
  readonly code = 'SENTINEL_ERR_K8S_TIMEOUT';
  override readonly name = 'KubeTimeoutError';
}

/** The apiserver could not be reached or answered 429/5xx. */
export class KubeUnavailableError extends KubeError {
  readonly code = 'SENTINEL_ERR_K8S_UNAVAILABLE';
  override readonly name = 'KubeUnavailableError';
}

/** No cluster of that name is in the registry. */
export class KubeUnknownClusterError extends KubeError {
  readonly code = 'SENTINEL_ERR_K8S_UNKNOWN_CLUSTER';
  override readonly name = 'KubeUnknownClusterError';
  constructor(cluster: string, known: readonly string[]) {
    super(`no such cluster in the registry (known: ${known.length > 0 ? known.join(', ') : 'none'})`, {
      cluster,
    });
  }
}

/** A rollout cannot finish by itself: progress deadline exceeded, or a Job failed. */
export class KubeRolloutFailedError extends KubeError {
  readonly code = 'SENTINEL_ERR_K8S_ROLLOUT_FAILED';
  override readonly name = 'KubeRolloutFailedError';
}

/** Anything else: an unparseable answer or a bug in the driver. */
export class KubeInternalError extends KubeError {
  readonly code = 'SENTINEL_ERR_K8S_INTERNAL';
  override readonly name = 'KubeInternalError';
}

/** True for driver errors that are worth retrying. */
export function isRetryableKubeError(err: unknown): boolean {
  return err instanceof KubeError && err.retryable;
}

/** The apiserver's `Status` object, as far as the driver reads it. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { field?: string; message?: string; reason?: string }[]; retryAfterSeconds?: number };
}

/** Maps a non-2xx apiserver answer to the typed error it means. */
export function kubeErrorFromResponse(
  httpStatus: number,
  body: KubeStatus | undefined,
  context: KubeErrorContext,
  retryAfterHeader?: string,
): KubeError {
  const reason = body?.reason;
  const message = body?.message ?? `HTTP ${httpStatus}`;
  const retryAfterSeconds =
    body?.details?.retryAfterSeconds ?? (retryAfterHeader ? Number(retryAfterHeader) : NaN);
  const options: KubeErrorOptions = {
    httpStatus,
    ...(reason !== undefined && { reason }),
    ...(Number.isFinite(retryAfterSeconds) && { retryAfterMs: retryAfterSeconds * 1000 }),
  };
  switch (httpStatus) {
    case 400:
    case 422:
    case 415: {
      const causes = (body?.details?.causes ?? []).map(
        (c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`,
      );
      return new KubeInvalidError(message, context, { ...options, causes });
    }
    case 401:
    case 403:
      // ResourceQuota admission answers 403 Forbidden with "exceeded quota" in the message.
      return /exceeded quota/i.test(message)
        ? new KubeQuotaExceededError(message, context, options)
        : new KubeForbiddenError(message, context, options);
    case 404:
      return new KubeNotFoundError(message, context, options);
    case 409:
      // AlreadyExists is a 409 too, but retrying it cannot succeed.
      return new KubeConflictError(message, context, { ...options, retryable: reason !== 'AlreadyExists' });
    case 410:
      return new KubeConflictError(message, context, options);
    case 429:
      return new KubeUnavailableError(message, context, options);
    case 504:
      return new KubeTimeoutError(message, context, options);
    default:
      if (httpStatus >= 500) {
        return reason === 'Timeout'
          ? new KubeTimeoutError(message, context, options)
          : new KubeUnavailableError(message, context, options);
      }
      return new KubeInvalidError(message, context, options);
  }
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Normalises anything a request can throw into a driver error, in one place: driver errors
 * pass through, socket and TLS failures become `UNAVAILABLE`, anything else `INTERNAL`.
 */
export function toKubeError(err: unknown, context: KubeErrorContext): KubeError {
  if (err instanceof KubeError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) {
    return new KubeUnavailableError(`apiserver unreachable (${code}): ${message}`, context, { cause: err });
  }
  if (/socket hang up|TLS|certificate|self[- ]signed/i.test(message)) {
    return new KubeUnavailableError(`apiserver connection failed: ${message}`, context, {
      cause: err,
      // A certificate the client does not trust will not start being trusted on retry.
      retryable: !/certificate|self[- ]signed/i.test(message),
    });
  }
  return new KubeInternalError(message, context, { cause: err });
}
