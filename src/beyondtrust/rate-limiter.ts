import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/redis-options';

/**
 * Which lane a request waits in. `interactive`: someone is waiting on the answer (a session key, a chat
 * line, a synchronous endpoint). `batch`: work nobody watches live (reports, recordings, polls, the chat
 * watcher's reads); it yields to any interactive request waiting, may spend only what the interactive
 * reserve leaves of the hour, and is paced to the hour so a backlog never spends the hour in minutes.
 */
export type Lane = 'interactive' | 'batch';

/**
 * Sliding-window limits on Redis's clock, so every pod of every role draws from the same budget, and
 * grants spaced evenly (1000 / per-second ms apart): a window granted all at once reaches the
 * appliance as a burst it serves one by one, and the burst's tail then shares a second with the
 * next window's head (seen as 429s in the benchmark).
 *
 * Lanes: an interactive request announces itself while it waits (a member of the waiters set, expiring
 * on its own if its pod dies); batch requests are held while any is announced. Batch requests also draw
 * from their own share of the hour (per hour minus the interactive reserve) and from a bucket refilled at
 * that share's hourly rate, which lets a burst through at full speed and then spreads a backlog over the
 * hour instead of spending the whole budget at 20/s and leaving no key for most of an hour.
 *
 * A grant held until answered (ARGV hold > 0) enters the short window in the future (now + hold): it
 * counts as long as it is in flight, and ANSWERED moves it to the moment its answer came.
 *
 * Returns 0 when the request may go (and records it), otherwise how many ms to wait.
 * KEYS: second window, hour window, pause flag, last grant, batch hour window, interactive waiters,
 * batch bucket. ARGV: per second, per hour, window ms, member, spacing ms, lane (i|b), batch per hour,
 * hour ms, bucket size, hold ms.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hour = tonumber(ARGV[8])
local interactive = ARGV[6] == 'i'
local pause = redis.call('PTTL', KEYS[3])
if pause > 0 then return pause end
local spacing = tonumber(ARGV[5])
if interactive then
  redis.call('ZADD', KEYS[6], now + 2000, ARGV[4])
  redis.call('PEXPIRE', KEYS[6], 5000)
else
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
  -- Yield: ask again after a spacing, or a quarter of a grant's even share of the window where there is no
  -- spacing (a ticket system's minute: 250 ms at 60/min), not every few ms for as long as a reply waits.
  if redis.call('ZCARD', KEYS[6]) > 0 then
    return math.max(5, spacing, math.floor(tonumber(ARGV[3]) / tonumber(ARGV[1]) / 4))
  end
end
local last = tonumber(redis.call('GET', KEYS[4]) or '0')
if now < last + spacing then return last + spacing - now end
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, math.min(tonumber(oldest[2]), now) + window - now)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - hour)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + hour - now)
end
if not interactive then
  local share = tonumber(ARGV[7])
  if share <= 0 then return hour end
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - hour)
  if redis.call('ZCARD', KEYS[5]) >= share then
    local oldest = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
    return math.max(1, tonumber(oldest[2]) + hour - now)
  end
  local size = tonumber(ARGV[9])
  local bucket = redis.call('HMGET', KEYS[7], 'tokens', 'at')
  local tokens = tonumber(bucket[1] or size)
  local at = tonumber(bucket[2] or now)
  tokens = math.min(size, tokens + (now - at) * share / hour)
  if tokens < 1 then return math.max(1, math.ceil((1 - tokens) * hour / share)) end
  redis.call('HSET', KEYS[7], 'tokens', tostring(tokens - 1), 'at', now)
  redis.call('PEXPIRE', KEYS[7], hour * 2)
  redis.call('ZADD', KEYS[5], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[5], hour + window)
else
  redis.call('ZREM', KEYS[6], ARGV[4])
end
local hold = tonumber(ARGV[10])
redis.call('SET', KEYS[4], now, 'PX', 60000)
redis.call('ZADD', KEYS[1], now + hold, ARGV[4])
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window * 2 + hold)
redis.call('PEXPIRE', KEYS[2], hour + window)
return 0
`;

/**
 * The answer came: the request has reached the system, so it counts from now on, for one window, unless its
 * hold (the latest it can have arrived) came first; a slow answer (a report the appliance takes seconds to
 * make) then holds its slot no longer than the hold. KEYS: second window, hour window. ARGV: member. (A
 * grant already aged out stays out.)
 */
const ANSWERED = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if held and tonumber(held) > now then redis.call('ZADD', KEYS[1], now, ARGV[1]) end
redis.call('ZADD', KEYS[2], 'XX', now, ARGV[1])
return 0
`;

/** Drops an interactive waiter's announcement when it gives up (aborted), so batch work is not held for nothing. */
const FORGET = `redis.call('ZREM', KEYS[1], ARGV[1]) return 0`;

/**
 * Requests reach the appliance some milliseconds after they are counted here; without a margin two
 * requests counted 1,000 ms apart can arrive 999 ms apart and the appliance answers 429. (A grant held
 * until answered needs none: see `acquireUntilAnswered`.)
 */
export const WINDOW_MARGIN_MS = 50;

/**
 * How long after its grant an appliance request is taken to have arrived at the latest: it counts from its
 * answer or from this bound, whichever comes first. Seconds are far beyond a busy pod's delays (tens to
 * hundreds of ms) and short enough that a pod dying with requests in flight, or a report the appliance
 * takes seconds to make, holds its slots only that long.
 */
export const ARRIVAL_BOUND_MS = 2_000;

/** A request granted by `acquireUntilAnswered`. */
export interface Grant {
  /** How long the request waited for its slot, in ms. */
  waitedMs: number;
  /** Call once the system's answer (or the failure to reach it) is in: the slot then counts from now. */
  answered(): Promise<void>;
}

export interface RateLimiterOptions {
  /** Requests per short window: a second, unless `windowMs` says otherwise (a minute for ticket systems). */
  perSecond: number;
  windowMs?: number;
  /** Least time between two grants; default the window's even share (`windowMs / perSecond`). */
  spacingMs?: number;
  /** Added to the window for the time between a grant and its arrival; default WINDOW_MARGIN_MS. */
  marginMs?: number;
  perHour: number;
  /** `rsb:bt:rate:<account>`: one budget per API account, as the appliance counts them. */
  keyPrefix: string;
  /** Share of the hour kept for interactive requests, in percent (BT_INTERACTIVE_RESERVE_PERCENT). */
  interactiveReservePercent?: number;
  /** The length of the "hour" in ms: 3,600,000, except in the compressed-hour bench. */
  hourMs?: number;
  /**
   * How many batch requests may go at full speed before pacing to the hour sets in; default a twelfth of
   * the batch share (five minutes' worth), so a burst of session ends drains at once.
   */
  batchBurst?: number;
}

export class SharedRateLimiter {
  readonly batchPerHour: number;
  readonly hourMs: number;
  private readonly windowMs: number;
  private readonly batchBurst: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RateLimiterOptions,
  ) {
    const reserve = Math.min(100, Math.max(0, options.interactiveReservePercent ?? 20));
    this.batchPerHour = Math.floor((options.perHour * (100 - reserve)) / 100);
    this.hourMs = options.hourMs ?? 3_600_000;
    this.windowMs = options.windowMs ?? 1000;
    this.batchBurst = Math.max(1, options.batchBurst ?? Math.ceil(this.batchPerHour / 12));
  }

  /** Waits until the shared budget allows one more request in `lane`; resolves with the total time waited. */
  async acquire(signal?: AbortSignal, lane: Lane = 'interactive'): Promise<number> {
    return this.wait(randomUUID(), 0, signal, lane);
  }

  /**
   * As `acquire`, but the request counts in the short window from its grant until `answered()`, then for a
   * window from that moment. A request counted at its grant can reach the system late (a busy event loop,
   * a new connection: the guide asks for one per call), and a window of grants then arrives squeezed into
   * less than a window, where the system answers 429. Counted from its answer, which comes after the
   * system counted it, no spread of delays can put more than the limit into any window the system sees,
   * and the margin costs only each request's own latency. `holdMs` is the latest the request is taken to
   * reach the system after its grant: it counts from its answer or from grant + holdMs, whichever is first
   * (so a request that never answers, its pod dead, frees its slot then too).
   */
  async acquireUntilAnswered(signal: AbortSignal | undefined, lane: Lane, holdMs: number): Promise<Grant> {
    const member = randomUUID();
    const waitedMs = await this.wait(member, Math.max(1, Math.round(holdMs)), signal, lane);
    const { keyPrefix } = this.options;
    return {
      waitedMs,
      answered: async () => {
        await this.redis.eval(ANSWERED, 2, `${keyPrefix}:s`, `${keyPrefix}:h`, member);
      },
    };
  }

  private async wait(member: string, holdMs: number, signal: AbortSignal | undefined, lane: Lane): Promise<number> {
    const { keyPrefix, perSecond, perHour } = this.options;
    let waited = 0;
    for (;;) {
      const wait = (await this.redis.eval(
        ACQUIRE,
        7,
        `${keyPrefix}:s`,
        `${keyPrefix}:h`,
        `${keyPrefix}:pause`,
        `${keyPrefix}:last`,
        `${keyPrefix}:bh`,
        `${keyPrefix}:waiting`,
        `${keyPrefix}:bucket`,
        perSecond,
        perHour,
        this.windowMs + (this.options.marginMs ?? WINDOW_MARGIN_MS),
        member,
        this.options.spacingMs ?? Math.floor(this.windowMs / perSecond),
        lane === 'interactive' ? 'i' : 'b',
        this.batchPerHour,
        this.hourMs,
        this.batchBurst,
        holdMs,
      )) as number;
      if (wait <= 0) return waited;
      if (signal?.aborted) {
        if (lane === 'interactive') await this.redis.eval(FORGET, 1, `${keyPrefix}:waiting`, member);
        throw signal.reason;
      }
      // A little jitter so waiting pods do not all ask on the same millisecond. Interactive waiters ask
      // again within their announcement's 2 s lifetime.
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
