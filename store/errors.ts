/**
 * What a failed database call means for whoever retries it. PostgreSQL (and PGlite) name
 * each error by a SQLSTATE; drizzle wraps the driver's error in `cause`.
 */

/** The SQLSTATE of a database error, looked for along its `cause` chain. */
export function sqlStateOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * True when the database refused the data itself, so the same call can never succeed:
 * SQLSTATE class 22 "data exception" (e.g. 22P05 a NUL in `text`/`jsonb`, 22P02 invalid
 * JSON such as a lone surrogate, 22001 a string too long for its column). Connection
 * failures, serialization failures and timeouts are not: a retry may succeed.
 */
export function isDataRejectedError(err: unknown): boolean {
  return sqlStateOf(err)?.startsWith('22') ?? false;
}
