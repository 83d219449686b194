import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  KubeInternalError,
  KubeTimeoutError,
  kubeErrorFromResponse,
  toKubeError,
  type KubeErrorContext,
  type KubeStatus,
} from './errors.ts';

/** One HTTP request to the apiserver. */
export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute API path, e.g. `/apis/apps/v1/namespaces/ns/deployments/web`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** @default 'application/json' */
  contentType?: string;
  /** Overrides the client's request timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The object the request is about, for error messages. */
  subject?: Omit<KubeErrorContext, 'cluster' | 'request'>;
}

/** One event of a watch stream. */
export interface WatchEvent<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** Options for {@link KubeClient}. */
export interface KubeClientOptions {
  /**
   * Deadline of one ordinary (non-watch) request.
   * @default 15_000
   */
  requestTimeoutMs?: number;
}

/** `application/merge-patch+json` and friends, named. */
export const PatchType = {
  merge: 'application/merge-patch+json',
  strategicMerge: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

type AuthOptions = Pick<https.RequestOptions, 'headers' | 'auth'>;

/**
 * The HTTP transport to one cluster: JSON requests and watch streams over one keep-alive
 * connection pool, with credentials from a kubeconfig context and every failure turned into
 * a typed {@link KubeError}. Generic paths instead of typed API classes keep the driver small.
 */
export class KubeClient {
  readonly cluster: string;
  readonly server: string;
  private readonly kubeConfig: KubeConfig;
  private readonly requestTimeoutMs: number;
  private readonly refreshAuthEachRequest: boolean;
  private agent: http.Agent | undefined;
  private cachedAuth: AuthOptions | undefined;

  constructor(cluster: string, kubeConfig: KubeConfig, options: KubeClientOptions = {}) {
    const current = kubeConfig.getCurrentCluster();
    if (!current) throw new Error(`kubeconfig for cluster ${cluster} has no current cluster`);
    this.cluster = cluster;
    this.server = current.server.replace(/\/+$/, '');
    this.kubeConfig = kubeConfig;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    const user = kubeConfig.getCurrentUser();
    // Exec plugins and auth providers hand out expiring tokens; static credentials are read once.
    this.refreshAuthEachRequest = Boolean(user?.exec ?? user?.authProvider);
  }

  /** Sends one request and parses the JSON answer; non-2xx answers throw typed errors. */
  async request<T>(req: KubeRequest): Promise<T> {
    const context = this.errorContext(req);
    let response: { status: number; body: string; headers: http.IncomingHttpHeaders };
    try {
      response = await this.send(req);
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      throw toKubeError(err, context);
    }
    const parsed = parseJson(response.body);
    if (response.status < 200 || response.status >= 300) {
      const retryAfter = response.headers['retry-after'];
      throw kubeErrorFromResponse(
        response.status,
        isStatus(parsed) ? parsed : { message: response.body.slice(0, 500) || undefined },
        context,
        retryAfter,
      );
    }
    if (parsed === undefined && response.body.length > 0) {
      throw new KubeInternalError(`unparseable answer: ${response.body.slice(0, 200)}`, context);
    }
    return parsed as T;
  }

  /**
   * Streams a watch until `onEvent` returns true (resolves `'stopped'`), the server ends the
   * stream (resolves `'closed'`), or the connection fails (rejects with a typed error).
   */
  async watch<T>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent<T>) => boolean | void,
    options: { signal?: AbortSignal; subject?: KubeRequest['subject'] } = {},
  ): Promise<'stopped' | 'closed'> {
    const req: KubeRequest = { method: 'GET', path, query: { ...query, watch: true }, ...options };
    const context = this.errorContext(req);
    const requestOptions = await this.requestOptions(req);
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (outcome: 'stopped' | 'closed' | Error): void => {
        if (settled) return;
        settled = true;
        options.signal?.removeEventListener('abort', onAbort);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const onAbort = (): void => {
        request.destroy();
        finish(toKubeError(options.signal?.reason ?? new Error('aborted'), context));
      };
      const request = this.transport().request(requestOptions, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            const parsed = parseJson(body);
            finish(
              kubeErrorFromResponse(res.statusCode ?? 0, isStatus(parsed) ? parsed : undefined, context),
            );
          });
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let newline: number;
          while ((newline = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, newline).trim();
            buffer = buffer.slice(newline + 1);
            if (line.length === 0) continue;
            const event = parseJson(line) as WatchEvent<T> | undefined;
            if (event === undefined) {
              request.destroy();
              finish(new KubeInternalError(`unparseable watch event: ${line.slice(0, 200)}`, context));
              return;
            }
            if (onEvent(event) === true) {
              request.destroy();
              finish('stopped');
              return;
            }
          }
        });
        res.on('end', () => finish('closed'));
        res.on('error', (err) => finish(toKubeError(err, context)));
        res.on('close', () => finish(res.complete ? 'closed' : toKubeError(connectionLost(), context)));
      });
      request.on('error', (err) => finish(toKubeError(err, context)));
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
      request.end();
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private errorContext(req: KubeRequest): KubeErrorContext {
    return { cluster: this.cluster, ...req.subject, request: `${req.method} ${req.path}` };
  }

  private transport(): typeof https | typeof http {
    return this.server.startsWith('http:') ? http : https;
  }

  private async requestOptions(req: KubeRequest): Promise<https.RequestOptions> {
    const url = new URL(this.server + req.path);
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const auth = await this.auth();
    return {
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      agent: this.agent,
      ...(auth.auth !== undefined && { auth: auth.auth }),
      headers: {
        ...auth.headers,
        accept: 'application/json',
        ...(req.body !== undefined && { 'content-type': req.contentType ?? 'application/json' }),
      },
    };
  }

  private async auth(): Promise<AuthOptions> {
    if (this.cachedAuth && !this.refreshAuthEachRequest) return this.cachedAuth;
    const options: https.RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(options);
    if (!this.agent) {
      const tls: https.AgentOptions = {
        keepAlive: true,
        ...(options.ca !== undefined && { ca: options.ca }),
        ...(options.cert !== undefined && { cert: options.cert }),
        ...(options.key !== undefined && { key: options.key }),
        ...(options.rejectUnauthorized !== undefined && { rejectUnauthorized: options.rejectUnauthorized }),
        ...(options.servername !== undefined && { servername: options.servername }),
      };
      this.agent = this.server.startsWith('http:')
        ? new http.Agent({ keepAlive: true })
        : new https.Agent(tls);
    }
    this.cachedAuth = { headers: options.headers, auth: options.auth };
    return this.cachedAuth;
  }

  private async send(
    req: KubeRequest,
  ): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
    const options = await this.requestOptions(req);
    const payload =
      req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    // Node frames a body by Content-Length only when told; a DELETE body without it would
    // be read as the start of the next request on the kept-alive connection.
    if (payload !== undefined)
      options.headers = { ...options.headers, 'content-length': Buffer.byteLength(payload) };
    const timeoutMs = req.timeoutMs ?? this.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const request = this.transport().request(options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        res.on('error', reject);
      });
      const timer = setTimeout(() => {
        request.destroy(
          new KubeTimeoutError(`no answer within ${timeoutMs} ms`, {
            cluster: this.cluster,
            ...req.subject,
            request: `${req.method} ${req.path}`,
          }),
        );
      }, timeoutMs);
      const onAbort = (): void => void request.destroy(new Error('aborted'));
      req.signal?.addEventListener('abort', onAbort, { once: true });
      request.on('close', () => {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
      });
      request.on('error', reject);
      request.end(payload);
    });
  }
}

function connectionLost(): Error {
  return Object.assign(new Error('watch connection closed before the stream ended'), { code: 'ECONNRESET' });
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isStatus(value: unknown): value is KubeStatus {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Status';
}
