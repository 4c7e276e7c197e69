import { BullModule } from '@nestjs/bullmq';
import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { TrackedWorker } from '../lifecycle/tracked-worker';
import { bullConnection } from '../redis/redis-options';

/** Cluster clients handed to BullMQ's queues: BullMQ never closes a client it was given, so we do. */
const sharedClusters = new Set<Cluster>();
const shared = <T>(connection: T): T => {
  if (connection instanceof Cluster) sharedClusters.add(connection);
  return connection;
};

// Every processor's worker: reconnect-safe connection options and progress for the stall watchdog.
BullModule.workerClass = TrackedWorker;

/** BullMQ on the bridge's Redis, under its prefix: the queues of the catalogue (queues.ts) register against it. */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        // BullMQ's own option type is narrower than ioredis's; these are plain ioredis options or a Cluster.
        connection: shared(bullConnection(config.env)) as ConnectionOptions,
        prefix: config.env.RSB_REDIS_PREFIX,
      }),
    }),
  ],
  exports: [BullModule],
})
export class JobsModule implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    for (const cluster of sharedClusters) {
      sharedClusters.delete(cluster);
      if (cluster.status !== 'end') await cluster.quit().catch(() => cluster.disconnect());
    }
  }
}
