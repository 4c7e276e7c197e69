import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DoctorService } from '../doctor/doctor.service';
import { UpscopeModule } from '../upscope/upscope.module';
import { HealthController } from './health.controller';
import { RedisHealthIndicator } from './redis.health';

const controllers = [HealthController];
const indicators = [RedisHealthIndicator];

@Module({
  // Failed checks are reported in the answer and logged on change by the indicators, not per probe.
  imports: [TerminusModule.forRoot({ logger: false }), UpscopeModule],
  controllers,
  providers: [...indicators, DoctorService],
})
export class HealthModule {}
