import { Controller, Get, HttpStatus, Inject, Query, ServiceUnavailableException } from '@nestjs/common';
import { Check, DoctorService } from '../doctor/doctor.service';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ref } from '../http/api-docs';
import { HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { ApiError } from '../common/api-error';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('probes')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisHealthIndicator,
    private readonly shutdown: ShutdownState,
    private readonly doctor: DoctorService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Liveness: the process answers. Never depends on Redis, or a Redis outage would restart every pod. */
  @ApiOperation({ summary: 'Liveness: the process answers', security: [] })
  @ApiResponse({
    status: 200,
    description: 'Alive',
    content: { 'application/json': { schema: ref('Liveness'), example: { status: 'ok' } } },
  })
  @Get('healthz')
  liveness() {
    return { status: 'ok' };
  }

  /** Readiness: Redis answers, configuration is loaded, and the process is not shutting down. */
  @ApiOperation({ summary: 'Readiness: Redis answers, configuration loaded, not shutting down', security: [] })
  @ApiQuery({ name: 'verbose', required: false, description: "1: add the doctor's cheap checks", schema: { type: 'string', enum: ['1'] } })
  @ApiResponse({
    status: 200,
    description: 'Ready',
    content: {
      'application/json': {
        schema: ref('Readiness'),
        example: { status: 'ok', info: { redis: { status: 'up' } }, error: {}, details: { redis: { status: 'up' } } },
      },
    },
  })
  @ApiErrors({ 503: 'Not ready (details in error.details), or shutting down' })
  @Get('readyz')
  async readiness(@Query('verbose') verbose?: string): Promise<HealthCheckResult & { checks?: Check[] }> {
    const result = await this.ready();
    // ?verbose=1: the doctor's checks that are cheap enough for a probe, with their fixes.
    return verbose === '1' ? { ...result, checks: await this.doctor.run({ cheap: true }) } : result;
  }

  private async ready(): Promise<HealthCheckResult> {
    try {
      const result = await this.health.check([
        () => this.redis.check(),
        () => this.indicators.check('config').up({ role: this.config.env.RSB_ROLE }),
        () =>
          this.shutdown.stopping
            ? this.indicators.check('lifecycle').down({ message: 'shutting down' })
            : this.indicators.check('lifecycle').up(),
      ]);
      this.shutdown.lastReady = true;
      return result;
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      // Terminus learns of the shutdown in its own hook, which may run a moment before ours.
      if (result.status === 'shutting_down' && !result.error?.lifecycle) {
        const lifecycle = { status: 'down' as const, message: 'shutting down' };
        result.error = { ...result.error, lifecycle };
        result.details = { ...result.details, lifecycle };
        delete result.info?.lifecycle;
      } else if (!this.shutdown.stopping) this.shutdown.lastReady = false;
      const failing = Object.keys(result.error ?? {});
      throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'not_ready', `Not ready: ${failing.join(', ')}`, result);
    }
  }
}
