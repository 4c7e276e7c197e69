import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { TrackedWorker } from '../lifecycle/tracked-worker';
import { redisOptions } from '../redis/redis-options';

// Every processor's worker: reconnect-safe connection options and progress for the stall watchdog.
BullModule.workerClass = TrackedWorker;

/** BullMQ on the bridge's Redis, under its prefix: the queues of the catalogue (queues.ts) register against it. */
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
  exports: [BullModule],
})
export class JobsModule {}
