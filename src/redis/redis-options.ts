import type { RedisOptions } from 'ioredis';

export type RedisPurpose = 'queue' | 'command';

/**
 * The one place that turns REDIS_URL into ioredis options.
 * - `queue`: BullMQ queues and workers. Offline queue off, so a producer (a webhook) fails at once
 *   while Redis is down and can answer 503; no per-request retry cap, as BullMQ's blocking
 *   connections require.
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
