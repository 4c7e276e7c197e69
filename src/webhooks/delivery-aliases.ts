import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RedisService } from '../redis/redis.service';
import { storedOr503 } from './enqueue';

/**
 * Second names of a delivery, kept for a while: the first delivery seen under a name gives the name its
 * delivery id, and a later one under the same name is that delivery again. Zendesk's unsigned invocation
 * id and the body hash of an undated ServiceNow request are such names. Written before the 202, so Redis
 * being away answers 503 (the sender retries) rather than losing the link.
 */
@Injectable()
export class DeliveryAliases {
  constructor(private readonly redis: RedisService) {}

  /** The delivery id first recorded under `name` (within `ttlSeconds`), or `deliveryId` if the name is new. */
  async claim(kind: string, name: string, deliveryId: string, ttlSeconds: number): Promise<string> {
    const key = this.redis.key('delivery-alias', kind, createHash('sha256').update(name).digest('hex'));
    return storedOr503(async () => {
      const created = await this.redis.connection.set(key, deliveryId, 'EX', ttlSeconds, 'NX');
      if (created === 'OK') return deliveryId;
      return (await this.redis.connection.get(key)) ?? deliveryId;
    });
  }
}
