import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QUEUES } from '../queues';
import { GenericWebhookController } from './generic-webhook.controller';
import { ServiceNowWebhookController } from './servicenow-webhook.controller';
import { ZendeskWebhookController } from './zendesk-webhook.controller';

const controllers = [ZendeskWebhookController, ServiceNowWebhookController, GenericWebhookController];

/** Inbound webhooks: verify, validate, enqueue, 202. */
@Module({ imports: [BullModule.registerQueue({ name: QUEUES.ticketEvents })], controllers })
export class WebhooksModule {}
