import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RedisService } from '../redis/redis.service';
import { storedOr503 } from '../jobs/enqueue';

const hash = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * A second name for a delivery, kept for a while: Zendesk's unsigned invocation id. The first name a
 * delivery arrives with is recorded; a later request under that name is that delivery again, whatever
 * it is signed with now. A delivery already known creates no record for further names, so replays of
 * one captured request under made-up names cost nothing in Redis. Written before the 202, so Redis
 * being away answers 503 (the sender retries) rather than losing the link.
 */
@Injectable()
export class DeliveryAliases {
  constructor(private readonly redis: RedisService) {}

  /** The delivery id recorded under `name`, or `deliveryId` (recorded under `name` if the delivery is new). */
  async resolve(kind: string, name: string, deliveryId: string, ttlSeconds: number): Promise<string> {
    const alias = this.redis.key('delivery-alias', kind, hash(name));
    const seen = this.redis.key('delivery-seen', kind, hash(deliveryId));
    return storedOr503(async () => {
      const known = await this.redis.connection.get(alias);
      if (known) return known;
      if ((await this.redis.connection.set(seen, '1', 'EX', ttlSeconds, 'NX')) !== 'OK') return deliveryId;
      if ((await this.redis.connection.set(alias, deliveryId, 'EX', ttlSeconds, 'NX')) === 'OK') {
        // On a replica before the job is queued: across a Sentinel failover ioredis may send the alias to the
        // old master (lost with it) and the job, a moment later, to the new one. The sender's retry would
        // then find no alias and queue the same delivery again under its new signature: a second key on the
        // ticket (seen in the Sentinel failover test). No replica holding the alias answers 503 instead.
        await this.redis.replicated();
        return deliveryId;
      }
      return (await this.redis.connection.get(alias)) ?? deliveryId;
    });
  }
}
