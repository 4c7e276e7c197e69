import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { TicketEvent } from '../tickets/ticket-event';
import { TicketWriter } from '../tickets/ticket-writer';
import { WriteLedger, writeOnce } from '../tickets/write-once';

/**
 * What has been done for one delivery, step by step, recorded only after each step succeeded: a retried
 * or redelivered job skips what is recorded and never generates a second key or posts twice.
 */
@Injectable()
export class DeliveryStore {
  private static readonly TTL_SECONDS = 30 * 24 * 3600;

  constructor(private readonly redis: RedisService) {}

  private key(system: string, deliveryId: string): string {
    return this.redis.key('delivery', system, deliveryId);
  }

  async get(system: string, deliveryId: string): Promise<Record<string, string>> {
    return this.redis.connection.hgetall(this.key(system, deliveryId));
  }

  async mark(system: string, deliveryId: string, step: string, value = '1'): Promise<void> {
    await this.markAll(system, deliveryId, { [step]: value });
  }

  /** Several steps in one write: none is recorded without the others. */
  async markAll(system: string, deliveryId: string, steps: Record<string, string>): Promise<void> {
    const key = this.key(system, deliveryId);
    await this.redis.connection.multi().hset(key, steps).expire(key, DeliveryStore.TTL_SECONDS).exec();
  }

  /** The delivery's ticket writes, for writeOnce: done steps in the delivery's hash, begun ones beside it. */
  ledger(system: string, deliveryId: string): WriteLedger {
    const key = this.key(system, deliveryId);
    const begunKey = this.redis.key('delivery', system, deliveryId, 'begun');
    const redis = this.redis.connection;
    return {
      scope: deliveryId,
      isDone: async (step) => (await redis.hexists(key, step)) === 1,
      begin: async (step) => {
        const [[, previous]] = (await redis
          .multi()
          .hget(begunKey, step)
          .hset(begunKey, step, Date.now())
          .expire(begunKey, DeliveryStore.TTL_SECONDS)
          .exec()) as [[unknown, string | null]];
        await this.redis.replicated();
        return previous !== null;
      },
      done: (step, value) => this.mark(system, deliveryId, step, value),
    };
  }

  /**
   * One internal note per delivery and step, written once (writeOnce): the first run computes it
   * (`produce` sees what earlier runs recorded), writes it, then records its outcome; a later run returns
   * that outcome without writing. `signal` stops the write once the lock the work runs under is lost.
   */
  async noteOnce<T>(
    event: TicketEvent,
    writer: TicketWriter,
    step: string,
    produce: (done: Record<string, string>) => Promise<{ outcome: T; body: string }>,
    signal?: AbortSignal,
  ): Promise<T> {
    const done = await this.get(event.system, event.deliveryId);
    if (done[step]) return JSON.parse(done[step]) as T;
    const { outcome, body } = await produce(done);
    await writeOnce(
      this.ledger(event.system, event.deliveryId),
      step,
      writer,
      { ticketId: event.ticket.id, context: { deliveryId: event.deliveryId, step, callbackUrl: event.callbackUrl } },
      { update: { comment: { body, public: false } } },
      { value: JSON.stringify(outcome), signal },
    );
    return outcome;
  }

  /**
   * The note of a ticket event that failed for good (retries spent, a permanent error, its workers dying
   * under it): once per delivery, so a give-up that runs again (a retried job failing again) adds nothing.
   */
  async giveUpNote(event: TicketEvent, writer: TicketWriter, body: string): Promise<void> {
    await writeOnce(
      this.ledger(event.system, event.deliveryId),
      GIVE_UP_NOTE,
      writer,
      { ticketId: event.ticket.id, context: { deliveryId: event.deliveryId, step: GIVE_UP_NOTE, callbackUrl: event.callbackUrl } },
      { update: { comment: { body, public: false } } },
    );
  }
}

/** The delivery step of a ticket event's give-up note. */
export const GIVE_UP_NOTE = 'giveUpNote';
