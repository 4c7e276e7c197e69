import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RedisService } from './redis.service';

/** How long a lock outlives a holder that stopped renewing it (a killed worker). */
export const LOCK_LEASE_MS = 10_000;

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/**
 * A lock held by one worker at a time (SET NX PX with a token), released only by its holder. Used so
 * that two triggers for the same session, or two poll ticks, never run side by side.
 *
 * The lock is a short lease renewed while the work runs, so a holder that dies frees it within
 * `leaseMs`. A holder that finds its lock gone (an event loop blocked past the lease, Redis lost) is
 * told through the signal given to the work, which should stop writing.
 */
@Injectable()
export class Locks {
  private readonly logger = new Logger('Locks');

  constructor(private readonly redis: RedisService) {}

  async withLock<T>(
    name: string,
    work: (signal: AbortSignal) => Promise<T>,
    leaseMs = LOCK_LEASE_MS,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const key = this.redis.key('lock', name);
    const token = randomUUID();
    const ok = await this.redis.connection.set(key, token, 'PX', leaseMs, 'NX');
    if (ok !== 'OK') return { ran: false };
    const lost = new AbortController();
    let renewedAt = Date.now();
    const renew = async () => {
      try {
        if ((await this.redis.connection.eval(RENEW, 1, key, token, leaseMs)) === 1) {
          renewedAt = Date.now();
          return;
        }
        lost.abort(new Error(`lock ${name} was taken over by another worker`));
      } catch (error) {
        // Redis away for a moment: the lease may still hold. Past it, it cannot be counted on.
        if (Date.now() - renewedAt < leaseMs) return;
        lost.abort(new Error(`lock ${name} could not be renewed: ${(error as Error).message}`));
      }
      clearInterval(timer);
      this.logger.warn(`${(lost.signal.reason as Error).message}; the work holding it stops writing`);
    };
    const timer = setInterval(() => void renew(), Math.max(100, Math.floor(leaseMs / 3)));
    try {
      return { ran: true, value: await work(lost.signal) };
    } finally {
      clearInterval(timer);
      await this.redis.connection.eval(RELEASE, 1, key, token);
    }
  }
}
