import type { RedisOptions } from 'ioredis';

export type RedisPurpose = 'queue' | 'command';

/**
 * The one place that turns REDIS_URL into ioredis options.
 * - `queue`: BullMQ queues (producers). Offline queue off, so a producer (a webhook) fails at once
 *   while Redis is down and can answer 503; no per-request retry cap, as BullMQ requires. Workers take
 *   these options through `workerConnection`.
 * - `command`: short commands (stores, the appliance token and rate limiter, health). Commands wait for
 *   the first connection at boot, and fail after one reconnect attempt (a few hundred ms) during an
 *   outage, so callers never hang.
 */
export function redisOptions(url: string, purpose: RedisPurpose): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  const base: RedisOptions = {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    enableOfflineQueue: false,
    connectTimeout: 5_000,
    // Reconnect forever, backing off to 5 s: Redis coming back must heal the process by itself.
    retryStrategy: (times: number) => Math.min(times * 200, 5_000),
  };
  return purpose === 'queue' ? { ...base, maxRetriesPerRequest: null } : { ...base, enableOfflineQueue: true, maxRetriesPerRequest: 1 };
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

/**
 * Where REDIS_URL points, for log lines and probes: host:port, the database when not 0, TLS. Never the
 * credentials, and never the URL itself (a sensitive value the log scrubber would hide whole).
 */
export function redisAddress(url: string): string {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? parsed.pathname : '';
  return `${parsed.hostname}:${parsed.port || 6379}${db}${parsed.protocol === 'rediss:' ? ' (TLS)' : ''}`;
}
