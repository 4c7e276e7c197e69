import { Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiCall } from '../http/api-docs';
import { ApiError } from '../common/api-error';
import { SessionEndQueue } from './session-end.queue';
import { ApiAuth } from '../http/api-token.guard';

/** Runs a session's pull again on demand: what is already on the ticket is not written twice. */
@ApiAuth()
@Controller('api/v1/sessions')
export class ResyncController {
  constructor(private readonly pulls: SessionEndQueue) {}

  @ApiCall(
    'sessions',
    'Pull a session again and write what its ticket is missing',
    { status: 202, description: 'Queued', schema: 'ResyncQueued', example: { jobId: 'c3e1a9d04b2f4a6e.resync.1764000000000' } },
    { errors: { 400: 'Not a session id', 503: 'Redis unavailable: nothing was queued' } },
  )
  @Post(':lsid/resync')
  @HttpCode(HttpStatus.ACCEPTED)
  async resync(@Param('lsid') lsid: string) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(lsid))
      throw new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', 'lsid must be a session id (letters, digits, - or _)');
    const jobId = await this.pulls.add({ lsid, trigger: 'resync' }, String(Date.now()));
    return { jobId };
  }
}
