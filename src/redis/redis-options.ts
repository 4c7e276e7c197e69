import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { effectivePrefix, redisMode, RedisMode, RedisSettings } from '../config/redis-settings';

// Where Redis is is configuration (validated at boot, below every layer); how to connect to it is ours.
export { effectivePrefix, redisMode, RedisMode, RedisSettings };

export type RedisPurpose = 'queue' | 'command';
/** A connection of any mode: the commands, MULTI and EVAL we use are the same on both. */
export type RedisClient = Redis | Cluster;

/** Settings of a single Redis at `url` and nothing else: for tests, benches and tools. */
export const singleRedis = (url: string): RedisSettings => ({ REDIS_URL: url, REDIS_SENTINEL_MASTER: 'mymaster', REDIS_TLS: false });

/** `host:port`, `[v6]:port` or a bare host (port 6379, or 26379 for a sentinel). */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number } {
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  if (!match) throw new Error(`not a host:port: ${text}`);
  return { host: match[1], port: match[2] ? Number(match[2]) : defaultPort };
}

/** Reconnect forever, backing off to 5 s: Redis coming back must heal the process by itself. */
const retryStrategy = (times: number) => Math.min(times * 200, 5_000);

/**
 * What every connection to a Redis server shares, whichever the mode:
 * - `queue`: BullMQ queues (producers). Offline queue off, so a producer (a webhook) fails at once
 *   while Redis is down and can answer 503; no per-request retry cap, as BullMQ requires. Workers take
 *   these options through `workerConnection`.
 * - `command`: short commands (stores, the appliance token and rate limiter, health). Commands wait for
 *   the first connection at boot, and fail after one reconnect attempt (a few hundred ms) during an
 *   outage, so callers never hang.
 */
const purposeOptions = (purpose: RedisPurpose): RedisOptions =>
  purpose === 'queue' ? { enableOfflineQueue: false, maxRetriesPerRequest: null } : { enableOfflineQueue: true, maxRetriesPerRequest: 1 };

const credentials = (settings: RedisSettings): RedisOptions => ({
  username: settings.REDIS_USERNAME || undefined,
  password: settings.REDIS_PASSWORD || undefined,
  tls: settings.REDIS_TLS ? {} : undefined,
});

/**
 * The ioredis options of a single Redis or of a Sentinel-managed master (ioredis asks the sentinels
 * where the master is, and again after a failover). Not for Cluster mode: see createRedis.
 */
export function redisOptions(settings: RedisSettings, purpose: RedisPurpose): RedisOptions {
  const base: RedisOptions = { connectTimeout: 5_000, retryStrategy, ...purposeOptions(purpose) };
  if (redisMode(settings) === 'sentinel') {
    return {
      ...base,
      ...credentials(settings),
      sentinels: settings.REDIS_SENTINELS!.map((s) => parseHostPort(s, 26379)),
      name: settings.REDIS_SENTINEL_MASTER,
      sentinelPassword: settings.REDIS_SENTINEL_PASSWORD || undefined,
      enableTLSForSentinelMode: settings.REDIS_TLS,
      sentinelTLS: settings.REDIS_TLS ? {} : undefined,
      // While no sentinel answers, keep asking (backing off) rather than giving up on the connection.
      sentinelRetryStrategy: retryStrategy,
      // Reconnect as soon as the sentinels announce a new master, not when the old one stops answering.
      failoverDetector: true,
      // A demoted master answers writes with READONLY until the sentinels cut its clients: ask again.
      reconnectOnError: (error: Error) => (error.message.startsWith('READONLY') ? 2 : false),
    };
  }
  const parsed = new URL(settings.REDIS_URL);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    ...base,
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: settings.REDIS_USERNAME || (parsed.username ? decodeURIComponent(parsed.username) : undefined),
    password: settings.REDIS_PASSWORD || (parsed.password ? decodeURIComponent(parsed.password) : undefined),
    db: Number.isInteger(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' || settings.REDIS_TLS ? {} : undefined,
  };
}

/** A Redis Cluster client: the same per-node settings, slot map refreshed on MOVED and after failovers. */
function clusterOptions(settings: RedisSettings, purpose: RedisPurpose): ClusterOptions {
  const { enableOfflineQueue, maxRetriesPerRequest } = purposeOptions(purpose);
  return {
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy,
    // ioredis refreshes the slot map only on MOVED or a lost node unless given an interval (its type doc
    // says 5000 by default; its defaults set none). With one, a failover's promoted replica is found
    // within seconds, not only when a command happens to be redirected.
    slotsRefreshInterval: 5_000,
    // Loopback and container addresses the nodes announce are the ones to use; no NAT mapping.
    redisOptions: { ...credentials(settings), connectTimeout: 5_000, maxRetriesPerRequest },
  };
}

/**
 * The one place a connection to Redis is made, whichever the mode. `extra` adjusts the purpose's options
 * (a shorter command timeout, say).
 */
export function createRedis(settings: RedisSettings, purpose: RedisPurpose, extra: RedisOptions = {}): Redis | Cluster {
  if (redisMode(settings) !== 'cluster') return new Redis({ ...redisOptions(settings, purpose), ...extra });
  const options = clusterOptions(settings, purpose);
  // These two are the Cluster client's own; the rest apply to each node's connection.
  const { enableOfflineQueue = options.enableOfflineQueue, lazyConnect, ...perNode } = extra;
  return new Cluster(
    settings.REDIS_CLUSTER_NODES!.map((n) => parseHostPort(n, 6379)),
    { ...options, enableOfflineQueue, lazyConnect, redisOptions: { ...options.redisOptions, ...perNode } },
  );
}

/**
 * BullMQ's `connection`: plain options for a single Redis or Sentinel (BullMQ makes its own clients from
 * them), a Cluster client in Cluster mode (BullMQ cannot build one from options). Producers' settings.
 */
export function bullConnection(settings: RedisSettings): RedisOptions | Cluster {
  return redisMode(settings) === 'cluster' ? (createRedis(settings, 'queue') as Cluster) : redisOptions(settings, 'queue');
}

/**
 * A BullMQ worker's connection: the queue's, but its commands wait in the offline queue through a
 * reconnect, as BullMQ's production guide asks. With the offline queue off, a worker whose job ended
 * while Redis was away spun forever: every command failed synchronously ("Stream isn't writeable"),
 * BullMQ 6's retry counts that as no connection error and tries again without a pause, and the
 * microtask loop starved ioredis's reconnect timer and the HTTP server (issue 16).
 */
export function workerConnection(queue: RedisOptions): RedisOptions {
  return { ...queue, enableOfflineQueue: true, maxRetriesPerRequest: null };
}

/** The same for a Cluster client: a fresh client of the same nodes, its offline queue on. */
export function workerCluster(queue: Cluster): Cluster {
  return queue.duplicate(undefined, {
    enableOfflineQueue: true,
    redisOptions: { ...queue.options.redisOptions, maxRetriesPerRequest: null },
  });
}

/** An ioredis client or Cluster, or BullMQ's wrapper of one (which forwards `call`, `options`, `slots`, `nodes`). */
type ReplicaAware = { options?: unknown; isCluster?: boolean; call(command: string, ...args: string[]): Promise<unknown> };

/** How long a write waits for a replica in Sentinel and Cluster mode (see awaitReplica). */
const REPLICA_WAIT_MS = 1_000;

/** Hash slots by key: every key of a deployment shares its prefix's hash tag, so this holds one entry a prefix. */
const slotOfKey = new Map<string, number>();

/**
 * The connection of a Cluster client to the master serving `key`'s slot now: the very connection the client
 * sent its writes of that slot on (ioredis keeps one connection a node and routes a keyed command to the
 * slot's master, slots[slot][0]), which is the one WAIT must be sent on, as WAIT counts that client's writes.
 */
async function slotMaster(cluster: Cluster, key: string): Promise<Redis> {
  let slot = slotOfKey.get(key);
  if (slot === undefined) {
    slot = Number(await cluster.cluster('KEYSLOT', key));
    slotOfKey.set(key, slot);
  }
  const nodeKey = cluster.slots[slot]?.[0];
  const node = nodeKey ? cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === nodeKey) : undefined;
  if (!node) throw new Error(`no Redis Cluster master is known for slot ${slot}`);
  return node;
}

/**
 * In Sentinel and Cluster mode, waits until a replica holds every write made so far on this connection: a
 * failover promotes a replica, and Redis replicates asynchronously, so an acknowledged write the replica
 * lacked is gone afterwards (a webhook answered 202 whose job vanished; a write-once mark lost, so a note
 * written twice). In Cluster mode, WAIT goes to the master of `key`'s slot (a deployment's keys are all in
 * one slot, its prefix's hash tag). No replica within 1 s: an error, so that the caller answers 503 or its
 * job is retried. A single Redis: nothing to wait for.
 */
export async function awaitReplica(client: ReplicaAware, key: string): Promise<void> {
  let node: ReplicaAware;
  if (client.isCluster) node = await slotMaster(client as unknown as Cluster, key);
  else if ((client.options as RedisOptions | undefined)?.sentinels?.length) node = client;
  else return;
  const replicas = Number(await node.call('WAIT', '1', String(REPLICA_WAIT_MS)));
  if (replicas < 1) throw new Error(`no Redis replica acknowledged the write within ${REPLICA_WAIT_MS} ms`);
}

/** awaitReplica on the connection of a BullMQ queue (its job was just added through it). */
export async function awaitQueueReplica(queue: { qualifiedName: string; getBackend(): { client: Promise<unknown> } }): Promise<void> {
  await awaitReplica((await queue.getBackend().client) as ReplicaAware, queue.qualifiedName);
}

/**
 * Where Redis is, for log lines and probes: the mode and its addresses, the database when not 0, TLS.
 * Never the credentials, and never the URL itself (a sensitive value the log scrubber would hide whole).
 */
export function redisAddress(settings: RedisSettings): string {
  const tls = settings.REDIS_TLS ? ' (TLS)' : '';
  const mode = redisMode(settings);
  if (mode === 'cluster') return `cluster of ${settings.REDIS_CLUSTER_NODES!.join(',')}${tls}`;
  if (mode === 'sentinel') return `master ${settings.REDIS_SENTINEL_MASTER} of sentinels ${settings.REDIS_SENTINELS!.join(',')}${tls}`;
  const parsed = new URL(settings.REDIS_URL);
  const db = parsed.pathname.length > 1 ? parsed.pathname : '';
  return `${parsed.hostname}:${parsed.port || 6379}${db}${parsed.protocol === 'rediss:' || settings.REDIS_TLS ? ' (TLS)' : ''}`;
}
