export type RedisMode = 'single' | 'sentinel' | 'cluster';

/** The variables that say where Redis is (issue 20's contract); Environment carries them all. */
export interface RedisSettings {
  REDIS_URL: string;
  REDIS_SENTINELS?: string[];
  REDIS_SENTINEL_MASTER: string;
  REDIS_SENTINEL_PASSWORD?: string;
  REDIS_CLUSTER_NODES?: string[];
  REDIS_USERNAME?: string;
  REDIS_PASSWORD?: string;
  REDIS_TLS: boolean;
}

export function redisMode(settings: RedisSettings): RedisMode {
  if (settings.REDIS_CLUSTER_NODES?.length) return 'cluster';
  if (settings.REDIS_SENTINELS?.length) return 'sentinel';
  return 'single';
}

/**
 * The key prefix as the deployment uses it: on Redis Cluster every key must share one hash slot (BullMQ's
 * scripts touch many keys of a queue at once, and so do our rate limiter, token lock and stores), so a
 * prefix without a hash tag gets one around it: `rsb` becomes `{rsb}`.
 */
export function effectivePrefix(settings: RedisSettings, prefix: string): string {
  if (redisMode(settings) !== 'cluster' || /\{[^}]+\}/.test(prefix)) return prefix;
  return `{${prefix}}`;
}
