import { Controller, Get, Inject } from '@nestjs/common';
import { ApiCall } from '../http/api-docs';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { VERSION } from '../version';
import { ApiAuth } from '../http/api-token.guard';

/** Lets an integrator check a token and see which deployment answers, before wiring a ticket system. */
@ApiAuth()
@Controller('api/v1/status')
export class StatusController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @ApiCall('admin', 'Check a token and see which deployment answers', {
    status: 200,
    description: 'This deployment',
    schema: 'Status',
    example: { service: 'rs-bridge', version: '0.1.0', role: 'all', redisPrefix: 'rsb', uptimeSeconds: 42 },
  })
  @Get()
  status() {
    return {
      service: 'rs-bridge',
      version: VERSION,
      role: this.config.env.RSB_ROLE,
      redisPrefix: this.config.env.RSB_REDIS_PREFIX,
      uptimeSeconds: Math.round(process.uptime()),
    };
  }
}
