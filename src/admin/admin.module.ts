import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ReportingModule } from '../reporting/reporting.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AdminQueuesController } from './admin-queues.controller';
import { StatusController } from './status.controller';

@Module({ imports: [DiscoveryModule, SessionsModule, ReportingModule], controllers: [StatusController, AdminQueuesController] })
export class AdminModule {}
