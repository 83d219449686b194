import { SentinelError, type ErrorCode, ErrorCodes } from '../domain/errors.ts';

/** Options every API-calling command shares. */
export interface ApiClientOptions {
  apiUrl: string;
  token?: string;
}

/** A minimal HTTP client for the Sentinel API that turns problem+json answers into typed errors. */
export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const url = this.url(path);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new SentinelError(
        'SENTINEL_ERR_UNAVAILABLE',
        `cannot reach the Sentinel API at ${this.options.apiUrl} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}); is \`sentinel dev\` running, or is --api / SENTINEL_API_URL right?`,
      );
    }
    const text = await response.text();
    const parsed = this.parse(text, response);
    if (!response.ok) {
      const problem = (parsed ?? {}) as {
        code?: string;
        detail?: string;
        issues?: { path: string; message: string }[];
      };
      const code = (
        problem.code && problem.code in ErrorCodes ? problem.code : 'SENTINEL_ERR_INTERNAL'
      ) as ErrorCode;
      throw new SentinelError(code, problem.detail ?? `HTTP ${response.status}`, {
        details: problem.issues ? { issues: problem.issues } : {},
      });
    }
    return { status: response.status, body: parsed as T };
  }

  /** `path` resolved against the API URL; a URL that does not parse names the setting. */
  private url(path: string): URL {
    try {
      return new URL(path, this.options.apiUrl);
    } catch {
      throw new SentinelError(
        'SENTINEL_ERR_CONFIG',
        `the API URL "${this.options.apiUrl}" is not a URL; set --api or SENTINEL_API_URL to one such as http://127.0.0.1:8080`,
      );
    }
  }

  /** The answer's JSON; an answer that is not JSON comes from something that is not Sentinel's API. */
  private parse(text: string, response: Response): unknown {
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new SentinelError(
        'SENTINEL_ERR_UNAVAILABLE',
        `${this.options.apiUrl} answered HTTP ${response.status} with ${response.headers.get('content-type') ?? 'no content type'}, not JSON: it is not the Sentinel API; check --api or SENTINEL_API_URL`,
      );
    }
  }
}
