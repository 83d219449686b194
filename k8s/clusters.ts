import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { KubeClient, type KubeClientOptions } from './client.ts';
import { KubeUnknownClusterError, toKubeError, type KubeError } from './errors.ts';

/** One cluster to load: the name plans use for it, and where its credentials are. */
export interface ClusterSource {
  /** The name plans use (`target.cluster`). */
  name: string;
  kubeconfigPath: string;
  /** Context in that kubeconfig; its current context when absent. */
  context?: string;
}

/** Options for {@link ClusterRegistry}. */
export type ClusterRegistryOptions = KubeClientOptions;

/** Reachability of one cluster, from {@link ClusterRegistry.probe}. */
export type ClusterHealth =
  | { cluster: string; server: string; reachable: true; version: string }
  | { cluster: string; server: string; reachable: false; error: KubeError };

interface LoadedKubeconfigs {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string | undefined;
}

/**
 * Reads kubeconfig files the way kubectl merges `KUBECONFIG`: each file's paths resolve
 * against its own folder, and the first definition of a name wins.
 */
function loadKubeconfigs(paths: readonly string[]): LoadedKubeconfigs {
  const merged: LoadedKubeconfigs = { clusters: [], users: [], contexts: [], currentContext: undefined };
  const firstWins = <T extends { name: string }>(into: T[], from: readonly T[]): void => {
    for (const item of from) if (!into.some((i) => i.name === item.name)) into.push(item);
  };
  for (const path of paths) {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    firstWins(merged.clusters, kc.getClusters());
    firstWins(merged.users, kc.getUsers());
    firstWins(merged.contexts, kc.getContexts());
    merged.currentContext ??= kc.getCurrentContext() || undefined;
  }
  return merged;
}

function kubeConfigFor(loaded: LoadedKubeconfigs, context: string, where: string): KubeConfig {
  const ctx = loaded.contexts.find((c) => c.name === context);
  if (!ctx) throw new Error(`context "${context}" not found in ${where}`);
  if (!loaded.clusters.some((c) => c.name === ctx.cluster)) {
    throw new Error(`context "${context}" in ${where} names cluster "${ctx.cluster}", which is not defined`);
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: loaded.clusters,
    users: loaded.users,
    contexts: loaded.contexts,
    currentContext: context,
  });
  return kc;
}

/** The paths in a `KUBECONFIG`-style list, or the default kubeconfig when it is unset. */
export function kubeconfigPathsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p.length > 0);
  if (fromEnv.length > 0) return fromEnv.filter((p) => existsSync(p));
  const fallback = join(env.HOME ?? homedir(), '.kube', 'config');
  return existsSync(fallback) ? [fallback] : [];
}

/**
 * The clusters Sentinel can drive, by the name plans use. Loading never contacts a
 * cluster, so one unreachable cluster never stops the others: its requests fail with a
 * typed `SENTINEL_ERR_K8S_UNAVAILABLE` that names it.
 */
export class ClusterRegistry implements Disposable {
  private readonly clients = new Map<string, KubeClient>();
  private readonly options: ClusterRegistryOptions;

  constructor(options: ClusterRegistryOptions = {}) {
    this.options = options;
  }

  /** A registry of the given clusters. */
  static fromSources(
    sources: readonly ClusterSource[],
    options: ClusterRegistryOptions = {},
  ): ClusterRegistry {
    const registry = new ClusterRegistry(options);
    for (const source of sources) registry.add(source);
    return registry;
  }

  /**
   * A registry with one cluster per context found in the kubeconfig files (a
   * `KUBECONFIG`-style string or a list), each named after its context.
   */
  static fromKubeconfigs(
    paths: string | readonly string[],
    options: ClusterRegistryOptions = {},
  ): ClusterRegistry {
    const list = typeof paths === 'string' ? paths.split(delimiter).filter((p) => p.length > 0) : paths;
    const loaded = loadKubeconfigs(list);
    const registry = new ClusterRegistry(options);
    for (const ctx of loaded.contexts) {
      registry.register(ctx.name, kubeConfigFor(loaded, ctx.name, list.join(delimiter)));
    }
    return registry;
  }

  /** {@link fromKubeconfigs} over `$KUBECONFIG`, or `~/.kube/config` when it is unset. */
  static fromEnv(
    env: NodeJS.ProcessEnv = process.env,
    options: ClusterRegistryOptions = {},
  ): ClusterRegistry {
    return ClusterRegistry.fromKubeconfigs(kubeconfigPathsFromEnv(env), options);
  }

  /** Adds (or replaces) one cluster. */
  add(source: ClusterSource): void {
    const loaded = loadKubeconfigs([source.kubeconfigPath]);
    const context = source.context ?? loaded.currentContext;
    if (context === undefined)
      throw new Error(`${source.kubeconfigPath} has no current-context; name one for ${source.name}`);
    this.register(source.name, kubeConfigFor(loaded, context, source.kubeconfigPath));
  }

  /** Removes a cluster and closes its connections. */
  remove(name: string): boolean {
    this.clients.get(name)?.close();
    return this.clients.delete(name);
  }

  /** The cluster names, sorted. */
  names(): string[] {
    return [...this.clients.keys()].sort();
  }

  has(name: string): boolean {
    return this.clients.has(name);
  }

  /** The transport to a cluster; throws `SENTINEL_ERR_K8S_UNKNOWN_CLUSTER` for names not loaded. */
  client(name: string): KubeClient {
    const client = this.clients.get(name);
    if (!client) throw new KubeUnknownClusterError(name, this.names());
    return client;
  }

  /** Asks every cluster for its version at once; one failing cluster does not fail the others. */
  async probe(timeoutMs = 5_000): Promise<ClusterHealth[]> {
    return Promise.all(
      this.names().map(async (name): Promise<ClusterHealth> => {
        const client = this.client(name);
        try {
          const version = await client.request<{ gitVersion: string }>({
            method: 'GET',
            path: '/version',
            timeoutMs,
          });
          return { cluster: name, server: client.server, reachable: true, version: version.gitVersion };
        } catch (err) {
          return {
            cluster: name,
            server: client.server,
            reachable: false,
            error: toKubeError(err, { cluster: name }),
          };
        }
      }),
    );
  }

  /** Closes every cluster's idle connections. */
  close(): void {
    for (const client of this.clients.values()) client.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private register(name: string, kubeConfig: KubeConfig): void {
    this.clients.get(name)?.close();
    this.clients.set(name, new KubeClient(name, kubeConfig, this.options));
  }
}
