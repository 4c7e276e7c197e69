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
  /** Lines rs-bridge sent (indexes into its sent list) already found in the report as their own echo. */
  echoed?: number[];
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

/** A chat line rs-bridge put into the session (a replayed transcript line or a relayed customer line). */
export interface SentLine {
  body: string;
  /** UNIX seconds: the timestamp sent with it, or when it was sent. */
  at: number;
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

  /**
   * After a bot refused a callback for good (a 4xx), its deliveries wait this long: the refused job stops
   * at once, and without the hold every watch tick would post the same callback again.
   */
  static readonly REFUSED_HOLD_SECONDS = 60;

  async holdDeliveries(id: string): Promise<void> {
    await this.redis.connection.set(this.redis.key('chat', 'hold', id), '1', 'EX', EscalationStore.REFUSED_HOLD_SECONDS);
  }

  async deliveriesHeld(id: string): Promise<boolean> {
    return (await this.redis.connection.exists(this.redis.key('chat', 'hold', id))) === 1;
  }

  private key(id: string): string {
    return this.redis.key('chat', 'escalation', id);
  }

  private outboxKey(id: string): string {
    return this.redis.key('chat', 'outbox', id);
  }

  private sentKey(id: string): string {
    return this.redis.key('chat', 'sent', id);
  }

  private leftKey(id: string): string {
    return this.redis.key('chat', 'left', id);
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

  /**
   * Notes a line before it is sent (a line whose answer was lost may still have reached the session; it
   * must be recognised when it comes back). Appended atomically, apart from the record the watcher rewrites.
   */
  async recordSent(id: string, line: SentLine): Promise<void> {
    await this.redis.connection
      .multi()
      .rpush(this.sentKey(id), JSON.stringify(line))
      .expire(this.sentKey(id), TTL_SECONDS)
      // A line sent means a reply is likely soon: the watcher reads this escalation at its fastest again.
      .hset(this.paceKey, `${id}:next`, '0', `${id}:every`, '0')
      .exec();
  }

  get connection() {
    return this.redis.connection;
  }

  /** When the watcher next reads each escalation, and at what interval (chat-watch.service.ts). */
  get paceKey(): string {
    return this.redis.key('chat', 'watch-pace');
  }

  async sent(id: string): Promise<SentLine[]> {
    return (await this.redis.connection.lrange(this.sentKey(id), 0, -1)).map((raw) => JSON.parse(raw) as SentLine);
  }

  /** The customer left (leave_session succeeded): the escalation is over for the bot, whatever the session does. */
  async markLeft(id: string, at: string): Promise<void> {
    await this.redis.connection.set(this.leftKey(id), at, 'EX', TTL_SECONDS, 'NX');
  }

  async leftAt(id: string): Promise<string | undefined> {
    return (await this.redis.connection.get(this.leftKey(id))) ?? undefined;
  }

  async pending(id: string): Promise<number> {
    return this.redis.connection.llen(this.outboxKey(id));
  }
}
