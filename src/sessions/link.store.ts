import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';

/** A ticket ↔ external key ↔ short key link: what the session-end flow reads to find the ticket. */
export interface SessionLink {
  system: string;
  ticketId: string;
  ticketNumber: string;
  ticketUrl?: string;
  /** Generic systems: where the session's transcript is sent when it ends. */
  callbackUrl?: string;
  externalKey: string;
  shortKey: string;
  createdAt: string;
  /** Session keys: what the ticket's sessions view shows of the key (absent on links made before it). */
  keyUrl?: string;
  expiresAt?: string;
  queue?: string;
  /** A key the appliance refused: listed on the ticket with the reason, never found by external key. */
  failure?: string;
  /** The key's internal note, rendered when the key was made, to ride on the session's first note. */
  keyNote?: string;
}

/** Links live long after the key expires: a session may end days after it started. */
const LINK_TTL_SECONDS = 90 * 24 * 3600;

@Injectable()
export class LinkStore {
  constructor(private readonly redis: RedisService) {}

  /** Recording the same key again (a retried delivery) replaces the external key's link and lists the key once. */
  async record(link: SessionLink): Promise<void> {
    const ticketKey = this.redis.key('link', 'ticket', link.system, link.ticketId);
    const listed = (await this.redis.connection.lrange(ticketKey, 0, -1)).some(
      (raw) => (JSON.parse(raw) as SessionLink).shortKey === link.shortKey,
    );
    const multi = this.redis.connection
      .multi()
      .set(this.redis.key('link', 'ext', link.externalKey), JSON.stringify(link), 'EX', LINK_TTL_SECONDS);
    if (!listed) multi.lpush(ticketKey, JSON.stringify(link)).ltrim(ticketKey, 0, 49);
    await multi.expire(ticketKey, LINK_TTL_SECONDS).exec();
  }

  /** The ticket's sessions view shows a refused key with its reason, next to the keys that were made. */
  async recordRefusal(link: Omit<SessionLink, 'externalKey' | 'shortKey'> & { failure: string }): Promise<void> {
    const ticketKey = this.redis.key('link', 'ticket', link.system, link.ticketId);
    await this.redis.connection
      .multi()
      .lpush(ticketKey, JSON.stringify({ ...link, externalKey: '', shortKey: '' }))
      .ltrim(ticketKey, 0, 49)
      .expire(ticketKey, LINK_TTL_SECONDS)
      .exec();
  }

  /** A key to look at once it expires (outcomes.expiredKey, or a deferred keyNote): scored by its expiry, in ms. */
  async watchExpiry(link: SessionLink & { expiresAt: string }): Promise<void> {
    await this.redis.connection.zadd(this.redis.key('key-expiry'), Date.parse(link.expiresAt), JSON.stringify(link));
  }

  /** Keys whose expiry passed before `now`, oldest first. */
  async expired(now = Date.now(), limit = 50): Promise<{ member: string; link: SessionLink & { expiresAt: string } }[]> {
    const members = await this.redis.connection.zrangebyscore(this.redis.key('key-expiry'), '-inf', now, 'LIMIT', 0, limit);
    return members.map((member) => ({ member, link: JSON.parse(member) as SessionLink & { expiresAt: string } }));
  }

  async unwatchExpiry(member: string): Promise<void> {
    await this.redis.connection.zrem(this.redis.key('key-expiry'), member);
  }

  async byExternalKey(externalKey: string): Promise<SessionLink | undefined> {
    const raw = await this.redis.connection.get(this.redis.key('link', 'ext', externalKey));
    return raw ? (JSON.parse(raw) as SessionLink) : undefined;
  }

  /** Newest first. */
  async byTicket(system: string, ticketId: string): Promise<SessionLink[]> {
    const raws = await this.redis.connection.lrange(this.redis.key('link', 'ticket', system, ticketId), 0, -1);
    return raws.map((r) => JSON.parse(r) as SessionLink);
  }
}
