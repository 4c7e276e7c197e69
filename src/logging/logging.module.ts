import { Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { Logger as PinoInstance } from 'pino';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { secretScrubber } from './redaction';

/** The process's one pino logger: Nest's own logs (through nestjs-pino) and the access log write to it. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

export function createRootLogger(config: AppConfig): PinoInstance {
  return pino(
    {
      level: config.env.LOG_LEVEL,
      base: { service: 'rs-bridge', role: config.env.RSB_ROLE },
      hooks: { streamWrite: secretScrubber(config.secrets) },
    },
    // Written asynchronously (the request does not wait for stdout), line by line so nothing lingers
    // in a buffer; pino flushes what is pending when the process exits.
    pino.destination({ dest: 1, sync: false }),
  );
}

// Global so that nestjs-pino's factory below and the bootstrap's access-log hook both resolve it.
@Global()
@Module({
  providers: [{ provide: ROOT_LOGGER, inject: [APP_CONFIG], useFactory: createRootLogger }],
  exports: [ROOT_LOGGER],
})
class RootLoggerModule {}

@Module({
  imports: [
    RootLoggerModule,
    LoggerModule.forRootAsync({
      inject: [ROOT_LOGGER],
      useFactory: (logger: PinoInstance) => ({
        pinoHttp: { logger },
        // No per-request middleware: it would put every request in an AsyncLocalStorage (promise hooks on
        // every await, a quarter of the webhook path's CPU). The access log is a Fastify hook instead
        // (see access-log.ts); log lines written while handling a request name their own ids.
        forRoutes: [],
      }),
    }),
  ],
})
export class LoggingModule {}
