import { Module } from '@nestjs/common';
import { DeliveryStore } from './delivery.store';
import { LinkStore } from './link.store';
import { SessionKeyController } from './session-key.controller';
import { SessionKeyService } from './session-key.service';
import { TicketEventsProcessor } from './ticket-events.processor';

const services = [SessionKeyService, LinkStore, DeliveryStore];
const processors = [TicketEventsProcessor];

/** The ticket → session key use case; its processor runs only where workers run. */
@Module({ providers: services, exports: services })
export class SessionsModule {}

@Module({ imports: [SessionsModule], providers: processors })
export class SessionsWorkerModule {}

/** The synchronous API for in-ticket buttons (api role). */
@Module({ imports: [SessionsModule], controllers: [SessionKeyController] })
export class SessionsApiModule {}
