import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';

export type EscalationState = 'queued' | 'active' | 'ended';

export interface Escalation {
  id: string;
  lsid: string;
  externalKey: string;
  shortKey: string;
  queueId: string;
  state: EscalationState;
  callbackUrl: string;
  downloadUrl: string;
  createdAt: string;
  /** Representatives seen in the session, by display name. */
  representatives: string[];
  owner?: string;
  /** How many events of the session's report have been looked at (the watcher's cursor). */
  cursor: number;
  ticket?: { system: string; id: string; number: string };
}

/** What goes to the bot, in order, each with an id stable across retries (the webhook-id). */
export interface Outgoing {
  id: string;
  type: 'escalation.message' | 'escalation.accepted' | 'escalation.transferred' | 'escalation.ended';
  escalationId: string;
  lsid: string;
  at: string;
  [field: string]: unknown;
}

const TTL_SECONDS = 30 * 24 * 3600;

/**
 * Escalations in Redis: the record, the set of open ones (what the watcher reads), and each one's outbox
 * of callbacks not yet acknowledged by the bot. The watcher appends to the outbox and moves the cursor
 * in one transaction, so a crash never loses or skips an event.
 */
@Injectable()
export class EscalationStore {
  constructor(private readonly redis: RedisService) {}

  private key(id: string): string {
    return this.redis.key('chat', 'escalation', id);
  }

  private outboxKey(id: string): string {
    return this.redis.key('chat', 'outbox', id);
  }

  private get openKey(): string {
    return this.redis.key('chat', 'open');
  }

  async create(escalation: Escalation): Promise<void> {
    await this.redis.connection
      .multi()
      .set(this.key(escalation.id), JSON.stringify(escalation), 'EX', TTL_SECONDS)
      .sadd(this.openKey, escalation.id)
      .set(this.redis.key('chat', 'lsid', escalation.lsid), escalation.id, 'EX', TTL_SECONDS)
      .exec();
  }

  /** The escalation a session belongs to, if any. */
  async idOf(lsid: string): Promise<string | undefined> {
    return (await this.redis.connection.get(this.redis.key('chat', 'lsid', lsid))) ?? undefined;
  }

  async get(id: string): Promise<Escalation | undefined> {
    const raw = await this.redis.connection.get(this.key(id));
    return raw ? (JSON.parse(raw) as Escalation) : undefined;
  }

  async open(): Promise<string[]> {
    return this.redis.connection.smembers(this.openKey);
  }

  /** The watcher's step: the new record and the callbacks it produced, together. */
  async advance(escalation: Escalation, outgoing: Outgoing[]): Promise<void> {
    const tx = this.redis.connection.multi().set(this.key(escalation.id), JSON.stringify(escalation), 'EX', TTL_SECONDS);
    if (outgoing.length)
      tx.rpush(this.outboxKey(escalation.id), ...outgoing.map((o) => JSON.stringify(o))).expire(this.outboxKey(escalation.id), TTL_SECONDS);
    if (escalation.state === 'ended') tx.srem(this.openKey, escalation.id);
    await tx.exec();
  }

  async nextOutgoing(id: string): Promise<Outgoing | undefined> {
    const raw = await this.redis.connection.lindex(this.outboxKey(id), 0);
    return raw ? (JSON.parse(raw) as Outgoing) : undefined;
  }

  /** Removes the head of the outbox once the bot acknowledged it (only if it is still that item). */
  async acknowledge(id: string, outgoingId: string): Promise<void> {
    const head = await this.nextOutgoing(id);
    if (head?.id === outgoingId) await this.redis.connection.lpop(this.outboxKey(id));
  }

  async pending(id: string): Promise<number> {
    return this.redis.connection.llen(this.outboxKey(id));
  }
}
