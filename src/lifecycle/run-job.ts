import { UnrecoverableError, Worker } from 'bullmq';
import { TicketSystemError } from '../tickets/ticket-system.errors';

/** The shared error policy: a 429 pauses the queue without spending an attempt; permanent errors stop. */
export async function runJob<T>(worker: Worker, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TicketSystemError && error.retryAfterMs) {
      await worker.rateLimit(error.retryAfterMs);
      throw Worker.RateLimitError();
    }
    if ((error as { retryable?: boolean }).retryable === false) throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}
