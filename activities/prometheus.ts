// The Prometheus adapter: instant and range queries over the HTTP API with fetch, every failure
// a typed PrometheusError with a stable code and a retryable flag. Nothing here knows about
// analyses; activities/analysis-activities.ts builds on it.

/** Each code with the HTTP status an API should answer with, whether a retry can help, and a title. */
export const PrometheusErrorCodes = {
  SENTINEL_ERR_PROMETHEUS_UNAVAILABLE: {
    status: 503,
    retryable: true,
    title: 'Prometheus unreachable, overloaded or failing',
  },
  SENTINEL_ERR_PROMETHEUS_TIMEOUT: { status: 504, retryable: true, title: 'Prometheus query timed out' },
  SENTINEL_ERR_PROMETHEUS_BAD_QUERY: { status: 422, retryable: false, title: 'PromQL query rejected' },
  SENTINEL_ERR_PROMETHEUS_EXECUTION: {
    status: 422,
    retryable: false,
    title: 'PromQL query could not be executed',
  },
  SENTINEL_ERR_PROMETHEUS_UNSUPPORTED_RESULT: {
    status: 422,
    retryable: false,
    title: 'Query result is not an instant vector or scalar',
  },
  SENTINEL_ERR_PROMETHEUS_BAD_RESPONSE: {
    status: 502,
    retryable: true,
    title: 'Unreadable answer from Prometheus',
  },
} as const;
export type PrometheusErrorCode = keyof typeof PrometheusErrorCodes;

/** Options of {@link PrometheusError}. */
export interface PrometheusErrorOptions {
  cause?: unknown;
  /** The query that failed. */
  query?: string;
  /** HTTP status of Prometheus's answer; absent when none came. */
  httpStatus?: number;
  /** Prometheus's `errorType`: `bad_data`, `execution`, `timeout`, `canceled`, `internal`, `unavailable`. */
  errorType?: string;
}

/** A failed Prometheus request; `code` is stable, `retryable` says whether trying again can help. */
export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
  readonly code: PrometheusErrorCode;
  readonly query: string | undefined;
  readonly httpStatus: number | undefined;
  readonly errorType: string | undefined;

  constructor(code: PrometheusErrorCode, message: string, options: PrometheusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.query = options.query;
    this.httpStatus = options.httpStatus;
    this.errorType = options.errorType;
  }

  /** Whether the same request can succeed if sent again later. */
  get retryable(): boolean {
    return PrometheusErrorCodes[this.code].retryable;
  }

  /** The HTTP status an API should answer with (not Prometheus's; see `httpStatus`). */
  get status(): number {
    return PrometheusErrorCodes[this.code].status;
  }

  /** Structured fields for logs, problem documents and Temporal failure details. */
  get details(): Record<string, unknown> {
    return {
      code: this.code,
      retryable: this.retryable,
      ...(this.query !== undefined && { query: this.query }),
      ...(this.httpStatus !== undefined && { httpStatus: this.httpStatus }),
      ...(this.errorType !== undefined && { errorType: this.errorType }),
    };
  }
}

/** Options shared by the query functions. */
export interface PrometheusRequestOptions {
  /** Per-request time limit, also sent to Prometheus as its query `timeout`. @default 10_000 */
  timeoutMs?: number;
  /** Cancels the request (e.g. the activity's cancellation). */
  signal?: AbortSignal;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** An evaluation time: a Date, an RFC 3339 string, or milliseconds since the epoch. */
export type PrometheusTime = Date | string | number;

/** One series of a range query: its labels and its `[unix seconds, value]` points in time order. */
export interface PrometheusRangeSeries {
  labels: Record<string, string>;
  points: [number, number][];
}

type SamplePair = [number, string];
interface ApiAnswer {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
}

/** Prometheus writes NaN and infinities as `"NaN"`, `"+Inf"`, `"-Inf"`. */
function parseSampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return text === 'NaN' ? NaN : Number(text);
}

function toUnixSeconds(time: PrometheusTime): string {
  const ms = time instanceof Date ? time.getTime() : typeof time === 'string' ? Date.parse(time) : time;
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${String(time)}`);
  return (ms / 1000).toFixed(3);
}

/** A stable order for series: by their label sets, so `result[0]` means the same series every time. */
function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function codeForErrorType(errorType: string | undefined, httpStatus: number): PrometheusErrorCode {
  switch (errorType) {
    case 'bad_data':
      return 'SENTINEL_ERR_PROMETHEUS_BAD_QUERY';
    case 'execution':
      return 'SENTINEL_ERR_PROMETHEUS_EXECUTION';
    case 'timeout':
      return 'SENTINEL_ERR_PROMETHEUS_TIMEOUT';
    default:
      return httpStatus === 400 ? 'SENTINEL_ERR_PROMETHEUS_BAD_QUERY' : 'SENTINEL_ERR_PROMETHEUS_UNAVAILABLE';
  }
}

/** POSTs a form to the HTTP API and returns `data`, or throws a PrometheusError. */
async function callApi(
  baseUrl: string,
  path: string,
  form: Record<string, string>,
  options: PrometheusRequestOptions,
): Promise<{ resultType: string; result: unknown }> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const query = form.query;
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
  let response: Response;
  try {
    response = await doFetch(new URL(path, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, timeout: `${Math.max(1, Math.floor(timeoutMs / 1000))}s` }),
      signal: AbortSignal.any(signals),
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError')
      throw new PrometheusError(
        'SENTINEL_ERR_PROMETHEUS_TIMEOUT',
        `Prometheus at ${baseUrl} did not answer within ${timeoutMs} ms`,
        { cause: err, query },
      );
    if (options.signal?.aborted) throw err;
    throw new PrometheusError(
      'SENTINEL_ERR_PROMETHEUS_UNAVAILABLE',
      `Prometheus at ${baseUrl} is unreachable: ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`,
      { cause: err, query },
    );
  }
  let body: ApiAnswer | undefined;
  const text = await response.text();
  try {
    body = JSON.parse(text) as ApiAnswer;
  } catch {
    body = undefined;
  }
  if (body?.status === 'success' && body.data) return body.data;
  if (body?.status === 'error') {
    const code = codeForErrorType(body.errorType, response.status);
    throw new PrometheusError(
      code,
      `Prometheus ${body.errorType ?? 'error'}: ${body.error ?? 'no message'}`,
      {
        query,
        httpStatus: response.status,
        ...(body.errorType !== undefined && { errorType: body.errorType }),
      },
    );
  }
  const code =
    response.status === 429 || response.status >= 500
      ? 'SENTINEL_ERR_PROMETHEUS_UNAVAILABLE'
      : 'SENTINEL_ERR_PROMETHEUS_BAD_RESPONSE';
  throw new PrometheusError(
    code,
    `Prometheus answered ${response.status} with ${body ? 'an unexpected document' : 'a body that is not JSON'}: ${text.slice(0, 200)}`,
    { query, httpStatus: response.status },
  );
}

function badResponse(query: string, what: string): PrometheusError {
  return new PrometheusError('SENTINEL_ERR_PROMETHEUS_BAD_RESPONSE', `unreadable query result: ${what}`, {
    query,
  });
}

/**
 * Runs an instant query (`/api/v1/query`) and returns its values: one per series of an instant
 * vector, ordered by the series' label sets, or the single value of a scalar. NaN and ±Inf
 * come back as such. A range vector or string result is `SENTINEL_ERR_PROMETHEUS_UNSUPPORTED_RESULT`.
 *
 * @param url Prometheus's base URL, e.g. `http://127.0.0.1:9090` (`PROMETHEUS_URL`).
 * @param time Evaluation time; Prometheus's current time when absent.
 */
export async function queryPrometheus(
  url: string,
  promql: string,
  time?: PrometheusTime,
  options: PrometheusRequestOptions = {},
): Promise<number[]> {
  const data = await callApi(
    url,
    '/api/v1/query',
    { query: promql, ...(time === undefined ? {} : { time: toUnixSeconds(time) }) },
    options,
  );
  if (data.resultType === 'scalar') {
    const pair = data.result as SamplePair;
    if (!Array.isArray(pair) || typeof pair[1] !== 'string')
      throw badResponse(promql, 'scalar without a value');
    return [parseSampleValue(pair[1])];
  }
  if (data.resultType === 'vector') {
    if (!Array.isArray(data.result)) throw badResponse(promql, 'vector without a list of series');
    const series = (data.result as { metric?: Record<string, string>; value?: SamplePair }[]).map((s) => {
      if (!s.value || typeof s.value[1] !== 'string') throw badResponse(promql, 'series without a value');
      return { key: labelKey(s.metric ?? {}), value: parseSampleValue(s.value[1]) };
    });
    return series.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((s) => s.value);
  }
  throw new PrometheusError(
    'SENTINEL_ERR_PROMETHEUS_UNSUPPORTED_RESULT',
    `the query returned a ${data.resultType}; analyses need an instant vector or a scalar (drop the [range] selector or wrap it in a function such as rate())`,
    { query: promql },
  );
}

/**
 * Runs a range query (`/api/v1/query_range`) from `start` to `end` every `stepSeconds` and
 * returns each series (ordered by label set) with its points. A scalar expression comes back
 * as one series without labels.
 */
export async function queryPrometheusRange(
  url: string,
  promql: string,
  range: { start: PrometheusTime; end: PrometheusTime; stepSeconds: number },
  options: PrometheusRequestOptions = {},
): Promise<PrometheusRangeSeries[]> {
  const data = await callApi(
    url,
    '/api/v1/query_range',
    {
      query: promql,
      start: toUnixSeconds(range.start),
      end: toUnixSeconds(range.end),
      step: String(range.stepSeconds),
    },
    options,
  );
  if (data.resultType !== 'matrix' || !Array.isArray(data.result))
    throw badResponse(promql, `a range query returned a ${data.resultType}`);
  const series = (data.result as { metric?: Record<string, string>; values?: SamplePair[] }[]).map((s) => {
    if (!Array.isArray(s.values)) throw badResponse(promql, 'series without values');
    return {
      labels: s.metric ?? {},
      points: s.values.map(([t, v]): [number, number] => [t, parseSampleValue(v)]),
    };
  });
  return series.sort((a, b) => {
    const [ka, kb] = [labelKey(a.labels), labelKey(b.labels)];
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}
