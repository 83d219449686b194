import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../domain/errors.ts';
import { fieldIssues } from '../domain/validate.ts';

const Role = z.enum(['viewer', 'operator', 'admin', 'system']);
export type Role = z.infer<typeof Role>;

/** `name=/path/to/kubeconfig[#context]`, comma separated. */
const ClusterList = z.string().transform((value, ctx) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^([a-z0-9-]+)=([^#]+)(?:#(.+))?$/.exec(entry);
      if (!match) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not name=/path/to/kubeconfig[#context]` });
        return z.NEVER;
      }
      return { name: match[1]!, kubeconfigPath: match[2]!, context: match[3] };
    }),
);

/** `token:role`, comma separated. */
const TokenList = z.string().transform((value, ctx) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [token, role] = entry.split(':');
      const parsed = Role.safeParse(role);
      if (!token || !parsed.success) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry.replace(/^[^:]*/, '***')}" is not token:role (roles: ${Role.options.join(', ')})`,
        });
        return z.NEVER;
      }
      return { token, role: parsed.data };
    }),
);

const port = z.coerce.number().int().min(0).max(65535);

/** `host:port`, comma separated (Kafka bootstrap servers). */
const BrokerList = z.string().transform((value, ctx) => {
  const brokers = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const broker of brokers) {
    if (!/^[^\s:,]+:\d{1,5}$/.test(broker))
      ctx.addIssue({ code: 'custom', message: `"${broker}" is not host:port` });
  }
  if (brokers.length === 0) ctx.addIssue({ code: 'custom', message: 'names no broker' });
  return brokers;
});

/** Sentinel's process configuration, read from the environment. */
export const ConfigSchema = z.object({
  SENTINEL_DATA_DIR: z.string().default('.sentinel'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  SENTINEL_CLUSTERS: ClusterList.optional(),
  KUBECONFIG: z.string().optional(),
  SENTINEL_API_HOST: z.string().default('127.0.0.1'),
  SENTINEL_API_PORT: port.default(8080),
  SENTINEL_API_TOKENS: TokenList.optional(),
  SENTINEL_WORKER_METRICS_PORT: port.default(0),
  /** Kafka bootstrap servers; the outbox relay publishes events only when this is set. */
  KAFKA_BROKERS: BrokerList.optional(),
  KAFKA_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name (A-Z a-z 0-9 . _ -)')
    .default('sentinel.events'),
  /** Prometheus HTTP API for rollout analyses; analysis steps fail clearly without it. */
  PROMETHEUS_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' }).optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
});
export type Config = z.infer<typeof ConfigSchema>;

/** Reads and validates the environment; a bad value names the variable and the reason. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = ConfigSchema.safeParse(env);
  if (!result.success) {
    const issues = fieldIssues(result.error);
    throw new ConfigError(
      `invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return { ...result.data, SENTINEL_DATA_DIR: resolve(result.data.SENTINEL_DATA_DIR) };
}
