import { Module } from '@nestjs/common';
import { CobrowseModule } from '../cobrowse/cobrowse.module';
import { SessionsModule } from '../sessions/sessions.module';
import { TicketEventsProcessor } from './ticket-events.processor';

/** The ticket-events processor (session keys, co-browse, Jump); only where workers run. */
@Module({ imports: [SessionsModule, CobrowseModule], providers: [TicketEventsProcessor] })
export class TicketEventsWorkerModule {}
