import { Job, UnrecoverableError, Worker } from 'bullmq';
import { TicketSystemError } from '../tickets/ticket-system.errors';

/** A line in the job's log (Bull Board's Logs tab); a log that cannot be written never fails the job. */
export const jobLog = (job: Job | undefined, line: string): Promise<unknown> =>
  job ? job.log(`${new Date().toISOString()} ${line}`).catch(() => undefined) : Promise.resolve();

/**
 * The shared error policy: a 429 pauses the queue without spending an attempt; permanent errors stop.
 * `onGiveUp` runs once the job fails for good (a permanent error, or its last attempt), before it does:
 * where the ticket is known, the failure lands on it. With the job, why it waits goes to its log.
 */
export async function runJob<T>(
  worker: Worker,
  work: () => Promise<T>,
  giveUp?: { job: Job; onGiveUp?: (error: Error) => Promise<void> },
): Promise<T> {
  const job = giveUp?.job;
  try {
    return await work();
  } catch (error) {
    if (error instanceof TicketSystemError && error.retryAfterMs) {
      await jobLog(job, `${error.message}: the queue waits ${Math.ceil(error.retryAfterMs / 1000)} s (Retry-After); no attempt spent`);
      await worker.rateLimit(error.retryAfterMs);
      throw Worker.RateLimitError();
    }
    const permanent = (error as { retryable?: boolean }).retryable === false;
    const last = permanent || (job !== undefined && job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
    await jobLog(job, `attempt ${(job?.attemptsMade ?? 0) + 1} failed${last ? ' for good' : ', will retry'}: ${(error as Error).message}`);
    if (giveUp?.onGiveUp && last) await giveUp.onGiveUp(error as Error);
    if (permanent) throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}
