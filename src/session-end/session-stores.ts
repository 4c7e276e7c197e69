import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { WriteLedger } from '../tickets/write-once';

const SESSION_TTL_SECONDS = 90 * 24 * 3600;

/**
 * The write-once ledger (ArtifactStore scope) of a session key's internal note riding on a session's
 * note: its `keyNote` step is claimed by the first session's note on the ticket; the key's expiry path
 * uses the same scope and step, so the key note is written once whichever writes it.
 */
export const keyNoteScope = (system: string, ticketId: string, shortKey: string) => `keyNote:${system}:${ticketId}:${shortKey}`;
export const KEY_NOTE_STEP = 'keyNote';

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

  /**
   * Records `value` for the artifact unless one is recorded already, and returns the one that stands:
   * the first to claim it wins, and later runs of the same claimant see their own value.
   */
  async claim(scope: string, artifact: string, value: string): Promise<string> {
    const [, , [, stands]] = (await this.redis.connection
      .multi()
      .hsetnx(this.key(scope), artifact, value)
      .expire(this.key(scope), SESSION_TTL_SECONDS)
      .hget(this.key(scope), artifact)
      .exec()) as [unknown, unknown, [unknown, string]];
    await this.redis.replicated();
    return stands;
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
