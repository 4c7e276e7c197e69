import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RedisService } from '../redis/redis.service';
import { WriteLedger } from '../tickets/write-once';

const SESSION_TTL_SECONDS = 90 * 24 * 3600;

/** What has been written for one session, artifact by artifact, recorded only after each write landed. */
@Injectable()
export class ArtifactStore {
  constructor(private readonly redis: RedisService) {}

  private key(lsid: string): string {
    return this.redis.key('artifacts', lsid);
  }

  async done(lsid: string): Promise<Record<string, string>> {
    return this.redis.connection.hgetall(this.key(lsid));
  }

  async isDone(lsid: string, artifact: string): Promise<boolean> {
    return (await this.redis.connection.hexists(this.key(lsid), artifact)) === 1;
  }

  /** Before a write: marks it as begun, so a retry after a crash knows to look on the ticket first. */
  async begin(lsid: string, artifact: string): Promise<boolean> {
    const key = this.redis.key('artifacts', lsid, 'begun');
    const [[, previous]] = (await this.redis.connection
      .multi()
      .hget(key, artifact)
      .hset(key, artifact, Date.now())
      .expire(key, SESSION_TTL_SECONDS)
      .exec()) as [[unknown, string | null]];
    return previous !== null;
  }

  async mark(lsid: string, artifact: string, value: string): Promise<void> {
    await this.redis.connection.multi().hset(this.key(lsid), artifact, value).expire(this.key(lsid), SESSION_TTL_SECONDS).exec();
  }

  /** The session's ticket writes, for writeOnce: one step per artifact, named by the lsid in markers. */
  ledger(lsid: string): WriteLedger {
    return {
      scope: lsid,
      isDone: (artifact) => this.isDone(lsid, artifact),
      begin: (artifact) => this.begin(lsid, artifact),
      done: (artifact, value) => this.mark(lsid, artifact, value),
    };
  }
}

export interface SessionState {
  state?: 'active' | 'ended';
  externalKey?: string;
  startedAt?: string;
  endedAt?: string;
  owner?: string;
  members?: string;
  lastEvent?: string;
  /** The ticket the session resolved to (system:id), once known. */
  ticket?: string;
}

/** What the outbound events told us about a session while it ran (begin, members, owner, end). */
@Injectable()
export class SessionStateStore {
  constructor(private readonly redis: RedisService) {}

  async update(lsid: string, values: SessionState): Promise<void> {
    const key = this.redis.key('session', lsid);
    const defined = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<string, string>;
    await this.redis.connection.multi().hset(key, defined).expire(key, SESSION_TTL_SECONDS).exec();
  }

  async get(lsid: string): Promise<SessionState> {
    return (await this.redis.connection.hgetall(this.redis.key('session', lsid))) as SessionState;
  }

  /** Adds or removes a representative from the members list (kept as a comma-separated set). */
  async member(lsid: string, rep: string, present: boolean): Promise<void> {
    const current = new Set(((await this.get(lsid)).members ?? '').split(',').filter(Boolean));
    if (present) current.add(rep);
    else current.delete(rep);
    await this.update(lsid, { members: [...current].join(',') });
  }
}

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
