import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import { HttpStatus, Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../config/load-config';
import { createRedis } from '../redis/redis-options';
import { ApiError } from '../common/api-error';
import { knownBearerToken, tokenDigests } from './api-token.guard';

type Guarded = 'api' | 'webhook';

/** Which limit a request falls under, from the route the router matched (never the raw URL). */
const guardedBy = (request: FastifyRequest): Guarded | undefined => {
  const template = request.routeOptions?.url ?? '';
  // The queue dashboard's basic auth counts like a caller without a token: guessing its password is
  // held to the API's allowance per address.
  if (/^\/api\//.test(template) || /^\/admin\//.test(template)) return 'api';
  if (/^\/webhooks\//.test(template)) return 'webhook';
  return undefined;
};

/** IPv6 callers count per /64, the block one subscriber usually holds. */
const source = (request: FastifyRequest): string => normalizeIP(request.ip, 64);

/**
 * What a webhook request was found to be: `signed` (its sender proved itself) or `rejected` (refused
 * before that: unsigned, badly signed, stale, unreadable). Each has its own count per source address.
 */
export type WebhookVerdict = 'signed' | 'rejected';
const VERDICT = Symbol('rsb:webhook-verdict');
type Judged = FastifyRequest & { [VERDICT]?: WebhookVerdict };
type Admit = (request: FastifyRequest, reply: FastifyReply | undefined, verdict: WebhookVerdict, count: boolean) => Promise<void>;
const ADMIT = Symbol('rsb:admit-webhook');

const admitter = (request: FastifyRequest): Admit | undefined => (request.server as unknown as Record<symbol, Admit | undefined>)[ADMIT];

/**
 * Counts a webhook request under its verdict, once; past that count's limit it throws `429` (with
 * Retry-After). Call it as soon as the verdict is known, before any work: so a flood of rejected requests
 * spends only their own allowance, never the one signed deliveries from the same address need. A request
 * never counted here is counted by its answer's status when it ends (body parser errors, the appliance's events).
 */
export async function countWebhook(request: FastifyRequest, reply: FastifyReply | undefined, verdict: WebhookVerdict): Promise<void> {
  await admitter(request)?.(request, reply, verdict, true);
}

/** `429` at once when the address has spent its signed deliveries' allowance (for routes that learn the verdict only from their work). */
export async function refuseSpentWebhookBudget(request: FastifyRequest, reply?: FastifyReply): Promise<void> {
  await admitter(request)?.(request, reply, 'signed', false);
}

/**
 * The flood guard: per minute, RSB_API_RATE_LIMIT_PER_MINUTE requests per bearer token on /api/ (a caller
 * without a valid token counts against its address, so made-up tokens do not each get a fresh allowance)
 * and RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE per source address and webhook route on /webhooks/, signed deliveries and rejected
 * requests counted apart (countWebhook). Counted in Redis, so every pod
 * shares the counts; keys carry the token's SHA-256, never the token. Over the limit: 429 with
 * Retry-After and the error body. If Redis cannot answer, the guard fails open (the request goes on, a
 * warning is logged once per outage): a webhook then gets what its own Redis write gives (503), never 500.
 */
export async function setupFloodGuard(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const env = config.env;
  const limits: Record<Guarded, number> = { api: env.RSB_API_RATE_LIMIT_PER_MINUTE, webhook: env.RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE };
  if (!limits.api && !limits.webhook) return;
  const logger = new Logger('FloodGuard');
  const tokens = tokenDigests(env.RSB_API_TOKENS);
  // Its own connection: no offline queue and a short command timeout, so an outage skips the guard at once.
  const redis = createRedis(env, 'command', { enableOfflineQueue: false, commandTimeout: 1_000 });
  let available = true;
  let closing = false;
  const unavailable = (error: Error) => {
    if (!available || closing) return;
    available = false;
    logger.warn(`rate limits are not applied while Redis is unavailable (${error.message})`);
  };
  redis.on('error', unavailable);
  redis.on('close', () => unavailable(new Error('connection closed')));
  redis.on('ready', () => {
    if (available) return;
    available = true;
    logger.log('rate limits are applied again');
  });
  // Without an offline queue, requests before the first connection would go uncounted: wait for it
  // (briefly: a Redis that is down at boot must not keep the API from starting).
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3_000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });

  await app.register(rateLimit as never, {
    global: true,
    redis,
    nameSpace: `${env.RSB_REDIS_PREFIX}:rate-limit:`,
    timeWindow: 60_000,
    skipOnError: true,
    // Webhooks are counted by countWebhook once their verdict is known, not on arrival.
    allowList: (request: FastifyRequest) => {
      const guarded = guardedBy(request);
      return !guarded || !limits[guarded] || (guarded === 'webhook' && !(request as Judged)[VERDICT]);
    },
    max: (request: FastifyRequest) => limits[guardedBy(request) ?? 'api'],
    keyGenerator: (request: FastifyRequest) => {
      // Per route too: the appliance's session events and a ticket system's webhooks may come from one
      // address (a proxy, an on-premise network), and a busy appliance must not spend the tickets' allowance.
      if (guardedBy(request) === 'webhook')
        return `${(request as Judged)[VERDICT] === 'rejected' ? 'webhook-rejected' : 'webhook'}:${request.routeOptions?.url ?? ''}:${source(request)}`;
      const token = knownBearerToken(request.headers.authorization, tokens);
      return token ? `api-token:${token.toString('hex')}` : `api-address:${source(request)}`;
    },
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string; max: number }) =>
      new ApiError(
        HttpStatus.TOO_MANY_REQUESTS,
        'too_many_requests',
        `More than ${context.max} requests a minute (RSB_API_RATE_LIMIT_PER_MINUTE, per token); retry in ${context.after}.`,
      ),
  });
  const fastify = app.getHttpAdapter().getInstance();
  if (limits.webhook) {
    const check = fastify.createRateLimit();
    const admit: Admit = async (request, reply, verdict, count) => {
      const judged = request as Judged;
      if (count && judged[VERDICT]) return;
      judged[VERDICT] = verdict;
      let result: Awaited<ReturnType<typeof check>>;
      try {
        result = await check(request, { increment: count });
      } finally {
        // A look at the signed count is not a verdict: the request is still counted when it has one.
        if (!count) judged[VERDICT] = undefined;
      }
      if (result.isAllowed) return;
      // The headers the limiter sends on every other route.
      const headers: Record<string, string> = {
        'x-ratelimit-limit': String(result.max),
        'x-ratelimit-remaining': String(result.isExceeded ? 0 : result.remaining),
        'x-ratelimit-reset': String(result.ttlInSeconds),
      };
      if (!result.isExceeded) {
        void reply?.headers(headers);
        return;
      }
      const after = result.ttlInSeconds >= 60 ? '1 minute' : `${result.ttlInSeconds} seconds`;
      throw new ApiError(
        HttpStatus.TOO_MANY_REQUESTS,
        'too_many_requests',
        `More than ${result.max} ${verdict} webhook requests a minute (RSB_WEBHOOK_RATE_LIMIT_PER_MINUTE, per source address and route); retry in ${after}.`,
        undefined,
        { ...headers, 'retry-after': String(result.ttlInSeconds) },
      );
    };
    fastify.decorate(ADMIT, admit);
    fastify.addHook('onResponse', async (request, reply) => {
      if (guardedBy(request) !== 'webhook' || (request as Judged)[VERDICT]) return;
      await admit(request, undefined, reply.statusCode < 400 ? 'signed' : 'rejected', true).catch(() => undefined);
    });
  }
  fastify.addHook('onClose', async () => {
    closing = true;
    await redis.quit().catch(() => redis.disconnect());
  });
}
