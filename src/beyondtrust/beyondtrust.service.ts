import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { applianceRequests, rateLimiterWait, tokenRefreshes } from '../metrics/metrics';
import { RedisService } from '../redis/redis.service';
import { BeyondTrustClient } from './beyondtrust.client';
import { BeyondTrustNotConfiguredError } from './beyondtrust.errors';
import { BeyondTrustCommandClient } from './command.client';
import { RealtimeStateClient } from './realtime-state.client';
import { BeyondTrustReportingClient } from './reporting.client';

/** The injectable door to the appliance; features ask `configured` before offering BeyondTrust work. */
@Injectable()
export class BeyondTrustService {
  private readonly client?: BeyondTrustClient;
  private readonly siteUrl?: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig, redis: RedisService) {
    const env = config.env;
    if (env.BT_SITE_URL && env.BT_CLIENT_ID && env.BT_CLIENT_SECRET) {
      this.siteUrl = env.BT_SITE_URL;
      this.client = new BeyondTrustClient(redis.connection, {
        siteUrl: env.BT_SITE_URL,
        clientId: env.BT_CLIENT_ID,
        clientSecret: env.BT_CLIENT_SECRET,
        perSecond: env.BT_RATE_LIMIT_PER_SECOND,
        perHour: env.BT_RATE_LIMIT_PER_HOUR,
        interactiveReservePercent: env.BT_INTERACTIVE_RESERVE_PERCENT,
        hourMs: config.btHourMs,
        timeoutMs: env.BT_TIMEOUT_MS,
        redisPrefix: redis.prefix,
        onTokenRequested: () => tokenRefreshes.inc(),
        // Counted with the other appliance requests: a refused token (401) is what an alert looks for.
        onTokenAnswered: (status) => applianceRequests.inc({ operation: 'oauth2/token', status: String(status) }),
        onRequest: ({ operation, status, limiterWaitMs }) => {
          applianceRequests.inc({ operation, status: String(status) });
          rateLimiterWait.observe(limiterWaitMs / 1000);
        },
      });
    }
  }

  get configured(): boolean {
    return this.client !== undefined;
  }

  get command(): BeyondTrustCommandClient {
    if (!this.client) throw new BeyondTrustNotConfiguredError();
    return this.client.command;
  }

  get reporting(): BeyondTrustReportingClient {
    if (!this.client) throw new BeyondTrustNotConfiguredError();
    return this.client.reporting;
  }

  /**
   * A Real-Time State API connection on the deployment's shared token, for the features that follow
   * sessions live. The caller starts and stops it; it reconnects by itself in between.
   */
  realtime(tables: 'all' | string[]): RealtimeStateClient {
    if (!this.client || !this.siteUrl) throw new BeyondTrustNotConfiguredError();
    return new RealtimeStateClient({ siteUrl: this.siteUrl, tokens: this.client.tokens, tables });
  }
}
