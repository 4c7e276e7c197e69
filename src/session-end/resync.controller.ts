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

  @ApiCall('sessions', 'Pull a session again and write what its ticket is missing')
  @Post(':lsid/resync')
  @HttpCode(HttpStatus.ACCEPTED)
  async resync(@Param('lsid') lsid: string) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(lsid))
      throw new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', 'lsid must be a session id (letters, digits, - or _)');
    const jobId = await this.pulls.add({ lsid, trigger: 'resync' }, String(Date.now()));
    return { jobId };
  }
}
