import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QUEUES } from '../jobs/queues';
import { SessionEndModule } from '../session-end/session-end.module';
import { BeyondTrustWebhookController } from './beyondtrust-webhook.controller';
import { DeliveryAliases } from './delivery-aliases';
import { GenericWebhookController } from './generic-webhook.controller';
import { JiraWebhookController } from './jira-webhook.controller';
import { TicketWebhooks } from './ticket-webhook';
import { ServiceNowWebhookController } from './servicenow-webhook.controller';
import { ZendeskWebhookController } from './zendesk-webhook.controller';

const controllers = [
  ZendeskWebhookController,
  ServiceNowWebhookController,
  JiraWebhookController,
  GenericWebhookController,
  BeyondTrustWebhookController,
];

/** Inbound webhooks: verify, validate, enqueue, 202. */
@Module({
  imports: [BullModule.registerQueue({ name: QUEUES.ticketEvents }), SessionEndModule],
  controllers,
  providers: [DeliveryAliases, TicketWebhooks],
})
export class WebhooksModule {}
