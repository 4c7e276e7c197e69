import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';

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
}
