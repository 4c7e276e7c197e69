import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { redisOptions } from './redis-options';

/** Owns the shared command connection and the key naming under RSB_REDIS_PREFIX. */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly prefix: string;
  private readonly client: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.prefix = config.env.RSB_REDIS_PREFIX;
    this.client = new Redis(redisOptions(config.env.REDIS_URL, 'command'));
    // Without a listener ioredis prints every failed reconnect; readiness reports the state instead.
    this.client.on('error', () => undefined);
  }

  /** The connection for short commands: waits for the first connection, fails fast while Redis is away. */
  get connection(): Redis {
    return this.client;
  }

  /** `rsb:<part>:<part>` — every key of this deployment goes through here. */
  key(...parts: (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client.status !== 'end') await this.client.quit().catch(() => this.client.disconnect());
  }
}
