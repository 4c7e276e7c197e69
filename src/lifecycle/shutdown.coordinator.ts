import type { Server } from 'node:http';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { discoverWorkers } from './bullmq-instances';
import { ShutdownState } from './shutdown-state';

/**
 * Orders the shutdown that Nest's hooks leave unordered: stop taking HTTP requests, let the running
 * jobs finish within RSB_SHUTDOWN_TIMEOUT_MS, and only then let queues and Redis close (in
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.state.stopping = true;
    this.logger.log(`Stopping${signal ? ` on ${signal}` : ''}`);

    // Fastify's close() stops listening and waits for in-flight requests; Nest's own close later is a no-op.
    // A keep-alive connection whose request was in flight when closing began goes idle afterwards and would
    // hold the server open until its keep-alive timeout (72 s): reap idle connections until the server is
    // closed, and cut what is left at the drain deadline.
    const server = this.httpAdapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    const reaper = setInterval(() => server?.closeIdleConnections?.(), 100);
    const deadline = setTimeout(() => server?.closeAllConnections?.(), this.config.env.RSB_SHUTDOWN_TIMEOUT_MS);
    try {
      await this.httpAdapterHost.httpAdapter?.close();
    } finally {
      clearInterval(reaper);
      clearTimeout(deadline);
    }

    const workers = discoverWorkers(this.discovery);
    if (workers.length === 0) return;
    const timeoutMs = this.config.env.RSB_SHUTDOWN_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    // pause() stops fetching and waits for the running jobs; close() after a non-forced start could
    // not be forced any more (BullMQ reuses the first close), hence pause, then close.
    const finished = await Promise.race([
      Promise.all(workers.map((worker) => worker.pause())).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (finished) {
      this.logger.log(`${workers.length} worker(s) finished their jobs and closed`);
    } else {
      this.logger.warn(`Jobs still running after ${timeoutMs} ms; closing anyway, they will be retried`);
    }
    await Promise.all(workers.map((worker) => worker.close(!finished)));
  }
}
