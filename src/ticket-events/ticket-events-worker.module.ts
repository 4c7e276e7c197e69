import { Module } from '@nestjs/common';
import { CobrowseModule } from '../cobrowse/cobrowse.module';
import { SessionsModule } from '../sessions/sessions.module';
import { TicketEventsProcessor } from './ticket-events.processor';
import { TicketWritesProcessor } from './ticket-writes.processor';

/** The ticket-events processor (session keys, co-browse, Jump) and the keys' write-backs; only where workers run. */
@Module({ imports: [SessionsModule, CobrowseModule], providers: [TicketEventsProcessor, TicketWritesProcessor] })
export class TicketEventsWorkerModule {}
