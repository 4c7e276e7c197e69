import { Controller, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiWebhook } from '../http/api-docs';
import { normaliseJira, verifyJiraRequest } from '../tickets/jira/jira.webhook';
import { TicketsService } from '../tickets/tickets.service';
import { DeliveryAliases } from './delivery-aliases';
import { TicketWebhookRoute, TicketWebhooks, WebhookRequest } from './ticket-webhook';

/** How long an X-Atlassian-Webhook-Identifier stays a name of its delivery: longer than Jira retries one. */
const IDENTIFIER_ALIAS_SECONDS = 24 * 3600;

@Controller('webhooks')
export class JiraWebhookController {
  constructor(
    private readonly tickets: TicketsService,
    private readonly aliases: DeliveryAliases,
    private readonly webhooks: TicketWebhooks,
  ) {}

  @ApiWebhook(
    'A Jira admin webhook or Automation rule: a label added to an issue asks for a session key',
    ['JiraWebhookBody'],
    {
      timestamp: 1767225600000,
      webhookEvent: 'jira:issue_updated',
      issue: { key: 'SD-42', fields: { summary: 'VPN drops', labels: ['remote_support'], priority: { name: 'High' } } },
      changelog: { items: [{ field: 'labels', fromString: '', toString: 'remote_support' }] },
    },
    {
      security: ['jiraSignature', 'jiraSecret'],
      description:
        'A Jira admin webhook signed with X-Hub-Signature (deduplicated on what the signature covers; X-Atlassian-Webhook-Identifier is a second name), or an Automation "Send web request" with the secret in X-RSB-Webhook-Secret. See docs/jira.md.',
      headers: [{ name: 'X-Atlassian-Webhook-Identifier', required: false, description: 'The delivery id Jira keeps across its retries' }],
    },
    [
      { status: 202, description: 'Verified and queued durably', schema: 'WebhookAccepted', example: { jobId: 'a3f0c2e1' } },
      {
        status: 200,
        description: 'Verified; not a request for a session (nothing queued)',
        schema: 'WebhookIgnored',
        example: { ignored: 'no remote-support label was added' },
      },
    ],
  )
  @TicketWebhookRoute('jira')
  receive(@Req() req: WebhookRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { env, rules } = this.webhooks.config;
    return this.webhooks.receive(req, reply, {
      configured: this.tickets.jira && env.JIRA_BASE_URL,
      notConfigured: 'Jira is not configured (set JIRA_BASE_URL)',
      verify: (raw) => verifyJiraRequest(raw, req.headers, this.tickets.webhookSecrets('jira')),
      accept: async (delivery, baseUrl) => {
        const normalised = normaliseJira(req.body, delivery.id, baseUrl, rules, delivery.signed);
        if ('ignored' in normalised) return normalised;
        // The delivery is the signed body: a captured body sent again under a fresh identifier is the same
        // delivery. A known identifier is the delivery it first came with (a retry Jira signed anew).
        const deliveryId = delivery.identifier
          ? await this.aliases.resolve('jira-identifier', delivery.identifier, delivery.id, IDENTIFIER_ALIAS_SECONDS)
          : delivery.id;
        return { ...normalised.event, deliveryId };
      },
    });
  }
}
