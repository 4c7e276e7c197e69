import { Job, UnrecoverableError, Worker } from 'bullmq';

/**
 * What a failure says about itself, read by shape so that no module below `jobs/` needs to know this one:
 * `retryable: false` is permanent (a 4xx, a refused callback URL); `retryAfterMs` is a vendor's
 * Retry-After (a 429), which pauses the queue without spending an attempt.
 */
export interface FailureFacts {
  retryable?: boolean;
  retryAfterMs?: number;
}

export const isPermanent = (error: unknown): boolean => (error as FailureFacts | undefined)?.retryable === false;

/**
 * The one failure policy every processor runs under: a Retry-After pauses the queue without spending an
 * attempt; permanent errors stop at once; anything else is retried with the queue's backoff.
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
    const retryAfterMs = (error as FailureFacts | undefined)?.retryAfterMs;
    if (typeof retryAfterMs === 'number' && retryAfterMs > 0) {
      await worker.rateLimit(retryAfterMs);
      throw Worker.RateLimitError();
    }
    const permanent = isPermanent(error);
    if (giveUp && (permanent || giveUp.job.attemptsMade + 1 >= (giveUp.job.opts.attempts ?? 1))) await giveUp.onGiveUp(error as Error);
    if (permanent) throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}
