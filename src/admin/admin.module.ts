import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SessionEndModule } from '../session-end/session-end.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AdminQueuesController } from './admin-queues.controller';
import { AdminService } from './admin.service';
import { StatusController } from './status.controller';

@Module({
  imports: [DiscoveryModule, SessionsModule, SessionEndModule],
  controllers: [StatusController, AdminQueuesController],
  providers: [AdminService],
})
export class AdminModule {}
