import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiAuth } from '../http/api-token.guard';
import { AdminService } from './admin.service';

/** Operators' API (bearer): failed jobs with their reasons, retry one or all, and the links between tickets and sessions. */
@ApiTags('admin')
@ApiAuth()
@Controller('api/v1/admin')
export class AdminQueuesController {
  constructor(private readonly admin: AdminService) {}

  @Get('queues')
  async queues() {
    return { queues: await this.admin.counts() };
  }

  @Get('queues/:queue/failed')
  async failed(@Param('queue') name: string, @Query('limit') limit = '50') {
    return { queue: name, jobs: await this.admin.failed(name, limit) };
  }

  @Post('queues/:queue/failed/retry')
  @HttpCode(HttpStatus.ACCEPTED)
  async retryAll(@Param('queue') name: string) {
    return { queue: name, retried: await this.admin.retryAll(name) };
  }

  @Post('queues/:queue/failed/:jobId/retry')
  @HttpCode(HttpStatus.ACCEPTED)
  async retryOne(@Param('queue') name: string, @Param('jobId') jobId: string) {
    await this.admin.retryOne(name, jobId);
    return { queue: name, retried: jobId };
  }

  @Get('links/tickets/:system/:ticketId')
  async ticketLinks(@Param('system') system: string, @Param('ticketId') ticketId: string) {
    return { system, ticketId, links: await this.admin.ticketLinks(system, ticketId) };
  }

  @Get('sessions/:lsid')
  session(@Param('lsid') lsid: string) {
    return this.admin.session(lsid);
  }
}
