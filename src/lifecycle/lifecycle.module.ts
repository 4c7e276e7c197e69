import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BullmqErrorLogger } from './bullmq-error.logger';
import { JobFailureLogger } from './job-failure.logger';
import { ShutdownCoordinator } from './shutdown.coordinator';
import { ShutdownState } from './shutdown-state';
import { StallWatchdog } from './stall-watchdog';

@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [ShutdownState, ShutdownCoordinator, BullmqErrorLogger, JobFailureLogger, StallWatchdog],
  exports: [ShutdownState],
})
export class LifecycleModule {}
