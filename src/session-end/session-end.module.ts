import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QUEUES } from '../jobs/queues';
import { SessionsModule } from '../sessions/sessions.module';
import { KeyExpiryService } from './key-expiry.service';
import { SessionPoller } from './poller.service';
import { NoteRecordings } from './note-recordings';
import { RecordingTransferService } from './recording-transfer.service';
import { OutboundEventsService } from './outbound-events.service';
import { PollScheduler, RecordingsProcessor, SessionEndProcessor, SessionPollProcessor } from './session-end.processors';
import { ReportBatcher } from './report-batcher';
import { ResyncController } from './resync.controller';
import { SessionEndQueue } from './session-end.queue';
import { SessionEndService } from './session-end.service';
import { ArtifactStore, SessionStateStore } from './session-stores';
import { TicketResolver } from './ticket-resolver';
import { TicketSessionsStore } from './ticket-sessions.store';

const queues = BullModule.registerQueue({ name: QUEUES.sessionEnd }, { name: QUEUES.recordings }, { name: QUEUES.sessionPoll });
const services = [
  SessionEndQueue,
  SessionEndService,
  ReportBatcher,
  RecordingTransferService,
  NoteRecordings,
  SessionPoller,
  KeyExpiryService,
  TicketResolver,
  ArtifactStore,
  SessionStateStore,
  TicketSessionsStore,
  OutboundEventsService,
];

/** Flow 2, session end → ticket: detection (events, poll), the pull, recordings. */
@Module({ imports: [queues, SessionsModule], providers: services, exports: [...services, queues] })
export class SessionEndModule {}

@Module({ imports: [SessionEndModule], providers: [SessionEndProcessor, RecordingsProcessor, SessionPollProcessor, PollScheduler] })
export class SessionEndWorkerModule {}

@Module({ imports: [SessionEndModule], controllers: [ResyncController] })
export class SessionEndApiModule {}
