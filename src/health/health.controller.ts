import { Controller, Get, HttpStatus, Inject, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { ApiError } from '../http/api-error';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { RedisHealthIndicator } from './redis.health';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisHealthIndicator,
    private readonly shutdown: ShutdownState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Liveness: the process answers. Never depends on Redis, or a Redis outage would restart every pod. */
  @Get('healthz')
  liveness() {
    return { status: 'ok' };
  }

  /** Readiness: Redis answers, configuration is loaded, and the process is not shutting down. */
  @Get('readyz')
  async readiness(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.redis.check(),
        () => this.indicators.check('config').up({ role: this.config.env.RSB_ROLE }),
        () =>
          this.shutdown.stopping
            ? this.indicators.check('lifecycle').down({ message: 'shutting down' })
            : this.indicators.check('lifecycle').up(),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      const failing = Object.keys(result.error ?? {});
      throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'not_ready', `Not ready: ${failing.join(', ')}`, result);
    }
  }
}
