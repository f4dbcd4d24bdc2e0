// Redis connections, to one Redis or to a Redis Cluster. Start-up probes once and fails with one clear
// line; BullMQ requires `maxmemory-policy noeviction` (an evicted job key silently loses work), so
// anything else is refused (on a cluster, on every master).
import { Cluster, Redis } from 'ioredis';
import type { RedisClusterConfig } from '../config.js';

/** Where Redis is: one server's URL, or a cluster's seed nodes. */
export type RedisAddress = string | RedisClusterConfig;

export class RedisStartupError extends Error {
  override readonly name = 'RedisStartupError';
}

function describe(address: RedisAddress): string {
  if (typeof address !== 'string') return `the Redis Cluster at ${address.nodes.map((n) => `${n.host}:${n.port}`).join(', ')}`;
  const url = address;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || 6379}`;
  } catch {
    return 'REDIS_URL';
  }
}

/** Connects once without retrying and checks the eviction policy (of every master, on a cluster). */
export async function probeRedis(address: RedisAddress, timeoutMs = 3_000): Promise<void> {
  if (typeof address !== 'string') return probeCluster(address, timeoutMs);
  const probe = new Redis(address, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
  } catch (err) {
    throw new RedisStartupError(
      `cannot reach Redis at ${describe(address)} (${(err as Error).message}). Start one with \`docker compose up -d redis\`, fix REDIS_URL, or unset it to let Tacit run a private redis-server.`,
    );
  }
  try {
    await checkEviction(probe, describe(address));
  } finally {
    probe.disconnect();
  }
}

async function checkEviction(node: Redis, where: string): Promise<void> {
  const info = await node.info('memory');
  const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1];
  if (policy && policy !== 'noeviction') {
    throw new RedisStartupError(
      `Redis at ${where} has maxmemory-policy ${policy}; BullMQ needs noeviction (run \`redis-cli config set maxmemory-policy noeviction\` or start redis-server with --maxmemory-policy noeviction).`,
    );
  }
}

async function probeCluster(cluster: RedisClusterConfig, timeoutMs: number): Promise<void> {
  const probe = new Cluster(cluster.nodes, {
    lazyConnect: true, enableOfflineQueue: false, clusterRetryStrategy: () => null, redisOptions: { ...nodeOptions(cluster), connectTimeout: timeoutMs, maxRetriesPerRequest: 0 },
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
  } catch (err) {
    probe.disconnect();
    throw new RedisStartupError(`cannot reach ${describe(cluster)} (${(err as Error).message}). Check REDIS_CLUSTER_NODES and that the cluster is up (\`redis-cli -c cluster info\`).`);
  }
  try {
    for (const node of probe.nodes('master')) await checkEviction(node, `${node.options.host ?? '?'}:${node.options.port ?? '?'}`);
  } finally {
    probe.disconnect();
  }
}

function nodeOptions(cluster: RedisClusterConfig) {
  return {
    ...(cluster.username ? { username: cluster.username } : {}),
    ...(cluster.password ? { password: cluster.password } : {}),
    ...(cluster.tls ? { tls: {} } : {}),
  };
}

/**
 * The long-lived connection: reconnects forever, as BullMQ expects. On a cluster it is an ioredis
 * `Cluster`, typed as `Redis`: it speaks the same commands (routed by each key's slot), and BullMQ
 * recognises it; only `duplicate` differs, and `dedicatedConnection` below knows.
 */
export function connectRedis(address: RedisAddress, onError: (err: Error) => void): Redis {
  const retry = (times: number) => Math.min(times * 200, 2_000);
  if (typeof address !== 'string') {
    const cluster = new Cluster(address.nodes, { clusterRetryStrategy: retry, redisOptions: { ...nodeOptions(address), maxRetriesPerRequest: null } });
    cluster.on('error', onError);
    return cluster as unknown as Redis;
  }
  const redis = new Redis(address, { maxRetriesPerRequest: null, retryStrategy: retry });
  redis.on('error', onError);
  return redis;
}

/** True for a connection `connectRedis` made to a Redis Cluster. */
export function isCluster(connection: Redis): boolean {
  return (connection as unknown as { isCluster?: boolean }).isCluster === true;
}

export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      redis.ping().then((r) => r === 'PONG'),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A connection of its own for a BullMQ Worker. BullMQ never closes a connection it was handed, so
 * the owner closes this one after the worker.
 */
export function dedicatedConnection(base: Redis): { connection: Redis; close(): Promise<void> } {
  // A cluster's duplicate keeps its options (maxRetriesPerRequest is already null there).
  const connection = isCluster(base) ? ((base as unknown as Cluster).duplicate() as unknown as Redis) : base.duplicate({ maxRetriesPerRequest: null });
  return {
    connection,
    close: () => connection.quit().then(() => undefined, () => connection.disconnect()),
  };
}
