import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { discoverQueues, discoverWorkers } from '../lifecycle/bullmq-instances';
import { within } from '../lifecycle/stall-watchdog';
import { RedisService } from '../redis/redis.service';
import {
  httpDuration,
  httpRequests,
  jobDuration,
  jobs,
  pollCursorLag,
  queueJobs,
  redisUp,
  registry,
  webhookVerifications,
} from './metrics';

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children'] as const;
/** A scrape must answer (with the process metrics) even when Redis does not; Prometheus times out at 10 s. */
const REDIS_READ_TIMEOUT_MS = 2_000;

/** Error codes the ErrorFilter leaves on the raw request, for the webhook verification metric. */
export const ERROR_CODE = Symbol('rsb.errorCode');

/** Wires the metrics to workers and HTTP, and reads queue depths and the poll cursor at scrape time. */
@Injectable()
export class MetricsService implements OnApplicationBootstrap {
  /** Which scrape may set the Redis gauges: a read that timed out must not write into a later scrape. */
  private scrape = 0;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    for (const worker of discoverWorkers(this.discovery)) {
      worker.on('completed', (job) => {
        jobs.inc({ queue: worker.name, outcome: 'completed' });
        if (job.processedOn && job.finishedOn)
          jobDuration.observe({ queue: worker.name, outcome: 'completed' }, (job.finishedOn - job.processedOn) / 1000);
      });
      worker.on('failed', (job) => {
        const exhausted = !job || job.attemptsMade >= (job.opts.attempts ?? 1) || job.finishedOn !== undefined;
        const outcome = exhausted ? 'exhausted' : 'retried';
        jobs.inc({ queue: worker.name, outcome });
        if (job?.processedOn) jobDuration.observe({ queue: worker.name, outcome }, (Date.now() - job.processedOn) / 1000);
      });
    }
  }

  /** Called by Fastify's onResponse hook for every request. */
  observe(request: FastifyRequest, reply: FastifyReply): void {
    const route = request.routeOptions?.url ?? 'unmatched';
    const labels = { method: request.method, route };
    httpRequests.inc({ ...labels, status: String(reply.statusCode) });
    httpDuration.observe(labels, reply.elapsedTime / 1000);
    if (route.startsWith('/webhooks/')) {
      const code = (request.raw as unknown as Record<symbol, string | undefined>)[ERROR_CODE];
      webhookVerifications.inc({
        system: route.slice('/webhooks/'.length),
        result: reply.statusCode < 300 ? 'accepted' : (code ?? String(reply.statusCode)),
      });
    }
  }

  async render(): Promise<{ contentType: string; body: string }> {
    const scrape = ++this.scrape;
    queueJobs.reset();
    pollCursorLag.reset();
    try {
      await within(REDIS_READ_TIMEOUT_MS, this.readRedisGauges(scrape));
      redisUp.set(1);
    } catch {
      // Stale depths would hide the outage: the queue gauges go absent and rsb_redis_up says why.
      queueJobs.reset();
      pollCursorLag.reset();
      redisUp.set(0);
    }
    return { contentType: registry.contentType, body: await registry.metrics() };
  }

  private async readRedisGauges(scrape: number): Promise<void> {
    const notConnected = this.redis.connectionError;
    if (notConnected) throw new Error(notConnected);
    const depths = await Promise.all(
      discoverQueues(this.discovery).map(async (queue) => [queue.name, await queue.getJobCounts(...STATES)] as const),
    );
    let cursor = 0;
    if (this.config.env.BT_POLL_INTERVAL_SECONDS > 0 && this.config.env.BT_SITE_URL)
      cursor = Number(await this.redis.connection.get(this.redis.key('poll', 'cursor')));
    // Set only once everything was read, and only by the current scrape: never half the gauges, never late.
    if (scrape !== this.scrape) return;
    for (const [name, counts] of depths) for (const state of STATES) queueJobs.set({ queue: name, state }, counts[state] ?? 0);
    if (cursor) pollCursorLag.set(Date.now() / 1000 - cursor);
  }
}
