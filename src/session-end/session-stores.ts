import { Injectable } from '@nestjs/common';
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
    await this.redis.replicated();
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
