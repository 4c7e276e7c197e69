import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { CobrowseOutcome, CobrowseService } from '../cobrowse/cobrowse.service';
import { JumpOutcome, JumpService } from '../cobrowse/jump.service';
import { runJob } from '../lifecycle/run-job';
import { TicketEventJob, QUEUES } from '../queues';
import { SessionKeyService, SessionKeyOutcome } from './session-key.service';

/** Thin: job in, the use case its action names, outcome out. Permanent failures stop retrying; a 429 waits. */
@Processor(QUEUES.ticketEvents)
export class TicketEventsProcessor extends WorkerHost {
  constructor(
    private readonly sessions: SessionKeyService,
    private readonly cobrowse: CobrowseService,
    private readonly jump: JumpService,
  ) {
    super();
  }

  process(job: Job<TicketEventJob>): Promise<SessionKeyOutcome | CobrowseOutcome | JumpOutcome> {
    const event = job.data;
    return runJob<SessionKeyOutcome | CobrowseOutcome | JumpOutcome>(this.worker, () => {
      if (event.action === 'cobrowse.requested') return this.cobrowse.handle(event);
      if (event.action === 'jump.requested') return this.jump.handle(event);
      return this.sessions.handle(event);
    });
  }
}
