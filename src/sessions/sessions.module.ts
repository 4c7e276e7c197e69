import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QUEUES } from '../jobs/queues';
import { DeliveryStore } from './delivery.store';
import { JumpService } from './jump.service';
import { LinkStore } from './link.store';
import { SessionKeyController } from './session-key.controller';
import { SessionKeyApiService } from './session-key-api.service';
import { SessionKeyService } from './session-key.service';

const services = [SessionKeyService, LinkStore, DeliveryStore, JumpService];

/** The ticket → session key use case; its processors run only where workers run. */
@Module({ imports: [BullModule.registerQueue({ name: QUEUES.ticketWrites })], providers: services, exports: services })
export class SessionsModule {}

/** The synchronous API for in-ticket buttons (api role). */
@Module({ imports: [SessionsModule], controllers: [SessionKeyController], providers: [SessionKeyApiService] })
export class SessionsApiModule {}
