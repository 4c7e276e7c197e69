import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { TicketSystemName } from '../config/rules';
import { TicketWriter } from './ticket-writer';
import { ZendeskClient } from './zendesk/zendesk.client';

/** The configured ticket systems; a system whose variables are absent is disabled. */
@Injectable()
export class TicketsService {
  readonly zendesk?: ZendeskClient;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const env = config.env;
    if (env.ZENDESK_BASE_URL) {
      this.zendesk = new ZendeskClient({
        baseUrl: env.ZENDESK_BASE_URL,
        email: env.ZENDESK_EMAIL,
        apiToken: env.ZENDESK_API_TOKEN,
        oauthToken: env.ZENDESK_OAUTH_TOKEN,
      });
    }
  }

  enabled(system: TicketSystemName): boolean {
    return this.writer(system) !== undefined;
  }

  writer(system: TicketSystemName): TicketWriter | undefined {
    return system === 'zendesk' ? this.zendesk : undefined;
  }

  zendeskSecrets(): string[] {
    const env = this.config.env;
    return [env.ZENDESK_WEBHOOK_SECRET, env.ZENDESK_WEBHOOK_SECRET_PREVIOUS].filter((s): s is string => Boolean(s));
  }
}
