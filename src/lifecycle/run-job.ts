import { Job, UnrecoverableError, Worker } from 'bullmq';
import { TicketSystemError } from '../tickets/ticket-system.errors';

/**
 * The shared error policy: a 429 pauses the queue without spending an attempt; permanent errors stop.
 * `onGiveUp` runs once the job fails for good (a permanent error, or its last attempt), before it does:
 * where the ticket is known, the failure lands on it.
 */
export async function runJob<T>(
  worker: Worker,
  work: () => Promise<T>,
  giveUp?: { job: Job; onGiveUp: (error: Error) => Promise<void> },
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TicketSystemError && error.retryAfterMs) {
      await worker.rateLimit(error.retryAfterMs);
      throw Worker.RateLimitError();
    }
    const permanent = (error as { retryable?: boolean }).retryable === false;
    if (giveUp && (permanent || giveUp.job.attemptsMade + 1 >= (giveUp.job.opts.attempts ?? 1))) await giveUp.onGiveUp(error as Error);
    if (permanent) throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}
