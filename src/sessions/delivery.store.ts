import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { TicketEvent } from '../tickets/ticket-event';
import { TicketWriter } from '../tickets/ticket-writer';

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
    const key = this.key(system, deliveryId);
    await this.redis.connection.multi().hset(key, step, value).expire(key, DeliveryStore.TTL_SECONDS).exec();
  }

  /**
   * One internal note per delivery and step: the first run computes it (`produce` sees what earlier runs
   * recorded), writes it, then records its outcome; a later run returns that outcome without writing.
   */
  async noteOnce<T>(
    event: TicketEvent,
    writer: TicketWriter,
    step: string,
    produce: (done: Record<string, string>) => Promise<{ outcome: T; body: string }>,
  ): Promise<T> {
    const done = await this.get(event.system, event.deliveryId);
    if (done[step]) return JSON.parse(done[step]) as T;
    const { outcome, body } = await produce(done);
    await writer.update(
      event.ticket.id,
      { comment: { body, public: false } },
      { deliveryId: event.deliveryId, step, callbackUrl: event.callbackUrl },
    );
    await this.mark(event.system, event.deliveryId, step, JSON.stringify(outcome));
    return outcome;
  }
}
