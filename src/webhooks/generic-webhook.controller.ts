import { Controller, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiWebhook } from '../http/api-docs';
import { CallbackTargets } from '../outbound/callback-targets';
import { normaliseGeneric, verifyGenericRequest } from '../tickets/generic/generic.webhook';
import { TicketsService } from '../tickets/tickets.service';
import { TicketWebhookRoute, TicketWebhooks, WebhookRequest } from './ticket-webhook';

@Controller('webhooks')
export class GenericWebhookController {
  constructor(
    private readonly webhooks: TicketWebhooks,
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
  @TicketWebhookRoute('generic')
  receive(@Req() req: WebhookRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { env } = this.webhooks.config;
    return this.webhooks.receive(req, reply, {
      configured: Boolean(env.GENERIC_WEBHOOK_SECRET),
      notConfigured: 'Generic webhooks are not configured (set GENERIC_WEBHOOK_SECRET)',
      verify: (raw) => verifyGenericRequest(raw, req.headers, this.tickets.webhookSecrets('generic'), env.RSB_WEBHOOK_TOLERANCE_SECONDS),
      accept: (deliveryId) => {
        const event = normaliseGeneric(req.body, deliveryId);
        this.callbacks.checkRequest(event.callbackUrl);
        return event;
      },
    });
  }
}
