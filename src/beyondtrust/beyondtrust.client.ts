import type { RedisClient } from '../redis/redis-options';
import { BeyondTrustCommandClient } from './command.client';
import { SharedRateLimiter } from './rate-limiter';
import { BeyondTrustReportingClient } from './reporting.client';
import { SharedTokenProvider } from './token-provider';
import { BeyondTrustTransport, TransportOptions } from './transport';

export interface BeyondTrustClientOptions {
  siteUrl: string;
  clientId: string;
  clientSecret: string;
  perSecond: number;
  perHour: number;
  /** Share of the hour kept for interactive requests (BT_INTERACTIVE_RESERVE_PERCENT); default 20. */
  interactiveReservePercent?: number;
  /** The hour's length in ms, shortened only by the compressed-hour bench. */
  hourMs?: number;
  timeoutMs: number;
  /** Redis key prefix of the deployment (RSB_REDIS_PREFIX). */
  redisPrefix: string;
  onTokenRequested?: () => void;
  onTokenAnswered?: (status: number) => void;
  onRequest?: TransportOptions['onRequest'];
  maxAttempts?: number;
}

/**
 * The appliance, as the rest of rs-bridge sees it: `command` and `reporting` clients over one
 * transport, one token and one rate limiter shared through Redis by every process of the deployment.
 * Budgets and tokens are per API account, as the appliance counts them.
 */
export class BeyondTrustClient {
  readonly command: BeyondTrustCommandClient;
  readonly reporting: BeyondTrustReportingClient;
  readonly limiter: SharedRateLimiter;
  readonly tokens: SharedTokenProvider;

  constructor(redis: RedisClient, options: BeyondTrustClientOptions) {
    const account = `${options.redisPrefix}:bt:${options.clientId}`;
    this.limiter = new SharedRateLimiter(redis, {
      perSecond: options.perSecond,
      perHour: options.perHour,
      interactiveReservePercent: options.interactiveReservePercent,
      hourMs: options.hourMs,
      // Requests are counted from the appliance's answer (the transport's acquireUntilAnswered), which
      // comes after the appliance counted them: no margin is needed for their delay on the way, only a few
      // ms for the clocks' rounding (Redis's TIME is floored to the ms, the appliance rounds its own way).
      marginMs: 5,
      keyPrefix: `${account}:rate`,
    });
    this.tokens = new SharedTokenProvider(redis, {
      siteUrl: options.siteUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      timeoutMs: options.timeoutMs,
      key: `${account}:token`,
      onTokenRequested: options.onTokenRequested,
      onTokenAnswered: options.onTokenAnswered,
    });
    const transport = new BeyondTrustTransport({
      siteUrl: options.siteUrl,
      timeoutMs: options.timeoutMs,
      limiter: this.limiter,
      tokens: this.tokens,
      onRequest: options.onRequest,
      maxAttempts: options.maxAttempts,
    });
    this.command = new BeyondTrustCommandClient(transport);
    this.reporting = new BeyondTrustReportingClient(transport);
  }
}
