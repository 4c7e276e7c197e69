import type { RedisClient } from '../redis/redis-options';
import { Lane, SharedRateLimiter } from '../beyondtrust/rate-limiter';
import { TicketSystemError } from './ticket-system.errors';

/** Past any real account's limit: a system without a configured budget is paced by its 429s only. */
const UNLIMITED_PER_MINUTE = 1_000_000;

/**
 * One write budget per ticket-system account, shared by every pod through Redis (the appliance's limiter,
 * with a minute for its window): writes are spaced evenly over the minute, a key's reply (interactive)
 * goes before a session-end note (batch), and a 429 with Retry-After pauses every pod, not just the
 * worker that met it.
 */
export class TicketPacer {
  private readonly limiter: SharedRateLimiter;

  /**
   * `minuteMs` is a minute, except in tests and compressed benches. `holdMs`: the latest a write is taken to
   * reach the system after its grant (it counts from its answer or from then, whichever is first); the
   * write's own deadline (RSB_TICKET_TIMEOUT_MS), since an upload may be counted only once its body is in.
   */
  constructor(
    redis: RedisClient,
    keyPrefix: string,
    perMinute: number,
    minuteMs = 60_000,
    private readonly holdMs = 60_000,
  ) {
    this.limiter = new SharedRateLimiter(redis, {
      perSecond: perMinute > 0 ? perMinute : UNLIMITED_PER_MINUTE,
      windowMs: minuteMs,
      // A ticket system counts a minute, not a second: no need to spread a burst that fits in it.
      spacingMs: 0,
      // Each write counts from its answer (run below), after the system counted it: a burst's writes that
      // reach the system late cannot land the next window's head inside its count of the last one.
      marginMs: 0,
      perHour: Number.MAX_SAFE_INTEGER,
      // People's writes are outside rs-bridge; the room left for them is the gap below the account's limit.
      interactiveReservePercent: 0,
      batchBurst: Number.MAX_SAFE_INTEGER,
      keyPrefix,
    });
  }

  async run<T>(lane: Lane, write: () => Promise<T>): Promise<T> {
    const grant = await this.limiter.acquireUntilAnswered(undefined, lane, this.holdMs);
    try {
      try {
        return await write();
      } finally {
        await grant.answered().catch(() => undefined);
      }
    } catch (error) {
      if (error instanceof TicketSystemError && error.status === 429) await this.limiter.pauseFor(error.retryAfterMs ?? 60_000);
      throw error;
    }
  }
}
