import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { ConnectionOptions, Queue } from 'bullmq';
import { Cluster, RedisOptions } from 'ioredis';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { discoverQueues, discoverWorkers } from './bullmq-instances';
import { RunningWatchdog, startEventLoopWatchdog, WATCHDOG_EXIT_CODE } from './event-loop-watchdog';
import { ShutdownState } from './shutdown-state';
import { TrackedWorker } from './tracked-worker';

/** A check that takes longer than this means Redis does not answer: not the consumer's fault. */
const REDIS_CHECK_TIMEOUT_MS = 2_000;

/** The work, or a rejection once `ms` have passed: for Redis reads that must not hang a check. */
export const within = <T>(ms: number, work: Promise<T>): Promise<T> =>
  Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

/**
 * The worker's watchdog, for the stalls a restart cures (issue 16):
 * - an event loop blocked for RSB_WATCHDOG_BLOCKED_SECONDS (watched from a thread of its own);
 * - a consumer that takes no job for RSB_WATCHDOG_STALL_SECONDS while jobs wait in its queue, it has a
 *   free slot, the queue is neither paused nor rate limited, and Redis answers.
 * Either way it logs why and exits with code 70; the orchestrator starts a fresh process. Not in the api
 * role, which runs no worker (its /healthz is what a blocked loop silences, and liveness probes see it).
 */
@Injectable()
export class StallWatchdog implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Watchdog');
  private eventLoop?: RunningWatchdog;
  private timer?: NodeJS.Timeout;
  /** Per queue: when the check first saw jobs waiting with the consumer idle since. */
  private readonly waitingSince = new Map<string, number>();
  private tripped = false;
  private readonly ownQueues: Queue[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly shutdown: ShutdownState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const workers = discoverWorkers(this.discovery).filter((w): w is TrackedWorker => w instanceof TrackedWorker);
    if (workers.length === 0) return;
    const env = this.config.env;
    if (env.RSB_WATCHDOG_BLOCKED_SECONDS > 0)
      this.eventLoop = startEventLoopWatchdog({
        thresholdMs: env.RSB_WATCHDOG_BLOCKED_SECONDS * 1000,
        logBase: { service: 'rs-bridge', role: env.RSB_ROLE },
        log: env.LOG_LEVEL !== 'silent',
      });
    if (env.RSB_WATCHDOG_STALL_SECONDS > 0) {
      const stallMs = env.RSB_WATCHDOG_STALL_SECONDS * 1000;
      const queues = new Map(discoverQueues(this.discovery).map((q) => [q.name, q]));
      // A worker whose module registers no Queue (ticket-events in the worker role) gets one for the check,
      // failing fast like every producer.
      for (const worker of workers.filter((w) => !queues.has(w.name))) {
        const own = worker.opts.connection;
        const queue = new Queue(worker.name, {
          // A Cluster client is shared as it is; the check's own timeout bounds its offline queue.
          connection: (own instanceof Cluster ? own : { ...(own as RedisOptions), enableOfflineQueue: false }) as ConnectionOptions,
          prefix: worker.opts.prefix,
        });
        queue.on('error', () => undefined);
        this.ownQueues.push(queue);
        queues.set(worker.name, queue);
      }
      const everyMs = Math.max(500, Math.min(10_000, Math.floor(stallMs / 5)));
      this.timer = setInterval(() => void this.checkAll(workers, queues, stallMs), everyMs).unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([this.eventLoop?.stop(), ...this.ownQueues.map((queue) => queue.close())]);
  }

  private async checkAll(workers: TrackedWorker[], queues: Map<string, Queue>, stallMs: number): Promise<void> {
    for (const worker of workers) {
      if (this.tripped || this.shutdown.stopping) return;
      const queue = queues.get(worker.name)!;
      const waiting = await this.waitingFor(worker, queue).catch(() => undefined);
      const since = this.waitingSince.get(worker.name);
      if (!waiting) {
        this.waitingSince.delete(worker.name);
      } else if (since === undefined || worker.progress.lastActivityAt > since) {
        this.waitingSince.set(worker.name, Date.now());
      } else if (Date.now() - since >= stallMs) {
        this.trip(
          `the consumer of queue ${worker.name} has taken no job for ${Math.round((Date.now() - since) / 1000)} s while ${waiting} ` +
            `wait, with ${worker.concurrency - worker.progress.running} of ${worker.concurrency} slots free and Redis answering ` +
            `(RSB_WATCHDOG_STALL_SECONDS is ${stallMs / 1000}); stopping with code ${WATCHDOG_EXIT_CODE} for a restart`,
        );
        return;
      }
    }
  }

  /**
   * How many jobs wait that this consumer could take now; 0 when it may rightly take none (busy, paused,
   * rate limited, at the global concurrency). Throws when Redis does not answer.
   */
  private async waitingFor(worker: TrackedWorker, queue: Queue): Promise<number> {
    if (worker.progress.running >= worker.concurrency || worker.isPaused() || worker.closing) return 0;
    const [counts, paused, limitTtl, maxed] = await within(
      REDIS_CHECK_TIMEOUT_MS,
      Promise.all([queue.getJobCounts('waiting', 'prioritized'), queue.isPaused(), queue.getRateLimitTtl(), queue.isMaxed()]),
    );
    if (paused || limitTtl > 0 || maxed) return 0;
    return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
  }

  /** A graceful stop (drain, running jobs finish) whose exit code says the watchdog asked for it. */
  private trip(reason: string): void {
    this.tripped = true;
    this.logger.error(reason);
    process.on('exit', () => (process.exitCode = WATCHDOG_EXIT_CODE));
    process.kill(process.pid, 'SIGTERM');
  }
}
