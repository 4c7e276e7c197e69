import { Body, Controller, Headers, HttpCode, HttpStatus, Inject, Post, Req } from '@nestjs/common';
import { ApiWebhook } from '../http/api-docs';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { ApiError } from '../common/api-error';
import { CallbackTargets } from '../outbound/callback-targets';
import { verifyStandardWebhook } from '../common/standard-webhooks';
import { QUEUES } from '../jobs/queues';
import { normaliseGeneric } from '../tickets/generic/generic.webhook';
import { TicketsService } from '../tickets/tickets.service';
import { enqueueTicketEvent } from '../jobs/enqueue';
import { checkBodySize } from './raw-body';

@Controller('webhooks')
export class GenericWebhookController {
  constructor(
    @InjectQueue(QUEUES.ticketEvents) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tickets: TicketsService,
    private readonly callbacks: CallbackTargets,
  ) {}

  /** Any other system, signed the Standard Webhooks way; webhook-id is the delivery id. */
  @ApiWebhook(
    'Any system, signed the Standard Webhooks way, asks for a session key, a co-browse or a Jump',
    ['GenericBody'],
    {
      action: 'session.requested',
      ticket: { id: 'T-1042', subject: 'Printer on fire', requester: { email: 'casey@example.com' } },
      callbackUrl: 'https://helpdesk.example.com/rs-bridge/callback',
    },
    {
      security: ['standardWebhooks'],
      description:
        'Signed the Standard Webhooks way with GENERIC_WEBHOOK_SECRET; webhook-id names the delivery (a redelivery is not queued twice). See docs/generic.md.',
      headers: [
        { name: 'webhook-id', description: 'The delivery id, the same on every redelivery' },
        { name: 'webhook-timestamp', description: 'UNIX seconds; checked against RSB_WEBHOOK_TOLERANCE_SECONDS' },
      ],
    },
  )
  @Post('generic')
  @HttpCode(HttpStatus.ACCEPTED)
  async receive(@Req() req: FastifyRequest & { rawBody?: Buffer }, @Headers() headers: IncomingHttpHeaders, @Body() body: unknown) {
    const env = this.config.env;
    if (!env.GENERIC_WEBHOOK_SECRET)
      throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', 'Generic webhooks are not configured (set GENERIC_WEBHOOK_SECRET)');
    const raw = checkBodySize(req, env.RSB_WEBHOOK_MAX_BYTES);
    const verified = verifyStandardWebhook(this.tickets.genericSecrets(), headers, raw, env.RSB_WEBHOOK_TOLERANCE_SECONDS);
    if (!verified.ok) throw new ApiError(HttpStatus.UNAUTHORIZED, verified.code, verified.message);
    const event = normaliseGeneric(body, verified.id);
    this.callbacks.checkRequest(event.callbackUrl);
    return { jobId: await enqueueTicketEvent(this.queue, event, this.config) };
  }
}
