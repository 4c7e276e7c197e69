import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DiscoveryService } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { ApiError } from '../common/api-error';
import { discoverQueues } from '../lifecycle/bullmq-instances';
import { ArtifactStore, SessionStateStore } from '../session-end/session-stores';
import { LinkStore } from '../sessions/link.store';
import { ApiAuth } from '../http/api-token.guard';

/** Operators' API (bearer): failed jobs with their reasons, retry one or all, and the links between tickets and sessions. */
@ApiTags('admin')
@ApiAuth()
@Controller('api/v1/admin')
export class AdminQueuesController {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly links: LinkStore,
    private readonly artifacts: ArtifactStore,
    private readonly states: SessionStateStore,
  ) {}

  private queue(name: string): Queue {
    const queues = discoverQueues(this.discovery);
    const queue = queues.find((q) => q.name === name);
    if (!queue)
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'not_found',
        `No queue ${name}; queues: ${[...new Set(queues.map((q) => q.name))].sort().join(', ')}`,
      );
    return queue;
  }

  @Get('queues')
  async queues() {
    const unique = new Map(discoverQueues(this.discovery).map((q) => [q.name, q]));
    const out: Record<string, Record<string, number>> = {};
    for (const [name, queue] of [...unique].sort())
      out[name] = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    return { queues: out };
  }

  @Get('queues/:queue/failed')
  async failed(@Param('queue') name: string, @Query('limit') limit = '50') {
    const n = Math.min(500, Math.max(1, Number(limit) || 50));
    const jobs = await this.queue(name).getFailed(0, n - 1);
    return {
      queue: name,
      jobs: jobs.map((j) => ({
        id: j.id,
        name: j.name,
        failedReason: j.failedReason,
        attemptsMade: j.attemptsMade,
        failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : undefined,
        data: j.data as unknown,
      })),
    };
  }

  @Post('queues/:queue/failed/retry')
  @HttpCode(HttpStatus.ACCEPTED)
  async retryAll(@Param('queue') name: string) {
    const queue = this.queue(name);
    const count = await queue.getFailedCount();
    await queue.retryJobs({ state: 'failed', count: 1000 });
    return { queue: name, retried: count };
  }

  @Post('queues/:queue/failed/:jobId/retry')
  @HttpCode(HttpStatus.ACCEPTED)
  async retryOne(@Param('queue') name: string, @Param('jobId') jobId: string) {
    const job = await this.queue(name).getJob(jobId);
    if (!job || !(await job.isFailed())) throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', `No failed job ${jobId} in ${name}`);
    await job.retry('failed');
    return { queue: name, retried: jobId };
  }

  @Get('links/tickets/:system/:ticketId')
  async ticketLinks(@Param('system') system: string, @Param('ticketId') ticketId: string) {
    return { system, ticketId, links: await this.links.byTicket(system, ticketId) };
  }

  @Get('sessions/:lsid')
  async session(@Param('lsid') lsid: string) {
    const [state, artifacts] = await Promise.all([this.states.get(lsid), this.artifacts.done(lsid)]);
    const link = state.externalKey ? await this.links.byExternalKey(state.externalKey) : undefined;
    if (!Object.keys(state).length && !Object.keys(artifacts).length)
      throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', `rs-bridge knows nothing of session ${lsid}`);
    return { lsid, state, link, artifacts };
  }
}
