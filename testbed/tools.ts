import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pinned versions; keep in step with scripts/ensure-tools.sh. */
export const TOOL_VERSIONS = {
  temporal: 'v1.5.1',
  kubernetes: 'v1.34.4',
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
  /** Helm 3, built from helm.sh/helm/v3; lints and renders charts/sentinel in the packaging tests. */
  helm: 'v3.22.0',
  /** Apache Kafka broker jars (org.apache.kafka:kafka_2.13) from Maven Central; runs on Java 17. */
  kafka: '4.1.1',
} as const;

/**
 * A pinned tool, or one from a Debian package (postgres; prometheus, 2.42 on bookworm) whose
 * cache entry `<cache>/<name>/bin` links into the package.
 */
export type ToolName = keyof typeof TOOL_VERSIONS | 'postgres' | 'prometheus';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../..');

/** Root of the machine-wide tool cache. */
export function toolsDir(): string {
  return (
    process.env.SENTINEL_TOOLS_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sentinel', 'tools')
  );
}

function toolBinDir(tool: ToolName): string {
  return tool === 'postgres' || tool === 'prometheus'
    ? join(toolsDir(), tool, 'bin')
    : join(toolsDir(), `${tool}-${TOOL_VERSIONS[tool]}`, 'bin');
}

/**
 * Path of a cached binary, building the tool on first use through scripts/ensure-tools.sh
 * (which prints what it builds and how long it takes).
 */
export function toolBinary(tool: ToolName, binary: string): string {
  const path = join(toolBinDir(tool), binary);
  if (existsSync(path)) return path;
  execFileSync('bash', [join(repoRoot, 'scripts', 'ensure-tools.sh'), tool], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (!existsSync(path)) throw new Error(`scripts/ensure-tools.sh ${tool} finished but ${path} is missing`);
  return path;
}

/**
 * Path of a file or folder inside a cached tool's root (e.g. `toolPath('kafka', 'libs')`),
 * fetching the tool on first use through scripts/ensure-tools.sh.
 */
export function toolPath(tool: keyof typeof TOOL_VERSIONS, relative: string): string {
  const root = join(toolsDir(), `${tool}-${TOOL_VERSIONS[tool]}`);
  const path = join(root, relative);
  if (existsSync(join(root, '.complete')) && existsSync(path)) return path;
  execFileSync('bash', [join(repoRoot, 'scripts', 'ensure-tools.sh'), tool], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (!existsSync(path)) throw new Error(`scripts/ensure-tools.sh ${tool} finished but ${path} is missing`);
  return path;
}
