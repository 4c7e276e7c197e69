import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { ApiCall } from '../http/api-docs';
import { ApiAuth } from '../http/api-token.guard';
import { AdminService } from './admin.service';

const NO_QUEUE = 'No such queue (the message lists the queues)';

/** Operators' API (bearer): failed jobs with their reasons, retry one or all, and the links between tickets and sessions. */
@ApiAuth()
@Controller('api/v1/admin')
export class AdminQueuesController {
  constructor(private readonly admin: AdminService) {}

  @ApiCall('admin', 'Job counts of every queue', {
    status: 200,
    description: 'Counts by state',
    schema: 'QueueCounts',
    example: { queues: { 'ticket-events': { waiting: 0, active: 1, delayed: 0, completed: 12, failed: 1 } } },
  })
  @Get('queues')
  async queues() {
    return { queues: await this.admin.counts() };
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
    return { queue: name, jobs: await this.admin.failed(name, limit) };
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
    return { queue: name, retried: await this.admin.retryAll(name) };
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
    await this.admin.retryOne(name, jobId);
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
    return { system, ticketId, links: await this.admin.ticketLinks(system, ticketId) };
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
  session(@Param('lsid') lsid: string) {
    return this.admin.session(lsid);
  }
}
