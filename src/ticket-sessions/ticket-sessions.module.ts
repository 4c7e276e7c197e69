import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { CobrowseModule } from '../cobrowse/cobrowse.module';
import { SessionEndModule } from '../session-end/session-end.module';
import { SessionsModule } from '../sessions/sessions.module';
import { TicketSessionsController } from './ticket-sessions.controller';
import { TicketSessionsService } from './ticket-sessions.service';

/** What in-ticket apps read and start (api role): the ticket's sessions view, Jump and co-browse from the ticket. */
@Module({
  imports: [SessionsModule, SessionEndModule, CobrowseModule, ChatModule],
  providers: [TicketSessionsService],
  controllers: [TicketSessionsController],
})
export class TicketSessionsApiModule {}
