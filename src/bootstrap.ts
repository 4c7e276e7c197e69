import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { Logger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { ConfigError } from './config/config.error';
import { AppConfig, loadConfig } from './config/load-config';
import { secretScrubber } from './logging/redaction';
import { logAccess } from './logging/access-log';
import { cacheValidationMetadata } from './http/validation-metadata-cache';
import { ROOT_LOGGER } from './logging/logging.module';
import type { Logger as PinoInstance } from 'pino';
import { setupApiDocs, setupQueueDashboard } from './http/operator-ui';
import { setupFloodGuard } from './http/flood-guard';
import { registerBodyHandling } from './http/body-parsing';
import { frameworkError } from './http/error-body';
import { MetricsService } from './metrics/metrics.service';
import { ShutdownState } from './lifecycle/shutdown-state';

/** Requests larger than this are refused with 413 before any handler runs; webhooks set their own caps. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface CreateAppOptions extends AppModuleOptions {
  /** Called for every route Fastify registers, before any is added (tests enumerate the routes with it). */
  onRoute?: (route: RouteOptions) => void;
}

export async function createApp(config: AppConfig, extra: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  cacheValidationMetadata();
  const adapter = new FastifyAdapter({
    bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
    // A request that reaches us while the listener closes (after the drain) is served, with Connection:
    // close, rather than answered 503: a webhook we received is acknowledged once it is queued.
    return503OnClosing: false,
    frameworkErrors: frameworkError,
    // X-Forwarded-For counts only from the proxies RSB_TRUST_PROXY names; otherwise any caller could pick
    // the address BT_EVENTS_ALLOWED_IPS and the rate limits judge.
    trustProxy: config.env.RSB_TRUST_PROXY,
    // Reuse the caller's request id when it sends a sane one, so a ticket system's logs line up with ours.
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  });
  if (extra.onRoute) adapter.getInstance().addHook('onRoute', extra.onRoute);
  // Our parsers, not Nest's: raw bodies for signatures, 415, a depth cap and reserved keys (body-parsing.ts).
  registerBodyHandling(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, extra), adapter, {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  // Nest replays what it buffered only once the server listens; print it now, so that a boot waiting on
  // something (Redis) is never silent.
  app.flushLogs();
  const shutdown = app.get(ShutdownState);
  // Echo the request id so a caller can quote it when reporting a problem.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      void reply.header('x-request-id', request.id);
      // While draining, every answer closes its connection: no keep-alive socket is left to be cut when
      // the listener closes, so a client's next request opens a new connection to a pod still in rotation.
      if (shutdown.stopping) void reply.header('connection', 'close');
      done();
    });
  if (config.env.RSB_ROLE !== 'worker') {
    // Before any route exists: the limiter attaches itself to each route as it is registered.
    await setupFloodGuard(app, config);
    setupApiDocs(app);
    await setupQueueDashboard(app, config);
  }
  const metrics = app.get(MetricsService);
  const rootLogger = app.get<PinoInstance>(ROOT_LOGGER);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      metrics.observe(request, reply);
      logAccess(rootLogger, request, reply);
      done();
    });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  return app;
}

export async function start(config: AppConfig, extra: AppModuleOptions = {}): Promise<NestFastifyApplication> {
  const app = await createApp(config, extra);
  await app.listen({ port: config.env.PORT, host: config.env.HOST });
  app.get(Logger).log(`rs-bridge listening on ${config.env.HOST}:${config.env.PORT} as role ${config.env.RSB_ROLE}`, 'Bootstrap');
  return app;
}

/** The process entry: a configuration problem is printed once, plainly, and the process exits 1. */
export function run(extra: AppModuleOptions = {}): void {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : `cannot read the configuration: ${String(error)}`;
    process.stderr.write(`rs-bridge: ${message}\n`);
    process.exit(1);
  }
  start(config, extra).catch((error: unknown) => {
    const scrub = secretScrubber(config.secrets);
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(scrub(`rs-bridge: failed to start: ${text}\n`));
    process.exit(1);
  });
}
