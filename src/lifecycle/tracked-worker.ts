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

/** What BullMQ fails a job with once its workers died under it more than maxStalledCount times. */
export const STALLED_OUT = 'job stalled more than allowable limit';

/** A processor's give-up handling (the note on the ticket), for a job BullMQ fails without running it. */
export type StalledOutHandler = (job: Job, error: Error) => Promise<void>;

/**
 * How many times a job's worker may die under it (kill -9, OOM, a node lost) before BullMQ fails the job
 * for good. BullMQ's default, 1, fails a job the second time, whatever its attempts left — two pods lost
 * in a rollout and a session end never reaches its ticket (the soak saw it, bench/RESULTS.md). Our jobs
 * are safe to run again (ticket writes are write-once), so a stalled job is run again; a job that kills
 * every worker that takes it still ends up failed, after this many, and its give-up handling runs
 * (TrackedWorker.processJob).
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
  /** Set by a processor with give-up handling (see onStalledOut in jobs/run-job.ts). */
  stalledOut?: StalledOutHandler;
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

  /**
   * A job that stalled more than MAX_STALLED_COUNT times comes back from the wait list marked to fail
   * (BullMQ's deferred failure): the worker that takes it fails it without running the processor, so
   * runJob's give-up handling never sees it. It runs here first, while this worker holds the job: a death
   * in between leaves the job to the next worker, which runs it again (give-up writes are write-once).
   */
  override async processJob(job: Job, token: string, fetchNextCallback?: () => boolean): Promise<void | Job> {
    if (job.deferredFailure === STALLED_OUT) {
      const error = new Error(`${STALLED_OUT} (its workers stopped ${job.stalledCounter} times while running it)`);
      // The job's log (the queue dashboard's Logs tab) says why it failed without an attempt of its own.
      await job.log(`${new Date().toISOString()} failed for good: ${error.message}`).catch(() => undefined);
      await this.stalledOut?.(job, error).catch((giveUpError: Error) => this.emit('error', giveUpError));
    }
    return super.processJob(job, token, fetchNextCallback);
  }

  override async close(force = false): Promise<void> {
    await super.close(force);
    if (this.ownCluster && this.ownCluster.status !== 'end') await this.ownCluster.quit().catch(() => this.ownCluster!.disconnect());
  }
}
