import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import type { Worker } from 'bullmq';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { RedisService } from '../redis/redis.service';
import { discoverWorkers } from './bullmq-instances';
import { ShutdownState } from './shutdown-state';
import { TrackedWorker } from './tracked-worker';

const running = (worker: Worker): number => (worker instanceof TrackedWorker ? worker.progress.running : 0);

/**
 * Orders the shutdown that Nest's hooks leave unordered: answer /readyz 503 and keep serving for
 * RSB_DRAIN_SECONDS (load balancers take a few seconds to stop sending), stop taking HTTP requests, let
 * the running jobs finish within RSB_SHUTDOWN_TIMEOUT_MS, and only then let queues and Redis close (in
 * onApplicationShutdown). Jobs still running at the deadline are abandoned to BullMQ's stalled-job
 * check, which hands them to another worker: nothing is lost, at worst a job runs again.
 */
@Injectable()
export class ShutdownCoordinator implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly httpAdapterHost: HttpAdapterHost,
    private readonly state: ShutdownState,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.state.stopping = true;
    this.logger.log(`Stopping${signal ? ` on ${signal}` : ''}`);
    const server = this.httpAdapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    await this.drain(server);
    await this.closeHttp(server);
    await this.stopWorkers();
  }

  /**
   * Kubernetes removes a terminating pod from its Service while the pod already runs its SIGTERM
   * handler; a listener closed at once refuses what the ingress still sends (a 502 that Zendesk never
   * retries). Serve on, with /readyz failing, until the endpoints are updated. A worker serves only
   * probes, and a process whose readiness last failed is out of rotation already: neither waits.
   */
  private async drain(server: Server | undefined): Promise<void> {
    const seconds = this.config.env.RSB_DRAIN_SECONDS;
    if (seconds === 0 || !server?.listening || this.config.env.RSB_ROLE === 'worker' || this.state.lastReady === false) return;
    this.logger.log(`Draining: /readyz answers 503, serving ${seconds} s more before the listener closes (RSB_DRAIN_SECONDS)`);
    await sleep(seconds * 1000);
  }

  /**
   * Fastify's close() stops listening and waits for in-flight requests; Nest's own close later is a no-op.
   * A keep-alive connection whose request was in flight when closing began goes idle afterwards and would
   * hold the server open until its keep-alive timeout (72 s): reap idle connections until the server is
   * closed, and cut what is left at the deadline.
   */
  private async closeHttp(server: Server | undefined): Promise<void> {
    const reaper = setInterval(() => server?.closeIdleConnections?.(), 100);
    const deadline = setTimeout(() => server?.closeAllConnections?.(), this.config.env.RSB_SHUTDOWN_TIMEOUT_MS);
    try {
      await this.httpAdapterHost.httpAdapter?.close();
    } finally {
      clearInterval(reaper);
      clearTimeout(deadline);
    }
  }

  private async stopWorkers(): Promise<void> {
    const workers = discoverWorkers(this.discovery);
    if (workers.length === 0) return;
    const timeoutMs = this.config.env.RSB_SHUTDOWN_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.redis.ready ? this.pauseAll(workers) : this.stopFetchingOffline(workers),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (finished) {
      this.logger.log(`${workers.length} worker(s) finished their jobs and closed`);
    } else {
      this.logger.warn(`Jobs still running after ${timeoutMs} ms; closing anyway, they will be retried`);
    }
    // Without Redis a graceful close would wait for a connection that may never come.
    const force = !finished || !this.redis.ready;
    await Promise.all(workers.map((worker) => worker.close(force)));
  }

  /**
   * pause() stops fetching and waits for the running jobs; close() after a non-forced start could not be
   * forced any more (BullMQ reuses the first close), hence pause, then close.
   */
  private async pauseAll(workers: Worker[]): Promise<true> {
    await Promise.all(workers.map((worker) => worker.pause()));
    return true;
  }

  /**
   * With Redis away, pause() would wait to reconnect the blocking connection. Nothing new can be fetched
   * anyway: stop the fetch loop (pause(true) does not wait, in BullMQ) and wait here only for the jobs
   * inside our processors. Their results cannot be recorded until Redis returns, so BullMQ's stalled-job
   * check runs them again later. False when some were still running at the deadline.
   */
  private async stopFetchingOffline(workers: Worker[]): Promise<boolean> {
    const deadline = Date.now() + this.config.env.RSB_SHUTDOWN_TIMEOUT_MS;
    await Promise.all(workers.map((worker) => worker.pause(true)));
    while (workers.some((worker) => running(worker) > 0) && Date.now() < deadline) await sleep(50);
    return workers.every((worker) => running(worker) === 0);
  }
}
