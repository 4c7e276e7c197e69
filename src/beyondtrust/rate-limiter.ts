import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/redis-options';

/**
 * Sliding-window limits on Redis's clock, so every pod of every role draws from the same budget, and
 * grants spaced evenly (1000 / per-second ms apart): a window granted all at once reaches the
 * appliance as a burst it serves one by one, and the burst's tail then shares a second with the
 * next window's head (seen as 429s in the benchmark).
 * Returns 0 when the request may go (and records it), otherwise how many ms to wait.
 * KEYS: second window, hour window, pause flag, last grant. ARGV: per second, per hour, window ms,
 * member, spacing ms.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = redis.call('PTTL', KEYS[3])
if pause > 0 then return pause end
local last = tonumber(redis.call('GET', KEYS[4]) or '0')
local spacing = tonumber(ARGV[5])
if now < last + spacing then return last + spacing - now end
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 3600000)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + 3600000 - now)
end
redis.call('SET', KEYS[4], now, 'PX', 60000)
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window * 2)
redis.call('PEXPIRE', KEYS[2], 3600000 + window)
return 0
`;

/**
 * Requests reach the appliance some milliseconds after they are counted here; without a margin two
 * requests counted 1,000 ms apart can arrive 999 ms apart and the appliance answers 429.
 */
export const WINDOW_MARGIN_MS = 50;

export interface RateLimiterOptions {
  perSecond: number;
  perHour: number;
  /** `rsb:bt:rate:<account>`: one budget per API account, as the appliance counts them. */
  keyPrefix: string;
}

export class SharedRateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: RateLimiterOptions,
  ) {}

  /** Waits until the shared budget allows one more request; resolves with the total time waited. */
  async acquire(signal?: AbortSignal): Promise<number> {
    const { keyPrefix, perSecond, perHour } = this.options;
    const member = randomUUID();
    let waited = 0;
    for (;;) {
      const wait = (await this.redis.eval(
        ACQUIRE,
        4,
        `${keyPrefix}:s`,
        `${keyPrefix}:h`,
        `${keyPrefix}:pause`,
        `${keyPrefix}:last`,
        perSecond,
        perHour,
        1000 + WINDOW_MARGIN_MS,
        member,
        Math.floor(1000 / perSecond),
      )) as number;
      if (wait <= 0) return waited;
      if (signal?.aborted) throw signal.reason;
      // A little jitter so waiting pods do not all ask on the same millisecond.
      const delay = Math.min(wait, 1000) + Math.floor(Math.random() * 3);
      await new Promise((resolve) => setTimeout(resolve, delay));
      waited += delay;
    }
  }

  /** Stops every pod for a while: the appliance said 429 (Retry-After) or its hourly budget is spent. */
  async pauseFor(ms: number): Promise<void> {
    const key = `${this.options.keyPrefix}:pause`;
    // Never shorten a longer pause another pod already set.
    const current = await this.redis.pttl(key);
    if (current < ms) await this.redis.set(key, '1', 'PX', Math.max(1, Math.round(ms)));
  }
}
