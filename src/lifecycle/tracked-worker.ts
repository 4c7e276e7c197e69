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

/**
 * How many times a job's worker may die under it (kill -9, OOM, a node lost) before BullMQ fails the job
 * for good. BullMQ's default, 1, fails a job the second time: no retry, whatever its attempts, and no
 * give-up handling — two pods lost in a rollout and a session-end note never reaches its ticket (the soak
 * saw it, bench/RESULTS.md). Our jobs are safe to run again (ticket writes are write-once), so a stalled
 * job is run again; a job that kills every worker that takes it still ends up failed, after this many.
 */
export const MAX_STALLED_COUNT = 20;

const isOptions = (connection: unknown): connection is RedisOptions =>
  typeof connection === 'object' && connection !== null && typeof (connection as { defineCommand?: unknown }).defineCommand !== 'function';

/**
 * The worker class @nestjs/bullmq builds every processor's worker from (BullModule.workerClass): the
 * queue's connection options with the offline queue on (see workerConnection), the progress the stall
 * watchdog reads, and a job outliving its workers' deaths (MAX_STALLED_COUNT).
 */
export class TrackedWorker extends Worker {
  readonly progress: ConsumerProgress;
  /** In Cluster mode, the worker's own client (BullMQ leaves a client it was given open). */
  private readonly ownCluster?: Cluster;

  constructor(name: string, processor: string | URL | null | Processor | undefined, opts: WorkerOptions) {
    const progress = new ConsumerProgress();
    const ownCluster = opts.connection instanceof Cluster ? workerCluster(opts.connection) : undefined;
    const connection = ownCluster ?? (isOptions(opts.connection) ? workerConnection(opts.connection) : opts.connection);
    super(name, typeof processor === 'function' ? progress.track(processor) : processor, {
      maxStalledCount: MAX_STALLED_COUNT,
      ...opts,
      connection,
    } as WorkerOptions);
    this.progress = progress;
    this.ownCluster = ownCluster;
  }

  override async close(force = false): Promise<void> {
    await super.close(force);
    if (this.ownCluster && this.ownCluster.status !== 'end') await this.ownCluster.quit().catch(() => this.ownCluster!.disconnect());
  }
}
