import { Module } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { redactHeaders, redactUrl, secretScrubber } from './redaction';

const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: [
          {
            level: config.env.LOG_LEVEL,
            base: { service: 'rs-bridge', role: config.env.RSB_ROLE },
            hooks: { streamWrite: secretScrubber(config.secrets) },
            // Fastify assigns the request id (see bootstrap); pino-http logs the same one.
            genReqId: (req: IncomingMessage) => req.id,
            // Probes hit every few seconds; their answers are visible in the orchestrator.
            autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has((req.url ?? '').split('?')[0]) },
            serializers: {
              req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown>; remoteAddress?: string }) => ({
                id: req.id,
                method: req.method,
                url: redactUrl(req.url),
                headers: redactHeaders(req.headers),
                remoteAddress: req.remoteAddress,
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
          },
          // Written asynchronously (the request does not wait for stdout), line by line so nothing lingers
          // in a buffer; pino flushes what is pending when the process exits.
          pino.destination({ dest: 1, sync: false }),
        ],
      }),
    }),
  ],
})
export class LoggingModule {}
