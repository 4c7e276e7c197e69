import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { TicketSystemName } from '../config/rules';
import { TicketSystemError } from './ticket-system.errors';
import { TicketWriter } from './ticket-writer';
import { CallbackTargets } from '../outbound/callback-targets';
import { RedisService } from '../redis/redis.service';
import { TicketPacer } from './ticket-pacer';
import { CallbackWriter } from './generic/callback.writer';
import { JiraClient } from './jira/jira.client';
import { ServiceNowClient } from './servicenow/servicenow.client';
import { ZendeskClient } from './zendesk/zendesk.client';

const present = (...values: (string | undefined)[]): string[] => values.filter((s): s is string => Boolean(s));

/**
 * The systems whose tickets a session's external key can name in their own format (their writers'
 * `ticketFromKey`), in the order a bare key is tried. A generic sender's ids have no format to tell.
 */
export const KEY_FORMAT_SYSTEMS = ['zendesk', 'servicenow', 'jira'] as const satisfies readonly TicketSystemName[];

/** The configured ticket systems; a system whose variables are absent is disabled. */
const SECRET_VARIABLES = {
  zendesk: 'ZENDESK_WEBHOOK_SECRET',
  servicenow: 'SERVICENOW_WEBHOOK_SECRET',
  jira: 'JIRA_WEBHOOK_SECRET',
  generic: 'GENERIC_WEBHOOK_SECRET',
} as const;

@Injectable()
export class TicketsService {
  readonly zendesk?: ZendeskClient;
  readonly servicenow?: ServiceNowClient;
  readonly jira?: JiraClient;
  readonly generic?: CallbackWriter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    callbacks: CallbackTargets,
    redis: RedisService,
  ) {
    const env = config.env;
    // One budget per account (its host), whichever pod writes.
    const pacer = (url: string, perMinute: number) =>
      new TicketPacer(redis.connection, redis.key('tickets', 'rate', new URL(url).host), perMinute, undefined, env.RSB_TICKET_TIMEOUT_MS);
    if (env.ZENDESK_BASE_URL) {
      this.zendesk = new ZendeskClient({
        baseUrl: env.ZENDESK_BASE_URL,
        email: env.ZENDESK_EMAIL,
        apiToken: env.ZENDESK_API_TOKEN,
        oauthToken: env.ZENDESK_OAUTH_TOKEN,
        timeoutMs: env.RSB_TICKET_TIMEOUT_MS,
        pacer: pacer(env.ZENDESK_BASE_URL, env.ZENDESK_RATE_LIMIT_PER_MINUTE),
        uploads: { redis: redis.connection, prefix: redis.key('tickets', 'zendesk-uploads') },
      });
    }
    if (env.GENERIC_WEBHOOK_SECRET) this.generic = new CallbackWriter(this.webhookSecrets('generic'), callbacks, env.RSB_TICKET_TIMEOUT_MS);
    if (env.SERVICENOW_INSTANCE_URL) {
      this.servicenow = new ServiceNowClient({
        instanceUrl: env.SERVICENOW_INSTANCE_URL,
        table: env.SERVICENOW_TABLE,
        username: env.SERVICENOW_USERNAME,
        password: env.SERVICENOW_PASSWORD,
        clientId: env.SERVICENOW_CLIENT_ID,
        clientSecret: env.SERVICENOW_CLIENT_SECRET,
        timeoutMs: env.RSB_TICKET_TIMEOUT_MS,
        pacer: pacer(env.SERVICENOW_INSTANCE_URL, env.SERVICENOW_RATE_LIMIT_PER_MINUTE),
      });
    }
    if (env.JIRA_BASE_URL) {
      this.jira = new JiraClient({
        baseUrl: env.JIRA_BASE_URL,
        email: env.JIRA_EMAIL,
        apiToken: env.JIRA_API_TOKEN,
        oauthToken: env.JIRA_OAUTH_TOKEN,
        serviceDeskId: env.JIRA_SERVICE_DESK_ID,
        requestTypeId: env.JIRA_REQUEST_TYPE_ID,
        timeoutMs: env.RSB_TICKET_TIMEOUT_MS,
      });
    }
  }

  enabled(system: TicketSystemName): boolean {
    return this.writer(system) !== undefined;
  }

  writer(system: TicketSystemName): TicketWriter | undefined {
    if (system === 'zendesk') return this.zendesk;
    if (system === 'servicenow') return this.servicenow;
    if (system === 'jira') return this.jira;
    return this.generic;
  }

  /** The writer of a system that must be configured; otherwise a permanent error (the job stops retrying). */
  requireWriter(system: TicketSystemName): TicketWriter {
    const writer = this.writer(system);
    if (!writer) throw new TicketSystemError(system, 'this ticket system is not configured', false);
    return writer;
  }

  /** A system's webhook secrets, the current one first; the previous one is set only during a rotation. */
  webhookSecrets(system: TicketSystemName): string[] {
    const env = this.config.env;
    const name = SECRET_VARIABLES[system];
    return present(env[name], env[`${name}_PREVIOUS` as const]);
  }
}
