import { Job, UnrecoverableError, Worker } from 'bullmq';
import { StalledOutHandler, TrackedWorker } from '../lifecycle/tracked-worker';

/**
 * What a failure says about itself, read by shape so that no module below `jobs/` needs to know this one:
 * `retryable: false` is permanent (a 4xx, a refused callback URL); `retryAfterMs` is a vendor's
 * Retry-After (a 429), which pauses the queue without spending an attempt.
 */
export interface FailureFacts {
  retryable?: boolean;
  retryAfterMs?: number;
}

/** A line in the job's log (Bull Board's Logs tab); a log that cannot be written never fails the job. */
export const jobLog = (job: Job | undefined, line: string): Promise<unknown> =>
  job ? job.log(`${new Date().toISOString()} ${line}`).catch(() => undefined) : Promise.resolve();

export const isPermanent = (error: unknown): boolean => (error as FailureFacts | undefined)?.retryable === false;

/**
 * The one failure policy every processor runs under: a Retry-After pauses the queue without spending an
 * attempt; permanent errors stop at once; anything else is retried with the queue's backoff.
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
    const retryAfterMs = (error as FailureFacts | undefined)?.retryAfterMs;
    if (typeof retryAfterMs === 'number' && retryAfterMs > 0) {
      await jobLog(job, `${(error as Error).message}: the queue waits ${Math.ceil(retryAfterMs / 1000)} s (Retry-After); no attempt spent`);
      await worker.rateLimit(retryAfterMs);
      throw Worker.RateLimitError();
    }
    const permanent = isPermanent(error);
    const last = permanent || (job !== undefined && job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
    await jobLog(job, `attempt ${(job?.attemptsMade ?? 0) + 1} failed${last ? ' for good' : ', will retry'}: ${(error as Error).message}`);
    if (giveUp?.onGiveUp && last) await giveUp.onGiveUp(error as Error);
    if (permanent) throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}

/**
 * The same give-up handling for a job BullMQ fails because its workers kept dying under it (more than
 * MAX_STALLED_COUNT times): such a job is failed without reaching the processor, hence without runJob.
 * Every processor's worker is a TrackedWorker (BullModule.workerClass); anything else is a wiring mistake.
 */
export function onStalledOut(worker: Worker, giveUp: StalledOutHandler): void {
  if (!(worker instanceof TrackedWorker))
    throw new Error(`the ${worker.name} worker is not a TrackedWorker: a stalled-out job would skip its give-up`);
  worker.stalledOut = giveUp;
}
