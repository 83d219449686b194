/**
 * The central error registry: every error Sentinel reports across a boundary has a stable
 * `SENTINEL_ERR_*` code, an HTTP status and a title. docs/errors.md documents each one.
 */
export const ErrorCodes = {
  SENTINEL_ERR_VALIDATION: { status: 400, title: 'Invalid request' },
  SENTINEL_ERR_POLICY_INVALID: { status: 400, title: 'Invalid policy document' },
  SENTINEL_ERR_UNAUTHENTICATED: { status: 401, title: 'Missing or unknown bearer token' },
  SENTINEL_ERR_FORBIDDEN: { status: 403, title: 'Role not allowed' },
  SENTINEL_ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  SENTINEL_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  SENTINEL_ERR_CONFLICT: { status: 409, title: 'Conflict' },
  SENTINEL_ERR_CONTROL_REJECTED: { status: 409, title: 'Control action rejected' },
  SENTINEL_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  SENTINEL_ERR_CONFIG: { status: 500, title: 'Invalid configuration' },
  SENTINEL_ERR_INTERNAL: { status: 500, title: 'Internal error' },
  SENTINEL_ERR_UNAVAILABLE: { status: 503, title: 'Dependency unavailable' },
} as const;
export type ErrorCode = keyof typeof ErrorCodes;

/** One precise problem with an input: where (a dotted path) and what. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Base of Sentinel's typed errors; `cause` chains keep the original error. */
export class SentinelError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SentinelError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.details = options.details ?? {};
  }
}

/** Input failed validation; `issues` names every bad field. */
export class ValidationError extends SentinelError {
  readonly issues: FieldIssue[];
  constructor(what: string, issues: FieldIssue[]) {
    super(
      'SENTINEL_ERR_VALIDATION',
      `${what}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
      {
        details: { issues },
      },
    );
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

export class NotFoundError extends SentinelError {
  constructor(what: string) {
    super('SENTINEL_ERR_NOT_FOUND', `${what} not found`);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends SentinelError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SENTINEL_ERR_CONFLICT', message, { details });
    this.name = 'ConflictError';
  }
}

export class ConfigError extends SentinelError {
  constructor(message: string, issues: FieldIssue[] = []) {
    super('SENTINEL_ERR_CONFIG', message, { details: { issues } });
    this.name = 'ConfigError';
  }
}

/** Normalises anything thrown into a SentinelError, in one place. */
export function toSentinelError(err: unknown): SentinelError {
  if (err instanceof SentinelError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SentinelError('SENTINEL_ERR_INTERNAL', message, { cause: err });
}
