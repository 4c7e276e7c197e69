import { Job, Processor, Worker, WorkerOptions } from 'bullmq';
import { Cluster, RedisOptions } from 'ioredis';
import { workerCluster, workerConnection } from '../redis/redis-options';

/** What the stall watchdog reads of a worker: jobs inside our processor now, and when one last started or ended. */
export class ConsumerProgress {
  running = 0;
  lastActivityAt = Date.now();

  track(processor: Processor): Processor {
    return async (job: Job, token?: string, signal?: AbortSignal) => {
      this.running++;
      this.lastActivityAt = Date.now();
      try {
        return await processor(job, token, signal);
      } finally {
        this.running--;
        this.lastActivityAt = Date.now();
      }
    };
  }
}

const isOptions = (connection: unknown): connection is RedisOptions =>
  typeof connection === 'object' && connection !== null && typeof (connection as { defineCommand?: unknown }).defineCommand !== 'function';

/**
 * The worker class @nestjs/bullmq builds every processor's worker from (BullModule.workerClass): the
 * queue's connection options with the offline queue on (see workerConnection), and the progress the
 * stall watchdog reads.
 */
export class TrackedWorker extends Worker {
  readonly progress: ConsumerProgress;
  /** In Cluster mode, the worker's own client (BullMQ leaves a client it was given open). */
  private readonly ownCluster?: Cluster;

  constructor(name: string, processor: string | URL | null | Processor | undefined, opts: WorkerOptions) {
    const progress = new ConsumerProgress();
    const ownCluster = opts.connection instanceof Cluster ? workerCluster(opts.connection) : undefined;
    const connection = ownCluster ?? (isOptions(opts.connection) ? workerConnection(opts.connection) : opts.connection);
    super(name, typeof processor === 'function' ? progress.track(processor) : processor, { ...opts, connection } as WorkerOptions);
    this.progress = progress;
    this.ownCluster = ownCluster;
  }

  override async close(force = false): Promise<void> {
    await super.close(force);
    if (this.ownCluster && this.ownCluster.status !== 'end') await this.ownCluster.quit().catch(() => this.ownCluster!.disconnect());
  }
}
