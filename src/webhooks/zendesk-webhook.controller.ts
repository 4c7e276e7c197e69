import { Controller, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiWebhook } from '../http/api-docs';
import { TicketsService } from '../tickets/tickets.service';
import { normaliseZendesk, verifyZendeskSignature } from '../tickets/zendesk/zendesk.webhook';
import { DeliveryAliases } from './delivery-aliases';
import { TicketWebhookRoute, TicketWebhooks, WebhookRequest } from './ticket-webhook';

/** How long an invocation id stays a name of its delivery: longer than Zendesk keeps retrying one. */
const INVOCATION_ALIAS_SECONDS = 24 * 3600;

@Controller('webhooks')
export class ZendeskWebhookController {
  constructor(
    private readonly tickets: TicketsService,
    private readonly aliases: DeliveryAliases,
    private readonly webhooks: TicketWebhooks,
  ) {}

  /** Verify the signature on the raw body, validate, normalise, enqueue, answer 202: nothing slow here. */
  @ApiWebhook(
    'A Zendesk trigger or event subscription asks for a session key, a co-browse or a Jump',
    ['ZendeskTriggerBody', 'ZendeskEventEnvelope'],
    {
      action: 'session.requested',
      ticket: {
        id: '1042',
        subject: 'Printer on fire',
        priority: 'high',
        tags: 'vip',
        requester: { name: 'Casey', email: 'casey@example.com' },
      },
    },
    {
      security: ['zendeskSignature'],
      description: "Signed by Zendesk with the webhook's signing secret (ZENDESK_WEBHOOK_SECRET). See docs/zendesk.md.",
      headers: [
        {
          name: 'X-Zendesk-Webhook-Signature-Timestamp',
          description: 'Signed with the body; checked against RSB_WEBHOOK_TOLERANCE_SECONDS',
        },
        { name: 'X-Zendesk-Webhook-Invocation-Id', description: "Zendesk's id of the invocation, the same on its retries" },
      ],
    },
    [
      { status: 202, description: 'Verified and queued durably', schema: 'WebhookAccepted', example: { jobId: 'a3f0c2e1' } },
      { status: 200, description: 'Verified, but an action rs-bridge does not handle: nothing queued', schema: 'WebhookIgnored' },
    ],
  )
  @TicketWebhookRoute('zendesk')
  receive(@Req() req: WebhookRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { env, rules } = this.webhooks.config;
    return this.webhooks.receive(req, reply, {
      configured: this.tickets.zendesk && env.ZENDESK_BASE_URL,
      notConfigured: 'Zendesk is not configured (set ZENDESK_BASE_URL)',
      verify: (raw) => verifyZendeskSignature(raw, req.headers, this.tickets.webhookSecrets('zendesk'), env.RSB_WEBHOOK_TOLERANCE_SECONDS),
      accept: async (delivery, baseUrl) => {
        const normalised = normaliseZendesk(req.body, delivery.id, baseUrl, rules);
        if ('ignored' in normalised) return normalised;
        // The delivery is what the signature covers, so fresh invocation ids on a captured request change
        // nothing. A known invocation id is the delivery it first came with: a retry Zendesk signed anew.
        const deliveryId = await this.aliases.resolve('zendesk-invocation', delivery.invocationId, delivery.id, INVOCATION_ALIAS_SECONDS);
        return { ...normalised.event, deliveryId };
      },
    });
  }
}
