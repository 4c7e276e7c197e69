import { Controller, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiWebhook } from '../http/api-docs';
import { normaliseServiceNow, verifyServiceNowRequest } from '../tickets/servicenow/servicenow.webhook';
import { TicketsService } from '../tickets/tickets.service';
import { TicketWebhookRoute, TicketWebhooks, WebhookRequest } from './ticket-webhook';

@Controller('webhooks')
export class ServiceNowWebhookController {
  constructor(
    private readonly tickets: TicketsService,
    private readonly webhooks: TicketWebhooks,
  ) {}

  /** A Business Rule's request: authenticate, validate, normalise, enqueue, 202. */
  @ApiWebhook(
    'A ServiceNow Business Rule asks for a session key, a co-browse or a Jump',
    ['ServiceNowBody'],
    {
      action: 'session.requested',
      delivery_id: '3f2b7c1e9a0d4e5f8a7b6c5d4e3f2a1b',
      sys_id: '9d385017c611228701d22104cc95c371',
      number: 'INC0010001',
      short_description: 'Laptop will not boot',
      priority: '1 - Critical',
      caller: { name: 'Casey Customer', email: 'casey@example.com' },
    },
    {
      security: ['servicenowSignature', 'servicenowSecret', 'servicenowBasic'],
      description:
        'Authenticated one of three ways, whichever the Business Rule can do: X-RSB-Signature (HMAC, with X-RSB-Timestamp against replays), X-RSB-Webhook-Secret, or Basic auth with the secret as password; with SERVICENOW_REQUIRE_TIMESTAMP only the signature over X-RSB-Timestamp. See docs/servicenow.md.',
      headers: [
        {
          name: 'X-RSB-Timestamp',
          required: false,
          description: 'UNIX seconds, signed with the body; checked against RSB_WEBHOOK_TOLERANCE_SECONDS',
        },
      ],
    },
  )
  @TicketWebhookRoute('servicenow')
  receive(@Req() req: WebhookRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { env } = this.webhooks.config;
    return this.webhooks.receive(req, reply, {
      configured: this.tickets.servicenow && env.SERVICENOW_WEBHOOK_SECRET && env.SERVICENOW_INSTANCE_URL,
      notConfigured: 'ServiceNow is not configured (set SERVICENOW_INSTANCE_URL)',
      // The delivery is the signed body's delivery_id: an identical request is the same delivery for as
      // long as its work is recorded (30 days). Only a signed X-RSB-Timestamp stops a replay after that.
      verify: (raw) =>
        verifyServiceNowRequest(
          raw,
          req.headers,
          this.tickets.webhookSecrets('servicenow'),
          env.RSB_WEBHOOK_TOLERANCE_SECONDS,
          Date.now(),
          env.SERVICENOW_REQUIRE_TIMESTAMP,
        ),
      accept: (_, instanceUrl) => normaliseServiceNow(req.body, instanceUrl, env.SERVICENOW_TABLE),
    });
  }
}
