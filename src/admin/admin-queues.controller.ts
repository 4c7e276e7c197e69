import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { ApiCall } from '../http/api-docs';
import { DiscoveryService } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { ApiError } from '../http/api-error';
import { discoverQueues } from '../lifecycle/bullmq-instances';
import { ArtifactStore, SessionStateStore } from '../session-end/session-stores';
import { LinkStore } from '../sessions/link.store';
import { ApiAuth } from '../http/api-token.guard';

const NO_QUEUE = 'No such queue (the message lists the queues)';

/** Operators' API (bearer): failed jobs with their reasons, retry one or all, and the links between tickets and sessions. */
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

  @ApiCall('admin', 'Job counts of every queue', {
    status: 200,
    description: 'Counts by state',
    schema: 'QueueCounts',
    example: { queues: { 'ticket-events': { waiting: 0, active: 1, delayed: 0, completed: 12, failed: 1 } } },
  })
  @Get('queues')
  async queues() {
    const unique = new Map(discoverQueues(this.discovery).map((q) => [q.name, q]));
    const out: Record<string, Record<string, number>> = {};
    for (const [name, queue] of [...unique].sort())
      out[name] = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    return { queues: out };
  }

  @ApiCall(
    'admin',
    "A queue's failed jobs, newest first, with their reasons",
    {
      status: 200,
      description: 'The failed jobs',
      schema: 'FailedJobs',
      example: {
        queue: 'ticket-events',
        jobs: [
          {
            id: 'zendesk.1042.a3f0',
            name: 'session.requested',
            failedReason: 'Zendesk answered 404',
            attemptsMade: 3,
            failedAt: '2026-11-23T10:05:00.000Z',
            data: {},
          },
        ],
      },
    },
    { errors: { 404: NO_QUEUE } },
  )
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'How many (1-500, default 50)',
    schema: { type: 'integer', minimum: 1, maximum: 500 },
  })
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

  @ApiCall(
    'admin',
    "Retry all of a queue's failed jobs",
    { status: 202, description: 'Put back in the queue', schema: 'RetriedAll', example: { queue: 'ticket-events', retried: 3 } },
    { errors: { 404: NO_QUEUE } },
  )
  @Post('queues/:queue/failed/retry')
  @HttpCode(HttpStatus.ACCEPTED)
  async retryAll(@Param('queue') name: string) {
    const queue = this.queue(name);
    const count = await queue.getFailedCount();
    await queue.retryJobs({ state: 'failed', count: 1000 });
    return { queue: name, retried: count };
  }

  @ApiCall(
    'admin',
    'Retry one failed job',
    {
      status: 202,
      description: 'Put back in the queue',
      schema: 'RetriedOne',
      example: { queue: 'ticket-events', retried: 'zendesk.1042.a3f0' },
    },
    { errors: { 404: 'No such queue, or no failed job with that id' } },
  )
  @Post('queues/:queue/failed/:jobId/retry')
  @HttpCode(HttpStatus.ACCEPTED)
  async retryOne(@Param('queue') name: string, @Param('jobId') jobId: string) {
    const job = await this.queue(name).getJob(jobId);
    if (!job || !(await job.isFailed())) throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', `No failed job ${jobId} in ${name}`);
    await job.retry('failed');
    return { queue: name, retried: jobId };
  }

  @ApiCall('admin', "A ticket's links to sessions (session keys, Jump links), newest first", {
    status: 200,
    description: 'The links (none: an empty list)',
    schema: 'TicketLinks',
    example: {
      system: 'zendesk',
      ticketId: '1042',
      links: [
        {
          system: 'zendesk',
          ticketId: '1042',
          ticketNumber: '1042',
          externalKey: 'zendesk-1042',
          shortKey: '4711815',
          createdAt: '2026-11-23T10:00:00.000Z',
        },
      ],
    },
  })
  @Get('links/tickets/:system/:ticketId')
  async ticketLinks(@Param('system') system: string, @Param('ticketId') ticketId: string) {
    return { system, ticketId, links: await this.links.byTicket(system, ticketId) };
  }

  @ApiCall(
    'admin',
    'What rs-bridge knows of a session: state, link to its ticket, what is written',
    {
      status: 200,
      description: 'The session',
      schema: 'SessionRecord',
      example: {
        lsid: 'c3e1a9d04b2f4a6e',
        state: { state: 'ended', externalKey: 'zendesk-1042' },
        artifacts: { transcript: '1764000000000' },
      },
    },
    { errors: { 404: 'rs-bridge knows nothing of that session' } },
  )
  @Get('sessions/:lsid')
  async session(@Param('lsid') lsid: string) {
    const [state, artifacts] = await Promise.all([this.states.get(lsid), this.artifacts.done(lsid)]);
    const link = state.externalKey ? await this.links.byExternalKey(state.externalKey) : undefined;
    if (!Object.keys(state).length && !Object.keys(artifacts).length)
      throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', `rs-bridge knows nothing of session ${lsid}`);
    return { lsid, state, link, artifacts };
  }
}
