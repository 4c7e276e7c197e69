import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { runJob } from '../lifecycle/run-job';
import { TicketEventJob, QUEUES } from '../queues';
import { SessionKeyService, SessionKeyOutcome } from './session-key.service';

/** Thin: job in, use case, outcome out. Permanent failures stop retrying; a 429 waits Retry-After. */
@Processor(QUEUES.ticketEvents)
export class TicketEventsProcessor extends WorkerHost {
  constructor(private readonly sessions: SessionKeyService) {
    super();
  }

  process(job: Job<TicketEventJob>): Promise<SessionKeyOutcome> {
    return runJob(this.worker, () => this.sessions.handle(job.data));
  }
}
