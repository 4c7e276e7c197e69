import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/load-config';
import { VERSION } from '../version';
import { ApiAuth } from '../http/api-token.guard';

/** Lets an integrator check a token and see which deployment answers, before wiring a ticket system. */
@ApiTags('admin')
@ApiAuth()
@Controller('api/v1/status')
export class StatusController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

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
