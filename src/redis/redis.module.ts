import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { TrackedWorker } from '../lifecycle/tracked-worker';
import { Locks } from './locks';
import { redisOptions } from './redis-options';
import { RedisService } from './redis.service';

// Every processor's worker: reconnect-safe connection options and progress for the stall watchdog.
BullModule.workerClass = TrackedWorker;

@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        // BullMQ's own option type is narrower than ioredis's; these are plain ioredis options.
        connection: redisOptions(config.env.REDIS_URL, 'queue') as ConnectionOptions,
        prefix: config.env.RSB_REDIS_PREFIX,
      }),
    }),
  ],
  providers: [RedisService, Locks],
  exports: [RedisService, Locks, BullModule],
})
export class RedisModule {}
