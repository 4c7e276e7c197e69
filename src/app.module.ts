import { DynamicModule, Module, ModuleMetadata, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE, DiscoveryModule } from '@nestjs/core';
import { SessionEndApiModule, SessionEndWorkerModule } from './session-end/session-end.module';
import { AdminModule } from './admin/admin.module';
import { ChatApiModule, ChatWorkerModule } from './chat/chat.module';
import { CobrowseApiModule } from './cobrowse/cobrowse.module';
import { BeyondTrustModule } from './beyondtrust/beyondtrust.module';
import { ConfigModule } from './config/config.module';
import { AppConfig } from './config/load-config';
import { JobsModule } from './jobs/jobs.module';
import { ProcessorCheck } from './jobs/processor-check';
import { HealthModule } from './health/health.module';
import { ApiTokenGuard } from './http/api-token.guard';
import { ErrorFilter } from './http/error.filter';
import { validationPipeError } from './common/validated-body';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';
import { SessionsApiModule } from './sessions/sessions.module';
import { TicketEventsWorkerModule } from './ticket-events/ticket-events-worker.module';
import { TicketsModule } from './tickets/tickets.module';
import { TicketSessionsApiModule } from './ticket-sessions/ticket-sessions.module';
import { WebhooksModule } from './webhooks/webhooks.module';

type Imports = NonNullable<ModuleMetadata['imports']>;

export interface AppModuleOptions {
  /** Modules serving webhooks and /api/v1 (roles api and all). */
  apiModules?: Imports;
  /** Modules holding queue processors and schedulers (roles worker and all). */
  workerModules?: Imports;
}

/** Modules every role needs: configuration, logs, Redis, probes, orderly shutdown. */
const infrastructure = (config: AppConfig): Imports => [
  ConfigModule.forRoot(config),
  LoggingModule,
  RedisModule,
  JobsModule,
  LifecycleModule,
  HealthModule,
  MetricsModule,
  BeyondTrustModule,
  TicketsModule,
];

/** The features, by role. Later flows add their modules to these two lists. */
const apiModules: Imports = [
  AdminModule,
  WebhooksModule,
  SessionsApiModule,
  SessionEndApiModule,
  CobrowseApiModule,
  ChatApiModule,
  TicketSessionsApiModule,
];
const workerModules: Imports = [TicketEventsWorkerModule, SessionEndWorkerModule, ChatWorkerModule];

/** Worker role: every queue of the catalogue has exactly one processor, or the worker does not boot. */
@Module({ imports: [DiscoveryModule], providers: [ProcessorCheck] })
class ProcessorCheckModule {}

@Module({})
export class AppModule {
  /**
   * The role decides which modules exist at all: an `api` process creates no BullMQ worker (so it holds
   * no blocking Redis connection), a `worker` process serves no webhook or API route, only the probes.
   */
  static forRoot(config: AppConfig, extra: AppModuleOptions = {}): DynamicModule {
    const role = config.env.RSB_ROLE;
    const servesApi = role === 'api' || role === 'all';
    const runsWorkers = role === 'worker' || role === 'all';
    return {
      module: AppModule,
      imports: [
        // The API guard reads every controller at boot to refuse an /api/ controller without @ApiAuth().
        DiscoveryModule,
        ...infrastructure(config),
        ...(servesApi ? [...apiModules, ...(extra.apiModules ?? [])] : []),
        ...(runsWorkers ? [...workerModules, ProcessorCheckModule, ...(extra.workerModules ?? [])] : []),
      ],
      providers: [
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_GUARD, useClass: ApiTokenGuard },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            transform: true,
            // The target names the DTO, hence the kind of body (BodyName); the answer never carries it.
            validationError: { target: true, value: false },
            exceptionFactory: validationPipeError,
          }),
        },
      ],
    };
  }
}
