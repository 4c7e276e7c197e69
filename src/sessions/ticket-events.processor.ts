import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { TicketEventJob, QUEUES } from '../queues';
import { TicketSystemError } from '../tickets/ticket-system.errors';
import { SessionKeyService, SessionKeyOutcome } from './session-key.service';

/** Thin: job in, use case, outcome out. Permanent failures stop retrying; a 429 waits Retry-After. */
@Processor(QUEUES.ticketEvents)
export class TicketEventsProcessor extends WorkerHost {
  constructor(private readonly sessions: SessionKeyService) {
    super();
  }

  async process(job: Job<TicketEventJob>): Promise<SessionKeyOutcome> {
    try {
      return await this.sessions.handle(job.data);
    } catch (error) {
      if (error instanceof TicketSystemError && error.retryAfterMs) {
        // The ticket system asked us to wait: pause this queue's worker without spending an attempt.
        await this.worker.rateLimit(error.retryAfterMs);
        throw Worker.RateLimitError();
      }
      if ((error as { retryable?: boolean }).retryable === false) throw new UnrecoverableError((error as Error).message);
      throw error;
    }
  }
}
