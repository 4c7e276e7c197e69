import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { LinkStore } from '../sessions/link.store';

const TTL_SECONDS = 90 * 24 * 3600;

/**
 * Which sessions (lsids) belong to a ticket, as soon as anything tells us: an outbound event whose
 * external key is linked to the ticket (the session is still running), or the session-end pull that
 * resolved the session to it. The ticket's sessions view reads it; nothing else depends on it.
 */
@Injectable()
export class TicketSessionsStore {
  constructor(
    private readonly redis: RedisService,
    private readonly links: LinkStore,
  ) {}

  private key(system: string, ticketId: string): string {
    return this.redis.key('ticket-sessions', system, ticketId);
  }

  /** The first sighting's time is kept (NX), so the order is when rs-bridge first saw each session. */
  async add(system: string, ticketId: string, lsid: string, at = Date.now()): Promise<void> {
    const key = this.key(system, ticketId);
    await this.redis.connection.multi().zadd(key, 'NX', at, lsid).expire(key, TTL_SECONDS).exec();
  }

  /** A running session's event: linked to a ticket when its external key is one rs-bridge handed out. */
  async fromEvent(lsid: string, externalKey: string | undefined): Promise<string | undefined> {
    if (!externalKey) return undefined;
    const link = await this.links.byExternalKey(externalKey);
    if (!link) return undefined;
    await this.add(link.system, link.ticketId, lsid);
    return `${link.system}:${link.ticketId}`;
  }

  /** Newest first. */
  async lsids(system: string, ticketId: string): Promise<string[]> {
    return this.redis.connection.zrevrange(this.key(system, ticketId), 0, 99);
  }
}
